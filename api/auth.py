"""Registration, login, token refresh and logout: with bearer tokens in the body (any client),
or as a browser session (``/api/auth/session``) whose refresh token lives in an HttpOnly cookie."""
from __future__ import annotations

from flask import current_app, make_response, request
from flask_jwt_extended import current_user, get_csrf_token, jwt_required, verify_jwt_in_request
from flask_jwt_extended.exceptions import CSRFError, JWTExtendedException
from flask_smorest import Blueprint, abort
from jwt import PyJWTError
from sqlalchemy import select

from api.rate_limits import (TOO_MANY_LOGINS, TOO_MANY_REGISTRATIONS, account_key, limiter, login_per_account,
                             login_per_address, register_per_address)
from api.schemas.auth import LoginSchema, RegisterSchema, SessionTokenSchema, TokenSchema, UserSchema
from api.security import CSRF_COOKIE, REFRESH_COOKIE, SESSION_PATH, current_session_id, issue_tokens
from models import AuthSession, User, db
from models.mixins import utcnow
from services.passwords import WeakPassword, check_password_strength

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")


def login_limits(view):
    """Both ways to log in (tokens in the body, or a browser session) count against the same
    limits, per client address and per account: a second endpoint buys no extra guesses."""
    view = limiter.shared_limit(login_per_account, scope="auth.login", key_func=account_key,
                                error_message=TOO_MANY_LOGINS)(view)
    return limiter.shared_limit(login_per_address, scope="auth.login-address", error_message=TOO_MANY_LOGINS)(view)


def password_hashing():
    return current_app.extensions["password_hashing"]


@blp.post("/register")
@blp.arguments(RegisterSchema())
@blp.response(201, UserSchema)
@blp.alt_response(409, description="The email is already registered")
@blp.alt_response(429, description="Too many registrations from this address (Retry-After)")
@blp.doc(security=[])
@limiter.limit(register_per_address, error_message=TOO_MANY_REGISTRATIONS)
def register(data: dict):
    """Create an account"""
    try:
        check_password_strength(data["password"], email=data["email"])
    except WeakPassword as exc:
        abort(422, message=str(exc), errors={"json": {"password": [str(exc)]}})
    if db.session.scalar(select(User.id).where(User.email == data["email"])):
        abort(409, message="An account with this email already exists.")
    user = User(
        email=data["email"],
        password_hash=password_hashing().hash(data["password"]),
        display_name=data.get("display_name"),
    )
    db.session.add(user)
    db.session.commit()
    return user


@blp.post("/login")
@blp.arguments(LoginSchema())
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="Wrong email or password")
@blp.alt_response(429, description="Too many attempts for this account or from this address (Retry-After)")
@blp.doc(security=[])
@login_limits
def login(data: dict):
    """Log in: returns an access token and a refresh token"""
    tokens = issue_tokens(authenticate(data))
    db.session.commit()
    return tokens


def authenticate(data: dict) -> User:
    """The user whose email and password these are; 401 otherwise, in the same time either way."""
    user = db.session.scalar(select(User).where(User.email == data["email"]))
    hashing = password_hashing()
    if user is None:
        # Spend the same time as a real check so response times do not reveal which emails exist.
        hashing.verify(_DUMMY_HASH.get(hashing), data["password"])
        abort(401, message="Wrong email or password.")
    if not hashing.verify(user.password_hash, data["password"]):
        abort(401, message="Wrong email or password.")
    if hashing.needs_rehash(user.password_hash):
        user.password_hash = hashing.hash(data["password"])
    return user


@blp.post("/refresh")
@blp.response(200, TokenSchema)
@jwt_required(refresh=True)
def refresh():
    """Exchange a refresh token for a new access token (same login session)"""
    session = db.session.get(AuthSession, current_session_id())
    return issue_tokens(current_user, session, refresh=False)


@blp.post("/logout")
@blp.response(204)
@jwt_required(verify_type=False)
def logout():
    """Log out: revokes this login's access and refresh tokens (either one may be sent)"""
    session = db.session.get(AuthSession, current_session_id())
    session.revoked_at = utcnow()
    db.session.commit()


@blp.post("/session")
@blp.arguments(LoginSchema())
@blp.response(200, SessionTokenSchema)
@blp.alt_response(401, description="Wrong email or password")
@blp.alt_response(429, description="Too many attempts for this account or from this address (Retry-After)")
@blp.doc(security=[])
@login_limits
def open_session(data: dict):
    """Sign in a browser: the access token in the body, the refresh token in an HttpOnly cookie.

    The cookie (SameSite=Strict, Secure over https) is sent only to /api/auth/session; the
    readable `applytrack_csrf` cookie holds the value to send back in `X-CSRF-Token`.
    """
    tokens = issue_tokens(authenticate(data))
    db.session.commit()
    return _with_session_cookies(tokens)


@blp.post("/session/refresh")
@blp.response(200, SessionTokenSchema)
@blp.alt_response(401, description="No session cookie, a wrong X-CSRF-Token, or the session ended")
@blp.doc(security=[])
@jwt_required(refresh=True, locations=["cookies"])
def refresh_session():
    """A new access token for the browser session in the cookie (send X-CSRF-Token)"""
    session = db.session.get(AuthSession, current_session_id())
    return issue_tokens(current_user, session, refresh=False)


@blp.delete("/session")
@blp.response(204)
@blp.alt_response(401, description="A session cookie without its X-CSRF-Token")
@blp.doc(security=[])
def close_session():
    """Sign a browser out: revokes the session in the cookie (with X-CSRF-Token) and clears the
    cookies; a missing or already-ended session just clears them"""
    if request.cookies.get(REFRESH_COOKIE):
        try:
            verify_jwt_in_request(refresh=True, locations=["cookies"])
        except CSRFError:
            raise  # a request another site forged: it must not even clear the cookies
        except (JWTExtendedException, PyJWTError):
            pass  # an ended, expired or malformed session has nothing left to revoke
        else:
            db.session.get(AuthSession, current_session_id()).revoked_at = utcnow()
            db.session.commit()
    response = make_response("", 204)
    response.delete_cookie(REFRESH_COOKIE, path=SESSION_PATH, samesite="Strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="Strict")
    return response


def _with_session_cookies(tokens: dict):
    refresh_token = tokens.pop("refresh_token")
    body = SessionTokenSchema().dump(tokens)
    response = make_response(body, 200)
    max_age = current_app.config["JWT_REFRESH_TOKEN_DAYS"] * 86400
    secure = request.is_secure  # https as the client saw it (behind proxies: TRUSTED_PROXY_COUNT)
    response.set_cookie(REFRESH_COOKIE, refresh_token, max_age=max_age, path=SESSION_PATH, secure=secure,
                        httponly=True, samesite="Strict")
    response.set_cookie(CSRF_COOKIE, get_csrf_token(refresh_token), max_age=max_age, path="/", secure=secure,
                        httponly=False, samesite="Strict")
    return response


class _DummyHash:
    """A hash made with the configured parameters, computed once per process."""

    def __init__(self) -> None:
        self._value: str | None = None

    def get(self, hashing) -> str:
        if self._value is None:
            self._value = hashing.hash("not-a-real-password")
        return self._value


_DUMMY_HASH = _DummyHash()
