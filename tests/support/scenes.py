"""Scenes for tests that run real workers against a database and a broker of their own: the
API in-process (its outbox published directly, as the relay would), a test LLM that holds its
answers until released, and what the test reads back from the database and the broker."""
from __future__ import annotations

import hashlib
import threading

import psycopg2
from flask_jwt_extended import decode_token
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api import create_app
from models import ExtractionStatus, Resume, db
from models.mixins import utcnow
from services.outbox import ConfirmedBatchPublisher, publish_pending
from tests.support.fake_llm import FakeLLM, Script, make_handler

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

    def next_fault(self, user_message: str = "") -> str | None:
        fault = super().next_fault(user_message)
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

    def __init__(self, env: dict, rabbit=None) -> None:
        self.app = create_app(env)
        self.client = self.app.test_client()
        self.rabbit = rabbit
        self.engine = create_engine(env["DATABASE_URL"])

    def close(self) -> None:
        """Give back every database connection (the test then drops its database)."""
        self.engine.dispose()
        with self.app.app_context():
            db.engine.dispose()

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
        counts = self.rabbit.queue_counts()  # a bench.chaos.DisposableRabbit
        return sum(ready + unacked for ready, unacked in counts.values())  # the node is the test's own
