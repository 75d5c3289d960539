"""Fixtures: a real PostgreSQL test database (never the development one), migrated once per
session and emptied after every test; a fresh app and HTTP client per test."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api import create_app
from models import db
from services.database_admin import ensure_database
from tests.support import stack
from tests.support.fake_llm import FakeLLM

TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/applytrack_test"
)
# Tables whose rows come from migrations, not from tests.
SEEDED_TABLES = {"application_statuses", "alembic_version"}
PASSWORD = "a-long-enough-passphrase"
# Shared by the API under test and the worker processes it starts.
STORAGE_DIR = Path(tempfile.gettempdir()) / f"applytrack-test-storage-{os.getpid()}"
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
TEST_BROKER_URL = f"amqp://guest:guest@127.0.0.1:5672/{stack.TEST_VHOST}"


def make_test_env() -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # A developer's own settings must not leak in: no real LLM key, no other database.
        if key not in ("DATABASE_URL", "APP_ENV", "JWT_SECRET_KEY", "ANALYZER") and not key.startswith("LLM_")
    }
    env.update(
        APP_ENV="testing",
        DATABASE_URL=TEST_DATABASE_URL,
        JWT_SECRET_KEY="test-secret-" + "x" * 40,
        # Cheap hashing keeps hundreds of registrations fast; production uses the defaults.
        PASSWORD_HASH_TIME_COST="1",
        PASSWORD_HASH_MEMORY_KIB="1024",
        BROKER_URL=TEST_BROKER_URL,
        STORAGE_DIR=str(STORAGE_DIR),
        # Short retry delays and a page limit that a generated slow PDF stays under.
        TASK_MAX_RETRIES="3",
        TASK_RETRY_BACKOFF="0.3",
        TASK_RETRY_BACKOFF_MAX="2",
        RESUME_MAX_PAGES="40",
        OUTBOX_POLL_SECONDS="0.5",
        # Hundreds of registrations come from one address in a run: limits are tested on their own.
        RATE_LIMIT_STORAGE_URL="redis://127.0.0.1:6379/15",
        LOGIN_RATE_LIMIT_PER_ADDRESS="100000 per minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT="100000 per minute",
        REGISTER_RATE_LIMIT_PER_ADDRESS="100000 per minute",
        ANALYSIS_RATE_LIMIT_PER_USER="100000 per minute",
        LOG_LEVEL="INFO",
    )
    return env


@pytest.fixture(scope="session")
def migrated_database():
    from flask_migrate import upgrade

    assert make_url(TEST_DATABASE_URL).database.endswith("_test"), "tests only run against a *_test database"
    ensure_database(TEST_DATABASE_URL)
    app = create_app(make_test_env())
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return TEST_DATABASE_URL


@pytest.fixture
def app(migrated_database):
    app = create_app(make_test_env())
    yield app
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in SEEDED_TABLES]
        _truncate(tables)
        db.engine.dispose()


def _truncate(tables: list[str], attempts: int = 20) -> None:
    """Empty the tables; workers and the relay may still be finishing the last test's jobs and
    hold locks, so a deadlock or lock wait here is retried, not a failure."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(attempts):
        try:
            db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            db.session.commit()
            return
        except OperationalError:
            db.session.rollback()
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    """Registers and logs in users through the API, as a web app would."""

    def __init__(self, client) -> None:
        self.client = client

    def register(self, email: str | None = None, password: str = PASSWORD) -> str:
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
        response = self.client.post("/api/auth/register", json={"email": email, "password": password})
        assert response.status_code == 201, response.json
        return email

    def login(self, email: str, password: str = PASSWORD) -> dict:
        response = self.client.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.json
        return response.json

    def headers(self, email: str | None = None) -> dict:
        """Authorization headers of a new user (or of ``email``, registered already)."""
        tokens = self.login(email or self.register())
        return bearer(tokens["access_token"])


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def user(auth):
    """Authorization headers of a fresh user."""
    return auth.headers()


@pytest.fixture
def job(client, user):
    response = client.post(
        "/api/jobs",
        json={"company": "Acme Robotics", "title": "Backend Engineer", "description": "Python, PostgreSQL"},
        headers=user,
    )
    assert response.status_code == 201
    return response.json


def llm_env(fake_llm) -> dict:
    """Settings that point the analyzer at the local OpenAI-compatible test server."""
    return {"LLM_BASE_URL": fake_llm.base_url, "LLM_API_KEY": "test-key", "LLM_MODEL": "fake-model",
            "LLM_TIMEOUT": "1", "LLM_INVALID_OUTPUT_RETRIES": "1"}


