"""A threads-pool worker keeps consuming after RabbitMQ restarts under it (issue 14).

The stall this guards against: with tasks running at the disconnect, Celery lowers the prefetch
on reconnect and restores it from each ack's callback, which on ``-P threads`` ran on a pool
thread and sent ``basic.qos`` on the connection the event loop was reading. py-amqp is not
thread-safe: the loop wedged, no heartbeats went out, acks were lost, and the worker consumed
nothing until the broker dropped it for missed heartbeats (tasks/consumer.py has the fix).

The scene: a real analysis worker (``-P threads -c 16``) on a RabbitMQ node of the test's own,
all 16 threads busy inside an LLM call (the test LLM holds its answers until the
test releases them), the node restarted, the answers released once the worker has reconnected, then more
work published. Every job must succeed, each run to success once and paid for once, with
nothing left in any queue, within a few seconds of the broker being back: well before the
heartbeat timeout (``broker_heartbeat`` 10 s; the broker drops a silent connection after two
missed beats) could have unwedged a stalled worker.

The prefetch reduction that led to the stall is Celery's for classic queues only: on quorum
queues (per-consumer QoS) it skips it, and all 16 redelivered messages come back at once. The
test checks the same outcome either way; with quorum queues it also catches a redelivered
message re-running a job whose first attempt is still in flight on another thread.

Isolation: its own RabbitMQ node (``stall-test@localhost``, ports 5693/25693, a temporary data
directory) and its own database on the shared PostgreSQL, dropped at the end; the shared
RabbitMQ on 5672 is never touched.
"""
from __future__ import annotations

import collections
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
import pytest
from flask_jwt_extended import decode_token
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import celeryconfig
from api import create_app
from bench.chaos import DisposableRabbit, system_env
from models import ExtractionStatus, Resume, db
from models.mixins import utcnow
from services.database_admin import ensure_database
from services.outbox import ConfirmedBatchPublisher, publish_pending
from tests.support import stack
from tests.support.fake_llm import FakeLLM, Script, make_handler

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("rabbitmq-server"),
    reason="needs root and rabbitmq-server to start a disposable RabbitMQ node",
)

NODE = "stall-test@localhost"
AMQP_PORT = 5693  # 5680-5682 belong to the chaos suites
DIST_PORT = 25693
DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/applytrack_broker_stall_test"
BUSY = 16  # the worker's threads, each inside an LLM call when the broker goes
AFTER = 8  # analyses asked for once the broker is back
# From the broker being back to every job done and every queue empty. A wedged worker stays
# wedged until the broker drops it for missed heartbeats, 20 s or more after the restart.
RESUMED_WITHIN = 10.0
# The worker's log is kept after the run (the last run's only), for reading what happened.
LOG_DIR = Path(__file__).resolve().parents[1] / "var" / "broker-stall-logs"
RESUME_TEXT = ("Jane Doe, backend engineer. Six years of Python, Flask and PostgreSQL; built task queues "
               "on Celery and RabbitMQ; Docker, Kubernetes, AWS. BSc Computer Science.")
LISTING = {"company": "Acme Robotics", "title": "Backend Engineer",
           "description": "We need a backend engineer with Python, Flask, PostgreSQL, Celery and RabbitMQ."}


class HeldScript(Script):
    """The test LLM's script, answering only once ``release`` is set: the worker's threads stay
    inside their LLM calls for exactly as long as the test needs them busy."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def next_fault(self) -> str | None:
        fault = super().next_fault()
        self.release.wait(120)
        return fault


def held_llm() -> FakeLLM:
    llm = FakeLLM()
    llm.script = HeldScript()
    llm.server.RequestHandlerClass = make_handler(llm.script)
    return llm


def drop_database(url: str) -> None:
    target = make_url(url)
    assert target.database.endswith("_test")
    connection = psycopg2.connect(target.set(drivername="postgresql", database="postgres")
                                  .render_as_string(hide_password=False))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    finally:
        connection.close()


class Scene:
    """The API in-process (asks for analyses, its outbox published directly), and what the test
    reads back: job rows from the database, message counts from the broker."""

    def __init__(self, env: dict, rabbit: DisposableRabbit) -> None:
        self.app = create_app(env)
        self.client = self.app.test_client()
        self.rabbit = rabbit
        self.engine = create_engine(env["DATABASE_URL"])

    def migrate(self) -> None:
        from flask_migrate import upgrade

        with self.app.app_context():
            upgrade()

    def user_with_resume_and_listing(self) -> tuple[dict, str, str]:
        """A user, a listing (through the API) and a resume whose text is already extracted
        (inserted: extraction is another worker's business)."""
        email, password = "stall@example.com", "a-long-enough-passphrase"
        assert self.client.post("/api/auth/register", json={"email": email, "password": password}).status_code == 201
        token = self.client.post("/api/auth/login", json={"email": email, "password": password}).json["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        listing = self.client.post("/api/jobs", json=LISTING, headers=headers)
        assert listing.status_code == 201, listing.json
        with self.app.app_context():
            resume = Resume(user_id=decode_token(token)["sub"], name="Resume", file_kind="text",
                            content_type="text/plain", size_bytes=len(RESUME_TEXT),
                            sha256=hashlib.sha256(RESUME_TEXT.encode()).hexdigest(),
                            extraction_status=ExtractionStatus.SUCCEEDED.value, text=RESUME_TEXT,
                            word_count=len(RESUME_TEXT.split()), extracted_at=utcnow())
            db.session.add(resume)
            db.session.commit()
            resume_id = str(resume.id)
        return headers, resume_id, listing.json["id"]

    def ask_for_analyses(self, count: int, headers: dict, resume_id: str, listing_id: str) -> list[str]:
        """``count`` analyses through the API, then the outbox published as the relay would."""
        job_ids = []
        for _ in range(count):
            response = self.client.post(f"/api/resumes/{resume_id}/analyze", headers=headers,
                                        json={"job_id": listing_id, "force": True})
            assert response.status_code == 202, response.json
            job_ids.append(response.json["background_job_id"])
        with self.app.app_context():
            publisher = ConfirmedBatchPublisher(self.app.extensions["celery"])
            try:
                assert publish_pending(publisher) == count
            finally:
                publisher.close()
        return job_ids

    def jobs(self, job_ids: list[str]) -> dict[str, tuple[str, int]]:
        with self.engine.connect() as connection:
            rows = connection.execute(text("SELECT id::text, state, attempts FROM background_jobs "
                                           "WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": job_ids})
            return {row[0]: (row[1], row[2]) for row in rows}

    def analyses_with_results(self, job_ids: list[str]) -> int:
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM analyses WHERE job_id = ANY(CAST(:ids AS uuid[])) "
                                           "AND result IS NOT NULL"), {"ids": job_ids}).scalar_one()

    def messages_left(self) -> int:
        """Ready or unacked messages in any queue of the node (work queues and dead letters)."""
        counts = self.rabbit.queue_counts()
        return sum(ready + unacked for ready, unacked in counts.values())  # the node is the test's own


