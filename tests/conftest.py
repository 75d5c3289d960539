"""Fixtures: a real PostgreSQL test database (never the development one), migrated once per
session and emptied after every test; a fresh app and HTTP client per test."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api import create_app
from models import db
from services.database_admin import ensure_database

TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/applytrack_test"
)
# Tables whose rows come from migrations, not from tests.
SEEDED_TABLES = {"application_statuses", "alembic_version"}
PASSWORD = "a-long-enough-passphrase"


def make_test_env() -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "APP_ENV", "JWT_SECRET_KEY")
    }
    env.update(
        APP_ENV="testing",
        DATABASE_URL=TEST_DATABASE_URL,
        JWT_SECRET_KEY="test-secret-" + "x" * 40,
        # Cheap hashing keeps hundreds of registrations fast; production uses the defaults.
        PASSWORD_HASH_TIME_COST="1",
        PASSWORD_HASH_MEMORY_KIB="1024",
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
        if tables:
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            db.session.commit()
        db.engine.dispose()


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
