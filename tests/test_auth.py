"""Accounts and tokens, through the HTTP API."""
from __future__ import annotations

import uuid
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from tests.conftest import PASSWORD, bearer


def assert_error(response, code: int) -> dict:
    assert response.status_code == code, response.json
    body = response.json
    assert body["code"] == code and body["status"] and body["message"], body
    return body


def test_register_normalises_email_and_hides_password(client):
    response = client.post("/api/auth/register", json={"email": "  Ada.Lovelace@Example.COM ", "password": PASSWORD})
    assert response.status_code == 201
    assert response.json["email"] == "ada.lovelace@example.com"
    assert response.json["role"] == "user"
    assert "password" not in response.json and "password_hash" not in response.json


def test_register_same_email_in_other_case_conflicts(client, auth):
    auth.register("grace@example.com")
    response = client.post("/api/auth/register", json={"email": "GRACE@example.com", "password": PASSWORD})
    assert "already exists" in assert_error(response, 409)["message"]


@pytest.mark.parametrize(
    "password, hint",
    [
        ("short", "at least 10"),
        ("aaaaaaaaaaaa", "4 different"),
        ("password123", "too common"),
        ("x" * 200, "at most 128"),
        ("margaret-secret-99", "email"),
    ],
)
def test_weak_passwords_are_rejected_with_a_reason(client, password, hint):
    response = client.post("/api/auth/register", json={"email": "margaret@example.com", "password": password})
    body = assert_error(response, 422)
    assert hint in body["message"]
    assert body["errors"]["json"]["password"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "a@example.com", "password": 12345678901}, "password"),
    ],
)
def test_register_validation_errors_name_the_field(client, payload, field):
    body = assert_error(client.post("/api/auth/register", json=payload), 422)
    assert field in body["errors"]["json"]


def test_login_returns_both_tokens_and_they_work(client, auth):
    email = auth.register()
    tokens = auth.login(email.upper())
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    profile = client.get("/api/user/profile", headers=bearer(tokens["access_token"]))
    assert profile.status_code == 200 and profile.json["email"] == email


def test_login_with_wrong_password_or_unknown_email_is_the_same_401(client, auth):
    email = auth.register()
    wrong = client.post("/api/auth/login", json={"email": email, "password": "not-the-password"})
    unknown = client.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert assert_error(wrong, 401)["message"] == assert_error(unknown, 401)["message"]


