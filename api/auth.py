"""Registration, login, token refresh and logout."""
from __future__ import annotations

from flask import current_app
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from api.rate_limits import (TOO_MANY_LOGINS, TOO_MANY_REGISTRATIONS, account_key, limiter, login_per_account,
                             login_per_address, register_per_address)
from api.schemas.auth import LoginSchema, RegisterSchema, TokenSchema, UserSchema
from api.security import current_session_id, issue_tokens
from models import AuthSession, User, db
from models.mixins import utcnow
from services.passwords import WeakPassword, check_password_strength

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")


def password_hashing():
    return current_app.extensions["password_hashing"]


@blp.post("/register")
@blp.arguments(RegisterSchema)
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
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="Wrong email or password")
@blp.alt_response(429, description="Too many attempts for this account or from this address (Retry-After)")
@blp.doc(security=[])
@limiter.limit(login_per_address, error_message=TOO_MANY_LOGINS)
@limiter.limit(login_per_account, key_func=account_key, error_message=TOO_MANY_LOGINS)
def login(data: dict):
    """Log in: returns an access token and a refresh token"""
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
    tokens = issue_tokens(user)
    db.session.commit()
    return tokens


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


class _DummyHash:
    """A hash made with the configured parameters, computed once per process."""

    def __init__(self) -> None:
        self._value: str | None = None

    def get(self, hashing) -> str:
        if self._value is None:
            self._value = hashing.hash("not-a-real-password")
        return self._value


_DUMMY_HASH = _DummyHash()
