"""Applications, the stages they move through, and the history of those moves."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.job_listing import JobListing
from models.mixins import Timestamps, UUIDPrimaryKey, utcnow


class ApplicationStatus(db.Model):
    """The stages, seeded by a migration: slugs are stable API values, positions order them."""

    __tablename__ = "application_statuses"

    slug: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    is_terminal: Mapped[bool] = mapped_column(nullable=False, default=False)


class Application(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_user_live", "user_id", "deleted_at", "applied_at"),
        # Migration 0009: the default page order, tags and the substring search, per user.
        Index("ix_applications_user_applied", "user_id", text("applied_at DESC NULLS LAST"), "id",
              postgresql_where=text("deleted_at IS NULL")),
        Index("ix_applications_user_tags", "user_id", "tags", postgresql_using="gin"),
        Index("ix_applications_user_notes_trgm", "user_id", "notes", postgresql_using="gin",
              postgresql_ops={"notes": "gin_trgm_ops"}),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    # RESTRICT: a listing that applications point to cannot vanish under them (the API says 409).
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("job_listings.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    # Deleting a resume leaves the application, without a resume.
    resume_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("resumes.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(
        String(32), ForeignKey("application_statuses.slug"), nullable=False, default="applied"
    )
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    source: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), nullable=False, default=list, server_default="{}")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by the periodic follow-up check when the stage has not changed for a while.
    needs_follow_up: Mapped[bool] = mapped_column(nullable=False, default=False, server_default="false")

    job: Mapped[JobListing] = relationship(lazy="joined", innerjoin=True)

    def record_initial_status(self) -> None:
        """Open the stage history of a new application with its first stage."""
        self._record_move(None, self.status)

    def change_status(self, new_status: str) -> None:
        """Move to ``new_status`` and record the move; staying in the same stage records nothing.
        Leaving the wishlist without an ``applied_at`` means it was sent now (as at creation), so
        a card dragged to "applied" on the board counts in the weekly statistics."""
        if new_status != self.status:
            self._record_move(self.status, new_status)
            self.status = new_status
            if self.applied_at is None and new_status != "wishlist":
                self.applied_at = self.status_changed_at

    def _record_move(self, from_status: str | None, to_status: str) -> None:
        now = utcnow()
        self.status_changed_at = now
        self.needs_follow_up = False
        db.session.add(
            StatusChange(application=self, from_status=from_status, to_status=to_status, changed_at=now)
        )


class StatusChange(db.Model):
    __tablename__ = "application_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("applications.id", ondelete="CASCADE"), nullable=False, index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(32), ForeignKey("application_statuses.slug"))
    to_status: Mapped[str] = mapped_column(String(32), ForeignKey("application_statuses.slug"), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    application: Mapped[Application] = relationship()


class ApplicationStageStats(db.Model):
    """Per user and stage: live applications in it and the stints spent in it (closed: count and
    seconds; still open: count and the sum of their starts, epoch seconds). Written only by the
    triggers of migration 0010, which keep it exact; read by GET /api/applications/stats."""

    __tablename__ = "application_stage_stats"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(32), ForeignKey("application_statuses.slug"), primary_key=True)
    applications: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    closed_stints: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    closed_seconds: Mapped[Decimal] = mapped_column(Numeric, nullable=False, server_default="0")
    open_stints: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    open_since: Mapped[Decimal] = mapped_column(Numeric, nullable=False, server_default="0")


class ApplicationWeekCount(db.Model):
    """Per user and ISO week (UTC): live applications sent that week (triggers, migration 0010)."""

    __tablename__ = "application_week_counts"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    applications: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