def test_refresh_issues_a_new_access_token(client, auth):
    tokens = auth.login(auth.register())
    response = client.post("/api/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 200
    assert client.get("/api/jobs", headers=bearer(response.json["access_token"])).status_code == 200


def test_tokens_cannot_stand_in_for_each_other(client, auth):
    tokens = auth.login(auth.register())
    assert_error(client.get("/api/jobs", headers=bearer(tokens["refresh_token"])), 401)
    assert_error(client.post("/api/auth/refresh", headers=bearer(tokens["access_token"])), 401)


def test_logout_revokes_access_and_refresh_tokens_of_that_login_only(client, auth):
    email = auth.register()
    first, second = auth.login(email), auth.login(email)
    assert client.post("/api/auth/logout", headers=bearer(first["access_token"])).status_code == 204
    assert "revoked" in assert_error(client.get("/api/jobs", headers=bearer(first["access_token"])), 401)["message"]
    assert_error(client.post("/api/auth/refresh", headers=bearer(first["refresh_token"])), 401)
    assert_error(client.post("/api/auth/logout", headers=bearer(first["access_token"])), 401)
    assert client.get("/api/jobs", headers=bearer(second["access_token"])).status_code == 200


def test_logout_with_the_refresh_token_also_works(client, auth):
    tokens = auth.login(auth.register())
    assert client.post("/api/auth/logout", headers=bearer(tokens["refresh_token"])).status_code == 204
    assert_error(client.get("/api/jobs", headers=bearer(tokens["access_token"])), 401)


def test_profile_display_name_can_be_changed(client, user):
    response = client.patch("/api/user/profile", json={"display_name": "Ada"}, headers=user)
    assert response.status_code == 200 and response.json["display_name"] == "Ada"
    assert client.get("/api/user/profile", headers=user).json["display_name"] == "Ada"


def test_password_change_signs_out_other_sessions_and_keeps_this_one(client, auth):
    email = auth.register()
    this, other = auth.login(email), auth.login(email)
    new_password = "an-entirely-new-passphrase"
    response = client.patch(
        "/api/user/profile",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=bearer(this["access_token"]),
    )
    assert response.status_code == 200, response.json
    fresh = response.json["tokens"]
    assert_error(client.get("/api/jobs", headers=bearer(other["access_token"])), 401)
    assert_error(client.post("/api/auth/refresh", headers=bearer(other["refresh_token"])), 401)
    assert client.get("/api/jobs", headers=bearer(fresh["access_token"])).status_code == 200
    assert client.post("/api/auth/refresh", headers=bearer(fresh["refresh_token"])).status_code == 200
    assert_error(client.post("/api/auth/login", json={"email": email, "password": PASSWORD}), 401)
    auth.login(email, new_password)


def test_password_change_needs_the_right_current_password_and_a_strong_new_one(client, user):
    wrong = client.patch("/api/user/profile", json={"current_password": "nope-nope-nope", "new_password": "fine-new-passphrase"}, headers=user)
    assert_error(wrong, 403)
    weak = client.patch("/api/user/profile", json={"current_password": PASSWORD, "new_password": "short"}, headers=user)
    assert "new_password" in assert_error(weak, 422)["errors"]["json"]
    missing = client.patch("/api/user/profile", json={"new_password": "fine-new-passphrase"}, headers=user)
    assert "current_password" in assert_error(missing, 422)["errors"]["json"]


def _forged_claims(app, client, auth) -> dict:
    tokens = auth.login(auth.register())
    with app.app_context():
        return pyjwt.decode(tokens["access_token"], app.config["JWT_SECRET_KEY"], algorithms=["HS256"])


def test_forged_tokens_are_401(app, client, auth):
    claims = _forged_claims(app, client, auth)
    wrong_key = pyjwt.encode(claims, "some-other-secret-that-is-long-enough-123", algorithm="HS256")
    alg_none = pyjwt.encode(claims, None, algorithm="none")
    for token in (wrong_key, alg_none, "garbage", claims["jti"]):
        assert_error(client.get("/api/jobs", headers=bearer(token)), 401)
    assert_error(client.get("/api/jobs", headers={"Authorization": "Basic dXNlcjpwdw=="}), 401)


def test_expired_token_is_401(app, client, auth):
    claims = _forged_claims(app, client, auth)
    with app.app_context():
        expired = create_access_token(
            identity=claims["sub"], additional_claims={"sid": claims["sid"]}, expires_delta=timedelta(seconds=-1)
        )
    assert "expired" in assert_error(client.get("/api/jobs", headers=bearer(expired)), 401)["message"]


def test_token_for_a_session_of_another_user_is_401(app, client, auth):
    victim = _forged_claims(app, client, auth)
    attacker = _forged_claims(app, client, auth)
    with app.app_context():
        # A validly signed token whose subject does not own the session it names.
        mixed = create_access_token(identity=victim["sub"], additional_claims={"sid": attacker["sid"]})
    assert_error(client.get("/api/jobs", headers=bearer(mixed)), 401)


@pytest.fixture
def rate_limit_store():
    """The tests' Redis database, emptied so that counts from other tests or runs never interfere."""
    import redis

    store = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    store.flushdb()
    yield store
    store.flushdb()


def _limited_app(**limits):
    from api import create_app
    from tests.conftest import make_test_env

    return create_app({**make_test_env(), **limits})


def test_login_is_limited_per_account_in_the_shared_store(migrated_database, rate_limit_store):
    # Two API instances: the attempts add up, because the counts live in Redis.
    clients = [_limited_app(LOGIN_RATE_LIMIT_PER_ACCOUNT="3 per minute").test_client() for _ in range(2)]
    email = f"target-{uuid.uuid4().hex[:6]}@example.com"
    clients[0].post("/api/auth/register", json={"email": email, "password": PASSWORD})
    codes = [clients[i % 2].post("/api/auth/login", json={"email": email, "password": "wrong-password-x"}).status_code
             for i in range(4)]
    assert codes == [401, 401, 401, 429]
    blocked = clients[1].post("/api/auth/login", json={"email": email, "password": PASSWORD})
    body = assert_error(blocked, 429)
    assert "Too many login attempts" in body["message"] and int(blocked.headers["Retry-After"]) > 0
    other = clients[0].post("/api/auth/login", json={"email": "someone-else@example.com", "password": "x" * 12})
    assert other.status_code == 401  # another account is not locked out
    assert any(email.encode() in key for key in rate_limit_store.keys("*auth.login*"))


def test_registration_is_limited_per_address(migrated_database, rate_limit_store):
    client = _limited_app(REGISTER_RATE_LIMIT_PER_ADDRESS="2 per hour").test_client()
    codes = [client.post("/api/auth/register", json={"email": f"r{i}-{uuid.uuid4().hex[:6]}@example.com",
                                                     "password": PASSWORD}).status_code for i in range(3)]
    assert codes == [201, 201, 429]