def successful_runs(worker: stack.ManagedProcess) -> collections.Counter:
    """How many times each job's work ran to success, from the worker's JSON log."""
    runs: collections.Counter = collections.Counter()
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if '"outcome": "ok"' in line:
            record = json.loads(line)
            if record.get("message", "").startswith("job finished"):
                runs[record["job_id"]] += 1
    return runs


def log_count(worker: stack.ManagedProcess, marker: str) -> int:
    return worker.log_path.read_text(errors="replace").count(marker)


def test_threads_worker_resumes_at_once_after_a_broker_restart_with_every_thread_busy():
    base = Path(tempfile.mkdtemp(prefix="applytrack-stall-"))
    base.chmod(0o755)  # the rabbitmq user reaches its directory inside
    rabbit = DisposableRabbit(base, AMQP_PORT, DIST_PORT, NODE)
    llm = held_llm()
    worker = scene = None
    try:
        drop_database(DATABASE_URL)  # what a killed earlier run may have left
        ensure_database(DATABASE_URL)
        rabbit.create()
        llm.start()
        env = {**system_env(DATABASE_URL, rabbit.url, llm.base_url, base / "storage"),
               "LLM_TIMEOUT": "120", "LLM_MAX_CONCURRENCY": str(BUSY), "LOG_LEVEL": "INFO"}
        scene = Scene(env, rabbit)
        scene.migrate()
        headers, resume_id, listing_id = scene.user_with_resume_and_listing()
        shutil.rmtree(LOG_DIR, ignore_errors=True)
        LOG_DIR.mkdir(parents=True)
        worker = stack.worker(env, LOG_DIR, queues=celeryconfig.task_routes["analysis.*"]["queue"], pool="threads",
                              concurrency=BUSY, name="stall-analysis").start(timeout=60)

        busy = scene.ask_for_analyses(BUSY, headers, resume_id, listing_id)
        # Every thread busy inside an LLM call (an analysis holds no database connection during
        # the call, so the engine's pool of 5 + 10 does not cap them at 15).
        stack.wait_until(lambda: llm.script.requests == BUSY and log_count(worker, "] received") == BUSY,
                         timeout=30, what=f"{BUSY} tasks received, {BUSY} LLM calls in flight")

        connected = log_count(worker, "Connected to amqp")
        rabbit.stop()
        rabbit.start()
        back = time.monotonic()
        stack.wait_until(lambda: log_count(worker, "Connected to amqp") > connected, timeout=RESUMED_WITHIN,
                         interval=0.1, what="the worker to reconnect")
        time.sleep(1)  # the reconnected consumer receives redeliveries while every thread is still busy
        llm.script.release.set()
        after = scene.ask_for_analyses(AFTER, headers, resume_id, listing_id)
        every = busy + after

        def all_done() -> bool:
            jobs = scene.jobs(every)
            return all(state == "succeeded" for state, _ in jobs.values()) and scene.messages_left() == 0

        try:
            stack.wait_until(all_done, timeout=RESUMED_WITHIN, interval=0.2,
                             what="every job done and every queue empty after the restart")
        except AssertionError:
            states = collections.Counter(state for state, _ in scene.jobs(every).values())
            raise AssertionError(f"not resumed {RESUMED_WITHIN} s after the broker was back: jobs {dict(states)}, "
                                 f"queues {rabbit.queue_counts()}\n{worker.tail(30)}") from None
        resumed = time.monotonic() - back
        print(f"\nbroker back -> every job done and queues empty: {resumed:.1f} s")

        # Exactly once in effect: one stored result each, no job's work run to success twice
        # (a redelivered message of a finished job is dropped by its claim), one LLM call each.
        assert scene.analyses_with_results(every) == len(every)
        runs = successful_runs(worker)
        assert [runs[job_id] for job_id in every] == [1] * len(every), runs
        assert llm.script.requests == len(every), "an LLM call was paid twice"
        assert scene.messages_left() == 0
    finally:
        llm.script.release.set()
        try:
            if worker is not None:
                worker.stop(timeout=20)
            llm.stop()
            if scene is not None:
                scene.engine.dispose()
                with scene.app.app_context():
                    db.engine.dispose()
        finally:
            try:
                rabbit.destroy()
            finally:
                drop_database(DATABASE_URL)
                shutil.rmtree(base, ignore_errors=True)
