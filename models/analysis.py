"""Analyses: how well a resume fits a job listing, with the provenance of the answer."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.background_job import BackgroundJob
from models.mixins import Timestamps, UUIDPrimaryKey


class Analysis(UUIDPrimaryKey, Timestamps, db.Model):
    """One analysis of one resume against one listing. Re-analysis adds a row; older rows stay.

    ``input_hash`` names what was analysed (resume bytes, listing text, analyzer and version):
    the same hash is the same question, answered once unless the user forces a new answer.
    """

    __tablename__ = "analyses"
    __table_args__ = (
        CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="score_in_range"),
        Index("ix_analyses_pair", "resume_id", "job_listing_id", "created_at"),
        Index("ix_analyses_input", "user_id", "input_hash", "created_at"),
        Index("ix_analyses_created_at", "created_at"),  # the retention sweep (migration 0011)
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    resume_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("resumes.id", ondelete="CASCADE"), nullable=False
    )
    job_listing_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("job_listings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("background_jobs.id", ondelete="RESTRICT"), nullable=False, unique=True
    )
    input_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # Provenance: who answered, how, and at what cost.
    analyzer: Mapped[str] = mapped_column(String(32), nullable=False)
    analyzer_version: Mapped[str] = mapped_column(String(32), nullable=False)
    model: Mapped[str | None] = mapped_column(String(200))
    prompt_version: Mapped[str | None] = mapped_column(String(32))
    tokens_in: Mapped[int | None] = mapped_column(Integer)
    tokens_out: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    # The answer (AnalysisResult.to_dict()); score and verdict also as columns for queries.
    score: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[dict | None] = mapped_column(JSONB)
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    job: Mapped[BackgroundJob] = relationship(lazy="joined", innerjoin=True)

    @property
    def provenance(self) -> "Analysis":
        """The provenance columns, grouped for the API (they live on this row)."""
        return self


class IdempotencyKey(db.Model):
    """An ``Idempotency-Key`` a client sent with a POST, and the analysis it produced."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
        Index("ix_idempotency_keys_created_at", "created_at"),  # migration 0011: retention
        Index("ix_idempotency_keys_analysis_id", "analysis_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    analysis_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("analyses.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
