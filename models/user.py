"""Accounts and login sessions."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, update
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.mixins import Timestamps, UUIDPrimaryKey, utcnow

ROLES = ("user", "admin")


class User(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_normalised"),
        CheckConstraint(f"role IN {ROLES!r}", name="role_known"),
    )

    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="user", server_default="user")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def revoke_sessions(self, *, except_session: uuid.UUID | None = None) -> None:
        """Revoke every live login session of this user (all their tokens), but one."""
        statement = (
            update(AuthSession)
            .where(AuthSession.user_id == self.id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if except_session is not None:
            statement = statement.where(AuthSession.id != except_session)
        db.session.execute(statement)


class AuthSession(UUIDPrimaryKey, db.Model):
    """One login: the access and refresh tokens it issues carry its id in the ``sid`` claim.

    Revoking the row revokes every token of that login at once, which is what logout and
    "sign out my other devices" mean to a user; rows past ``expires_at`` can be purged.
    """

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Loaded with the session by every authenticated request (api/security.py), never lazily.
    user: Mapped[User] = relationship(lazy="raise_on_sql")

    def is_active(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or utcnow())
