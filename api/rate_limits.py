"""Rate limits on logins and registrations, per client address and per account, counted in
Redis so that every API process (and host) shares them. If Redis is unreachable, each process
falls back to counting in memory rather than turning every login away."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)

TOO_MANY_LOGINS = "Too many login attempts; wait a minute and try again."
TOO_MANY_REGISTRATIONS = "Too many accounts created from this address; try again later."


def init_rate_limits(app: Flask) -> None:
    app.config.update(
        RATELIMIT_STORAGE_URI=app.config["RATE_LIMIT_STORAGE_URL"],
        # Read once, by the first app a process builds (flask-limiter keeps its first prefix).
        RATELIMIT_KEY_PREFIX=app.config["RATE_LIMIT_KEY_PREFIX"] or f"applytrack-{app.config['APP_ENV']}",
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1, "socket_timeout": 1},
    )
    limiter.init_app(app)


def account_key() -> str:
    """The normalised email a login is for (per-account limit, whatever the address)."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"account:{email.strip().lower()}" if isinstance(email, str) else f"address:{get_remote_address()}"


def login_per_address() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"]


def login_per_account() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"]


def register_per_address() -> str:
    return current_app.config["REGISTER_RATE_LIMIT_PER_ADDRESS"]
