"""What the web app needs from the API, through the HTTP client: the browser session (refresh
token in an HttpOnly cookie, CSRF-checked), the pages and Swagger UI served from this origin
with a strict CSP, and rate limits that key on the real client behind trusted proxies only."""
from __future__ import annotations

import random
import re
import uuid

import pytest

from api.web import WEB_ROOT
from config import ConfigError, load_settings
from tests.conftest import PASSWORD, bearer, make_test_env

SESSION = "/api/auth/session"


def _app(**settings):
    from api import create_app

    return create_app({**make_test_env(), **{k: str(v) for k, v in settings.items()}})


def _random_address() -> str:
    # Rate-limit counters live in a Redis database other test runs share: a fresh address each time.
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def _register(client, **kwargs):
    email = f"web-{uuid.uuid4().hex[:10]}@example.com"
    return client.post("/api/auth/register", json={"email": email, "password": PASSWORD}, **kwargs), email


def _set_cookie(response, name: str) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))


# --- The browser session -----------------------------------------------------------------------

def test_session_login_sets_an_httponly_strict_cookie_and_returns_only_the_access_token(client, auth):
    email = auth.register()
    response = client.post(SESSION, json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    assert set(response.json) == {"access_token", "token_type", "expires_in"}  # no refresh token for scripts
    refresh = _set_cookie(response, "applytrack_refresh")
    assert "HttpOnly" in refresh and "SameSite=Strict" in refresh and "Path=/api/auth/session" in refresh
    assert "Secure" not in refresh  # plain http (development); https below
    csrf = _set_cookie(response, "applytrack_csrf")
    assert "HttpOnly" not in csrf and "Path=/;" in csrf and "SameSite=Strict" in csrf
    profile = client.get("/api/user/profile", headers=bearer(response.json["access_token"]))
    assert profile.status_code == 200 and profile.json["email"] == email


def test_session_cookies_are_secure_over_https(app, auth):
    email = auth.register()
    client = app.test_client()
    response = client.post(SESSION, json={"email": email, "password": PASSWORD}, base_url="https://localhost")
    assert "Secure" in _set_cookie(response, "applytrack_refresh")
    assert "Secure" in _set_cookie(response, "applytrack_csrf")


def test_session_refresh_needs_the_csrf_header(client, auth):
    email = auth.register()
    client.post(SESSION, json={"email": email, "password": PASSWORD})
    csrf = client.get_cookie("applytrack_csrf").value
    assert client.post(f"{SESSION}/refresh").status_code == 401  # cookie alone: a forged request
    wrong = client.post(f"{SESSION}/refresh", headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 401 and wrong.json["message"] == "Missing or wrong CSRF token."
    refreshed = client.post(f"{SESSION}/refresh", headers={"X-CSRF-Token": csrf})
    assert refreshed.status_code == 200 and "refresh_token" not in refreshed.json
    assert client.get("/api/user/profile", headers=bearer(refreshed.json["access_token"])).status_code == 200


def test_the_refresh_cookie_is_sent_only_to_the_session_path(client, auth):
    email = auth.register()
    client.post(SESSION, json={"email": email, "password": PASSWORD})
    assert client.get_cookie("applytrack_refresh", path="/api/auth/session") is not None
    assert client.get_cookie("applytrack_refresh", path="/") is None
    # Nor does a cookie stand in for the bearer token anywhere else.
    assert client.get("/api/user/profile").status_code == 401


def test_refresh_without_a_session_cookie_is_401(client):
    response = client.post(f"{SESSION}/refresh", headers={"X-CSRF-Token": "x"})
    assert response.status_code == 401 and response.json["message"] == "Not signed in: no session cookie."


def test_closing_the_session_revokes_it_and_clears_the_cookies(client, auth):
    email = auth.register()
    access = client.post(SESSION, json={"email": email, "password": PASSWORD}).json["access_token"]
    csrf = client.get_cookie("applytrack_csrf").value
    cookie = client.get_cookie("applytrack_refresh", path=SESSION).value
    assert client.delete(SESSION).status_code == 401  # a cookie without its CSRF header revokes nothing
    response = client.delete(SESSION, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert "Max-Age=0" in _set_cookie(response, "applytrack_refresh")
    assert client.get_cookie("applytrack_refresh", path=SESSION) is None
    assert client.get("/api/user/profile", headers=bearer(access)).status_code == 401
    client.set_cookie("applytrack_refresh", cookie, path=SESSION)  # replaying the old cookie
    assert client.post(f"{SESSION}/refresh", headers={"X-CSRF-Token": csrf}).status_code == 401
    assert client.delete(SESSION, headers={"X-CSRF-Token": csrf}).status_code == 204  # an ended one just clears


def test_closing_without_a_session_just_clears(client):
    assert client.delete(SESSION).status_code == 204


def test_bearer_clients_keep_the_token_pair_in_the_body(client, auth):
    tokens = auth.login(auth.register())
    assert {"access_token", "refresh_token"} <= set(tokens)
    assert not [h for h in client.post("/api/auth/login", json={"email": "x@example.com", "password": "y" * 12})
                .headers.getlist("Set-Cookie") if "applytrack" in h]
    refreshed = client.post("/api/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 200


# --- Pages and documentation served from this origin -----------------------------------------

def test_the_app_is_served_at_the_root_with_a_strict_csp(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert script_src == "'self'" and "unsafe" not in csp
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp and "frame-ancestors 'none'" in csp
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
    assert not re.search(r"\son\w+=", html) and "style=" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from another origin
    module = client.get("/assets/js/main.js")
    assert module.status_code == 200 and "javascript" in module.mimetype


def test_the_web_app_never_builds_html_from_strings():
    # Everything shown goes through dom.h()/textContent; user text is never parsed as HTML.
    for path in (WEB_ROOT / "static").rglob("*.js"):
        source = path.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in source, f"{sink} in {path}"
        assert not re.search(r"https?://(?!…)", source.replace("https://…", "")), f"an absolute URL in {path}"


def test_swagger_ui_is_served_from_the_service(client):
    page = client.get("/api/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/api/docs/assets/swagger-ui-bundle.js" in html
    assert not re.search(r"(src|href)=\"https?://", html)
    csp = page.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert "unsafe-inline" not in script_src and "'sha256-" in script_src and "http" not in csp
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        response = client.get(f"/api/docs/assets/{asset}")
        assert response.status_code == 200 and len(response.data) > 1000
    assert client.get("/api/docs/assets/../../config/__init__.py").status_code == 404


# --- Reverse proxies ---------------------------------------------------------------------------

def test_trusted_proxy_count_is_parsed_strictly(tmp_path):
    assert load_settings({}, instance_path=tmp_path)["TRUSTED_PROXY_COUNT"] == 0
    assert load_settings({"TRUSTED_PROXY_COUNT": "2"}, instance_path=tmp_path)["TRUSTED_PROXY_COUNT"] == 2
    for bad in ("-1", "one", "1.5"):
        with pytest.raises(ConfigError, match="TRUSTED_PROXY_COUNT"):
            load_settings({"TRUSTED_PROXY_COUNT": bad}, instance_path=tmp_path)


def test_a_spoofed_forwarded_for_is_ignored_by_default(migrated_database):
    client = _app(REGISTER_RATE_LIMIT_PER_ADDRESS="2 per hour").test_client()
    socket_address = _random_address()
    codes = [_register(client, headers={"X-Forwarded-For": _random_address()},
                       environ_base={"REMOTE_ADDR": socket_address})[0].status_code for _ in range(3)]
    assert codes == [201, 201, 429]  # a new X-Forwarded-For each time did not buy a new limit


def test_behind_trusted_proxies_limits_key_on_the_real_client(migrated_database):
    client = _app(REGISTER_RATE_LIMIT_PER_ADDRESS="2 per hour", LOGIN_RATE_LIMIT_PER_ADDRESS="2 per minute",
                  TRUSTED_PROXY_COUNT=1).test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}  # every request arrives from the one proxy
    alice, bob = _random_address(), _random_address()
    # Each client has its own limit, though all come through the same proxy's socket...
    assert [_register(client, headers={"X-Forwarded-For": alice}, environ_base=proxy)[0].status_code
            for _ in range(3)] == [201, 201, 429]
    assert _register(client, headers={"X-Forwarded-For": bob}, environ_base=proxy)[0].status_code == 201
    # ...and a client's own X-Forwarded-For entry is not believed: the proxy appends what it saw.
    forged = f"{_random_address()}, {alice}"
    assert _register(client, headers={"X-Forwarded-For": forged}, environ_base=proxy)[0].status_code == 429
    # Logins are limited per client address the same way.
    carol = _random_address()
    codes = [client.post("/api/auth/login", json={"email": f"{uuid.uuid4().hex}@example.com", "password": "x" * 12},
                         headers={"X-Forwarded-For": carol}, environ_base=proxy).status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_behind_an_https_proxy_the_session_cookie_is_secure(migrated_database):
    client = _app(TRUSTED_PROXY_COUNT=1).test_client()
    _, email = _register(client)
    response = client.post(SESSION, json={"email": email, "password": PASSWORD},
                           headers={"X-Forwarded-For": _random_address(), "X-Forwarded-Proto": "https"})
    assert "Secure" in _set_cookie(response, "applytrack_refresh")
    spoofed = _app().test_client().post(SESSION, json={"email": email, "password": PASSWORD},
                                        headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in _set_cookie(spoofed, "applytrack_refresh")  # not trusted by default


# --- What the board needed from the API --------------------------------------------------------

def test_moving_a_card_out_of_the_wishlist_records_when_it_was_sent(client, user, job):
    created = client.post("/api/applications", json={"job_id": job["id"], "status": "wishlist"}, headers=user).json
    assert created["applied_at"] is None
    moved = client.patch(f"/api/applications/{created['id']}", json={"status": "applied"}, headers=user).json
    assert moved["applied_at"] == moved["status_changed_at"]
    stats = client.get("/api/applications/stats", headers=user).json
    assert sum(week["count"] for week in stats["by_week"]) == 1
    # A date the user gave is kept, on later moves too.
    given = client.post("/api/applications", json={"job_id": job["id"], "status": "wishlist"}, headers=user).json
    body = {"status": "interview", "applied_at": "2026-01-05T09:00:00Z"}
    kept = client.patch(f"/api/applications/{given['id']}", json=body, headers=user).json
    assert kept["applied_at"].startswith("2026-01-05T09:00:00")


def test_both_ways_to_log_in_share_the_limits(migrated_database):
    client = _app(LOGIN_RATE_LIMIT_PER_ACCOUNT="3 per minute").test_client()
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    wrong = {"email": email, "password": "wrong-password-x"}
    address = {"REMOTE_ADDR": _random_address()}
    codes = [client.post(path, json=wrong, environ_base=address).status_code
             for path in ("/api/auth/login", SESSION, "/api/auth/login", SESSION)]
    assert codes == [401, 401, 401, 429]
