"""The ceilings the API is measured against, served exactly like the API (gunicorn 2 × 8 threads):

- ``GET /trivial``: a JSON constant, what Flask + gunicorn cost with no work at all;
- ``POST /bare-enqueue``: one INSERT and one Celery publish with publisher confirms, the least an
  endpoint that accepts background work durably can do (../shared/QUEUE.md measured ≈ 800 req/s).

And the floors of the stack the API is built on, which no work of ours can go below: the same
libraries doing the least each endpoint needs, with none of the API's own logic or hooks.

- ``GET /floor/analyses/<id>``: flask-smorest + flask-jwt-extended (``jwt_required``, no login
  session lookup), one ORM select of the caller's analysis, dumped with the API's AnalysisSchema;
- ``POST /floor/enqueue``: flask-smorest parsing a JSON body, ``jwt_required``, one ORM INSERT
  and COMMIT of an outbox-style row, a schema-dumped answer (no publish: a relay would do it).

    gunicorn --workers 2 --threads 8 'bench.ceiling_app:create_app()'   (DATABASE_URL, BROKER_URL from the env)
"""
from __future__ import annotations

import os
import uuid

from celery import Celery
from flask import Flask, jsonify
from kombu import Exchange, Queue
from sqlalchemy import create_engine, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

BARE_QUEUE = "bench_bare"
BARE_TABLE = "bench_bare_jobs"


class FloorBase(DeclarativeBase):
    pass


class BareJob(FloorBase):
    """The floor's outbox-style row (the bare endpoint's table)."""

    __tablename__ = BARE_TABLE
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


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

    _add_floors(app)

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


def _add_floors(app: Flask) -> None:
    import marshmallow as ma
    from flask_jwt_extended import JWTManager, get_jwt_identity, jwt_required
    from flask_smorest import Api, Blueprint, abort
    from sqlalchemy import select

    from api.schemas.analyses import AnalysisSchema
    from models import Analysis, db

    app.config.update(
        SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"], SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        JWT_SECRET_KEY=os.environ["JWT_SECRET_KEY"], JWT_ALGORITHM="HS256",
        API_TITLE="floor", API_VERSION="1", OPENAPI_VERSION="3.0.3",
    )
    db.init_app(app)
    JWTManager(app)
    api = Api(app)
    # Named like the API's blueprint and view so that AnalysisSchema's poll_url resolves.
    blp = Blueprint("analyses", __name__, url_prefix="/floor")

    class EnqueueSchema(ma.Schema):
        job_id = ma.fields.UUID(required=True)
        force = ma.fields.Boolean(load_default=False)

    class AcceptedSchema(ma.Schema):
        id = ma.fields.UUID()

    @blp.route("/analyses/<uuid:analysis_id>")
    @blp.response(200, AnalysisSchema)
    @jwt_required()
    def get_analysis(analysis_id):
        analysis = db.session.scalar(
            select(Analysis).where(Analysis.id == analysis_id, Analysis.user_id == uuid.UUID(get_jwt_identity())))
        if analysis is None:
            abort(404)
        return analysis

    @blp.route("/enqueue", methods=["POST"])
    @blp.arguments(EnqueueSchema)
    @blp.response(202, AcceptedSchema)
    @jwt_required()
    def floor_enqueue(_body):
        job = BareJob(id=uuid.uuid4())
        db.session.add(job)
        db.session.commit()
        return job

    api.register_blueprint(blp)