@pytest.fixture(scope="session")
def fake_llm():
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture
def llm(fake_llm):
    """The test LLM, with no latency and no faults scripted at the start of each test."""
    fake_llm.script.control({"latency": 0, "faults": [], "answers": [], "error_rate": 0, "reset_stats": True,
                             "match": None})
    yield fake_llm
    fake_llm.script.control({"latency": 0, "faults": [], "answers": [], "error_rate": 0, "match": None})


@pytest.fixture
def llm_client(migrated_database, fake_llm):
    """An API whose analyses go to the LLM analyzer (the default client's use the local one)."""
    app = create_app({**make_test_env(), **llm_env(fake_llm)})
    return app.test_client()


class Stack:
    """The relay, an extraction worker (prefork), an analysis worker (threads) and a bulk-lane +
    maintenance worker (threads), running as real processes for the whole session. Workers can use the test LLM; which analyzer runs is
    decided by the API when the analysis is requested."""

    def __init__(self, env: dict, log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.relay = stack.relay(env, log_dir)
        self.worker = stack.worker(env, log_dir, name="extraction-main")
        self.analysis_worker = stack.worker(env, log_dir, queues="applytrack.analysis", pool="threads", concurrency=8,
                                            name="analysis-main")
        # The low-priority lane and the periodic tasks have workers of their own.
        self.bulk_worker = stack.worker(env, log_dir, queues="applytrack.analysis_bulk,applytrack.maintenance", pool="threads",
                                        concurrency=4, name="bulk-main", nice=10)

    def processes(self):
        return (self.relay, self.worker, self.analysis_worker, self.bulk_worker)

    def start(self) -> None:
        for process in self.processes():
            process.start()

    def ensure_running(self) -> None:
        """After a test that killed or stopped something: bring it back."""
        for process in self.processes():
            if not process.alive:
                process.start()

    def stop(self) -> None:
        for process in reversed(self.processes()):
            process.stop()


@pytest.fixture(scope="session")
def running_stack(migrated_database, fake_llm, tmp_path_factory):
    stack.reset_vhost()
    log_dir = tmp_path_factory.mktemp("process-logs")
    processes = Stack({**make_test_env(), **llm_env(fake_llm)}, log_dir)
    try:
        processes.start()
        yield processes
    finally:
        processes.stop()
        shutil.rmtree(STORAGE_DIR, ignore_errors=True)


@pytest.fixture
def workers(running_stack):
    """Relay and worker up for this test, and up again after it whatever it did to them."""
    running_stack.ensure_running()
    yield running_stack
    running_stack.ensure_running()



def upload(client, headers, data: bytes, filename: str = "resume.pdf", content_type: str | None = None, **form):
    """POST /api/resumes as a browser would (multipart)."""
    import io

    file_part = (io.BytesIO(data), filename, content_type) if content_type else (io.BytesIO(data), filename)
    return client.post("/api/resumes", data={"file": file_part, **form}, headers=headers,
                       content_type="multipart/form-data")


def wait_for_extraction(client, headers, resume_id: str, *, timeout: float = 60) -> dict:
    """Poll GET /api/resumes/{id} until extraction has finished, as a web app would."""
    def finished():
        resume = client.get(f"/api/resumes/{resume_id}", headers=headers).json
        return resume if resume["extraction_status"] in ("succeeded", "failed") else None

    return stack.wait_until(finished, timeout=timeout, interval=0.2, what=f"extraction of {resume_id}")


def wait_for_job(client, headers, job_id: str, states: tuple[str, ...] = ("succeeded", "failed", "dead"),
                 *, timeout: float = 60) -> dict:
    def reached():
        job = client.get(f"/api/background-jobs/{job_id}", headers=headers).json
        return job if job["state"] in states else None

    return stack.wait_until(reached, timeout=timeout, interval=0.2, what=f"job {job_id} to reach {states}")


def wait_for_analysis(client, headers, analysis_id: str, *, timeout: float = 60) -> dict:
    def finished():
        analysis = client.get(f"/api/analyses/{analysis_id}", headers=headers).json
        return analysis if analysis["state"] in ("succeeded", "failed", "dead") else None

    return stack.wait_until(finished, timeout=timeout, interval=0.1, what=f"analysis {analysis_id}")
