"""One error shape everywhere, and strict configuration."""
from __future__ import annotations

from pathlib import Path

import pytest

from api import create_app
from config import ConfigError, load_settings
from tests.conftest import make_test_env


def assert_shape(response, code: int) -> dict:
    assert response.status_code == code
    assert response.is_json, response.data[:200]
    body = response.json
    assert set(body) <= {"code", "status", "message", "errors"}
    assert body["code"] == code and isinstance(body["message"], str) and body["message"]
    return body


def test_unknown_route_is_json_404(client):
    assert_shape(client.get("/api/no-such-thing"), 404)


def test_wrong_method_is_json_405(client, user):
    assert_shape(client.delete("/api/jobs", headers=user), 405)


def test_malformed_json_is_a_clear_400(client, user):
    body = assert_shape(
        client.post("/api/jobs", data=b'{"company": ', headers={**user, "Content-Type": "application/json"}), 400
    )
    assert "JSON" in body["message"]


def test_invalid_utf8_body_is_a_4xx_not_500(client, user):
    response = client.post("/api/jobs", data=b'{"company": "\xff\xfe"}', headers={**user, "Content-Type": "application/json"})
    assert_shape(response, 400)


def test_oversized_json_body_is_413_and_stores_nothing(client, user):
    huge = {"company": "Big", "title": "Body", "description": "x" * (2 * 1024 * 1024)}
    body = assert_shape(client.post("/api/jobs", json=huge, headers=user), 413)
    assert "larger" in body["message"]
    assert client.get("/api/jobs", headers=user).json == []


def test_unexpected_errors_are_500_without_internals(migrated_database):
    app = create_app(make_test_env())

    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret internal detail: password=hunter2")

    response = app.test_client().get("/api/boom")
    body = assert_shape(response, 500)
    assert "hunter2" not in response.get_data(as_text=True) and "RuntimeError" not in body["message"]


def test_openapi_documents_bearer_auth_and_every_route(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path in ("/api/auth/register", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout",
                 "/api/user/profile", "/api/statuses", "/api/jobs", "/api/jobs/{job_id}",
                 "/api/applications", "/api/applications/{application_id}",
                 "/api/applications/{application_id}/history", "/api/applications/{application_id}/restore",
                 "/api/applications/stats"):
        assert path in spec["paths"], path
    assert client.get("/api/docs").status_code == 200


def test_statuses_are_ordered_with_stable_slugs(client):
    statuses = client.get("/api/statuses").json
    slugs = [s["slug"] for s in statuses]
    assert slugs[:5] == ["wishlist", "applied", "screening", "interview", "offer"]
    assert {"accepted", "rejected", "withdrawn", "ghosted"} <= set(slugs)
    assert [s["position"] for s in statuses] == sorted(s["position"] for s in statuses)


def test_production_refuses_to_start_without_a_real_secret(tmp_path: Path):
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        load_settings({"APP_ENV": "production"}, instance_path=tmp_path)
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings({"APP_ENV": "production", "JWT_SECRET_KEY": "super-secret"}, instance_path=tmp_path)
    settings = load_settings({"APP_ENV": "production", "JWT_SECRET_KEY": "k" * 40}, instance_path=tmp_path)
    assert settings["JWT_SECRET_KEY"] == "k" * 40


def test_development_secret_is_random_and_kept(tmp_path: Path):
    first = load_settings({}, instance_path=tmp_path)["JWT_SECRET_KEY"]
    assert len(first) >= 32 and first == load_settings({}, instance_path=tmp_path)["JWT_SECRET_KEY"]
    assert first != load_settings({}, instance_path=tmp_path / "other")["JWT_SECRET_KEY"]


@pytest.mark.parametrize(
    "env, message",
    [
        ({"APP_ENV": "prod"}, "APP_ENV"),
        ({"JWT_ACCESS_TOKEN_MINUTES": "ten"}, "integer"),
        ({"JWT_ACCESS_TOKEN_MINUTES": "0"}, ">= 1"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_settings_fail_loudly(tmp_path: Path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env, instance_path=tmp_path)


def test_security_headers_on_every_response(client, user):
    for response in (client.get("/api/jobs", headers=user), client.get("/api/nope"), client.get("/api/jobs")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_cors_only_for_allowed_origins(migrated_database):
    client = create_app({**make_test_env(), "CORS_ALLOWED_ORIGINS": "https://app.example.com"}).test_client()
    allowed = client.options("/api/jobs", headers={"Origin": "https://app.example.com",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "authorization" in allowed.headers["Access-Control-Allow-Headers"].lower()
    other = client.get("/api/statuses", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers
    with pytest.raises(ConfigError, match="exact origins"):
        load_settings({"CORS_ALLOWED_ORIGINS": "*"}, instance_path=Path("/tmp"))


def test_a_request_whose_database_connection_died_still_ends_cleanly(app, migrated_database):
    """PostgreSQL restarting under a request kills its connection; ending the request must not
    turn the answer into a bare 500 (the chaos suite saw one), and the next request works."""
    import psycopg2
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from models import db

    with app.app_context():
        backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        url = make_url(migrated_database)
        killer = psycopg2.connect(host=url.host, port=url.port, user=url.username, dbname=url.database)
        killer.autocommit = True
        killer.cursor().execute("SELECT pg_terminate_backend(%s)", (backend,))
        killer.close()
    # leaving the app context ran the session teardown against the dead connection: no error
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar_one() == 1


def test_a_dlq_replay_while_the_broker_is_unreachable_answers_503_at_once(migrated_database):
    """The workload's faults found an operator's replay hanging past the client's patience while
    RabbitMQ restarted; it is the one request that talks to the broker directly."""
    import time
    import uuid

    from tests.conftest import Auth

    app = create_app({**make_test_env(), "BROKER_URL": "amqp://guest:guest@127.0.0.1:1/nowhere"})
    client = app.test_client()
    email = f"ops-{uuid.uuid4().hex[:6]}@example.com"
    assert app.test_cli_runner().invoke(args=["users", "create-admin", email, "--password", "a-long-enough-passphrase"]
                                        ).exit_code == 0
    admin = Auth(client).headers(email)
    started = time.monotonic()
    response = client.post("/api/dlq/requeue", json={"kind": "analysis", "limit": 10}, headers=admin)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5", response.json
    assert "broker" in response.json["message"]
    assert time.monotonic() - started < 8
