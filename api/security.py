"""JWT wiring: tokens carry the login session id (``sid``), and a token is valid only while
its session is live; errors use the API's one error shape with status 401 (or 403)."""
from __future__ import annotations

import uuid
from datetime import timedelta
from functools import wraps

from flask import Flask, g
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token, current_user, get_jwt
from flask_smorest import abort
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from api.errors import error_response
from api.transactions import read_without_transaction
from models import AuthSession, User, db
from models.mixins import utcnow

jwt = JWTManager()

# The web app's session: the refresh token in an HttpOnly cookie no page script can read, scoped
# to the session endpoints; its CSRF value in a cookie the page reads and echoes in a header.
SESSION_PATH = "/api/auth/session"
REFRESH_COOKIE = "applytrack_refresh"
CSRF_COOKIE = "applytrack_csrf"
CSRF_HEADER = "X-CSRF-Token"


def issue_tokens(user: User, session: AuthSession | None = None, *, refresh: bool = True) -> dict:
    """Tokens for ``user``; a new login session is opened unless ``session`` is given."""
    from flask import current_app

    if session is None:
        session = AuthSession(
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=current_app.config["JWT_REFRESH_TOKEN_DAYS"]),
        )
        db.session.add(session)
        db.session.flush()
    claims = {"sid": str(session.id), "role": user.role}
    tokens = {
        "access_token": create_access_token(identity=str(user.id), additional_claims=claims),
        "token_type": "Bearer",
        "expires_in": current_app.config["JWT_ACCESS_TOKEN_MINUTES"] * 60,
    }
    if refresh:
        tokens["refresh_token"] = create_refresh_token(identity=str(user.id), additional_claims=claims)
    return tokens


def current_session_id() -> uuid.UUID:
    return uuid.UUID(get_jwt()["sid"])


def admin_required(view):
    """For use under ``@jwt_required()``: ordinary users get 403."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403, message="This endpoint is for administrators.")
        return view(*args, **kwargs)

    return wrapper


# Built once, not per request: building this statement cost about as much CPU as running it.
_SESSION_WITH_USER = (
    select(AuthSession).options(joinedload(AuthSession.user, innerjoin=True))
    .where(AuthSession.id == bindparam("session_id"))
)


def _load_session(jwt_payload: dict) -> AuthSession | None:
    """The token's login session with its user, in one query, once per request: both loaders
    below need them, and every authenticated request pays for this lookup."""
    if "auth_session" not in g:
        read_without_transaction()
        try:
            session_id = uuid.UUID(jwt_payload["sid"])
            uuid.UUID(jwt_payload["sub"])
        except (KeyError, ValueError, TypeError):
            g.auth_session = None
        else:
            g.auth_session = db.session.scalar(_SESSION_WITH_USER, {"session_id": session_id})
    return g.auth_session


def init_jwt(app: Flask) -> None:
    # Bearer headers for every client; the web app's refresh token also rides in an HttpOnly
    # cookie sent only to /api/auth/session (api/auth.py), checked against its CSRF header.
    # (Every token then carries a csrf claim: 43 characters, the price of one token format.)
    app.config.setdefault("JWT_TOKEN_LOCATION", ["headers", "cookies"])
    app.config["JWT_COOKIE_CSRF_PROTECT"] = True
    app.config["JWT_REFRESH_COOKIE_NAME"] = REFRESH_COOKIE
    app.config["JWT_REFRESH_COOKIE_PATH"] = SESSION_PATH
    app.config["JWT_REFRESH_CSRF_HEADER_NAME"] = CSRF_HEADER
    app.config["JWT_CSRF_CHECK_FORM"] = False
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(minutes=app.config["JWT_ACCESS_TOKEN_MINUTES"])
    app.config["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(days=app.config["JWT_REFRESH_TOKEN_DAYS"])
    app.config["JWT_ALGORITHM"] = "HS256"
    app.config["JWT_DECODE_ALGORITHMS"] = ["HS256"]  # never "none", never an attacker's choice
    jwt.init_app(app)

    @jwt.token_in_blocklist_loader
    def token_revoked(_header: dict, payload: dict) -> bool:
        session = _load_session(payload)
        return (
            session is None
            or not session.is_active()
            or str(session.user_id) != payload["sub"]
        )

    @jwt.user_lookup_loader
    def load_user(_header: dict, payload: dict) -> User | None:
        session = _load_session(payload)
        return session.user if session else None

    def unauthorized(message: str):
        return error_response(401, message, headers={"WWW-Authenticate": "Bearer"})

    jwt.unauthorized_loader(lambda reason: unauthorized(
        "Missing or wrong CSRF token." if "CSRF" in reason
        else "Not signed in: no session cookie." if REFRESH_COOKIE in reason
        else "Missing bearer token in the Authorization header."))
    jwt.invalid_token_loader(lambda _reason: unauthorized("The token is invalid."))
    jwt.expired_token_loader(lambda _h, _p: unauthorized("The token has expired; refresh it or log in again."))
    jwt.revoked_token_loader(lambda _h, _p: unauthorized("The token has been revoked; log in again."))
    jwt.user_lookup_error_loader(lambda _h, _p: unauthorized("The token's account no longer exists."))
    jwt.needs_fresh_token_loader(lambda _h, _p: unauthorized("This action needs a fresh login."))
    jwt.token_verification_failed_loader(lambda _h, _p: unauthorized("The token was rejected."))
