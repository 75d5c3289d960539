"""The ceilings the API is measured against, served exactly like the API (gunicorn 2 × 8 threads):

- ``GET /trivial``: a JSON constant, what Flask + gunicorn cost with no work at all;
- ``POST /bare-enqueue``: one INSERT and one Celery publish with publisher confirms, the least an
  endpoint that accepts background work durably can do (../shared/QUEUE.md measured ≈ 800 req/s).

    gunicorn --workers 2 --threads 8 'bench.ceiling_app:create_app()'   (DATABASE_URL, BROKER_URL from the env)
"""
from __future__ import annotations

import os
import uuid

from celery import Celery
from flask import Flask, jsonify
from kombu import Exchange, Queue
from sqlalchemy import create_engine, text

BARE_QUEUE = "bench_bare"
BARE_TABLE = "bench_bare_jobs"


def _engine():
    return create_engine(os.environ["DATABASE_URL"], pool_size=8, max_overflow=0)


def create_table() -> None:
    with _engine().begin() as connection:
        connection.execute(text(
            f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id uuid PRIMARY KEY, created_at timestamptz DEFAULT now())"
        ))


def create_app() -> Flask:
    app = Flask(__name__)
    engine = _engine()
    celery = Celery("bench_ceiling", broker=os.environ["BROKER_URL"])
    celery.conf.update(
        broker_transport_options={"confirm_publish": True},
        task_serializer="json",
        task_queues=[Queue(BARE_QUEUE, Exchange(BARE_QUEUE, type="direct"), routing_key=BARE_QUEUE, durable=True)],
        broker_pool_limit=16,
    )

    @app.get("/trivial")
    def trivial():
        return jsonify(ok=True)

    @app.post("/bare-enqueue")
    def bare_enqueue():
        job_id = uuid.uuid4()
        with engine.begin() as connection:
            connection.execute(text(f"INSERT INTO {BARE_TABLE} (id) VALUES (:id)"), {"id": job_id})
        celery.send_task("bench.noop", args=[str(job_id)], task_id=str(job_id), queue=BARE_QUEUE)
        return jsonify(id=str(job_id)), 202

    return app
