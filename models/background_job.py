"""One row per unit of background work: what the API shows and operators inspect.

The row is also the transactional outbox: it is written in the same transaction as the thing
it works on, with ``published_at`` empty, and the relay publishes it to RabbitMQ afterwards.
The Celery task id is the job id, so a republished message is recognisably the same work.
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from celeryconfig import BULK_ANALYSIS_QUEUE
from models import db
from models.mixins import Timestamps, UUIDPrimaryKey, utcnow


class JobState(str, enum.Enum):
    WAITING = "waiting"  # held back until something it needs exists (an analysis waits for text)
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # a permanent, classified failure (e.g. a corrupt file): retrying cannot help
    DEAD = "dead"  # retries spent or an unexpected error: dead-lettered for an operator
    CANCELLED = "cancelled"  # its bulk run was cancelled before it ran: skipped, never executed


class JobKind(str, enum.Enum):
    RESUME_EXTRACTION = "resume_extraction"
    ANALYSIS = "analysis"
    BULK_EXPANSION = "bulk_expansion"  # turns a bulk re-analysis request into its analyses
    MAINTENANCE = "maintenance"  # one run of a periodic task


class Lane(str, enum.Enum):
    """Interactive work (a user waiting) never queues behind bulk work: separate queues, each
    with its own workers."""

    INTERACTIVE = "interactive"
    BULK = "bulk"


JOB_STATES = tuple(s.value for s in JobState)
TERMINAL_STATES = (JobState.SUCCEEDED.value, JobState.FAILED.value, JobState.DEAD.value, JobState.CANCELLED.value)
# Every state change a job may make; None is the row's creation. The state machine as the
# code implements it, written down so that recorded histories can be held to it (bench/workload).
LEGAL_TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"queued", "waiting", "running"}),  # running: a maintenance run records itself
    "waiting": frozenset({"queued", "failed", "cancelled"}),  # text arrived / never will / subject gone
    "queued": frozenset({"running", "cancelled"}),  # claimed / bulk run cancelled, subject deleted
    # succeeded, failed, dead: the attempt's outcome; queued: a retry or a stuck job requeued;
    # waiting: delivered before the resume had text (a replay)
    "running": frozenset({"succeeded", "failed", "dead", "queued", "waiting"}),
    "dead": frozenset({"queued"}),  # replayed by an operator
    "succeeded": frozenset(),
    "failed": frozenset(),
    "cancelled": frozenset(),
}
# The Celery task that runs each kind of job; routing to queues is in celeryconfig.py.
TASK_NAMES = {
    JobKind.RESUME_EXTRACTION.value: "resumes.extract",
    JobKind.ANALYSIS.value: "analysis.run",
    JobKind.BULK_EXPANSION.value: "bulk.expand",
    JobKind.MAINTENANCE.value: "maintenance.run",
}
# Bulk analyses go to their own queue; everything else is routed by task name.
BULK_QUEUES = {JobKind.ANALYSIS.value: BULK_ANALYSIS_QUEUE}


class BackgroundJob(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "background_jobs"
    __table_args__ = (
        CheckConstraint(f"state IN {JOB_STATES!r}", name="state_known"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        # The relay's scan: only rows still waiting to be published.
        Index("ix_background_jobs_unpublished", "created_at", postgresql_where=text("published_at IS NULL")),
        Index("ix_background_jobs_subject", "subject_id"),
        Index("ix_background_jobs_user_state", "user_id", "state"),
        # The safety-net sweep's scan (services/maintenance.rescue_stranded_jobs).
        Index("ix_background_jobs_waiting", "updated_at", postgresql_where=text("state = 'waiting'")),
        # Migration 0011: the retention sweep's, the dead-letter listing's and the stuck-jobs
        # sweep's scans read only the rows in their state, never the finished history.
        Index("ix_background_jobs_finished", "finished_at",
              postgresql_where=text("state IN ('succeeded', 'failed', 'cancelled') AND kind <> 'analysis'")),
        Index("ix_background_jobs_discarded", "discarded_at",
              postgresql_where=text("state = 'dead' AND discarded_at IS NOT NULL")),
        Index("ix_background_jobs_dead", "finished_at", "id",
              postgresql_where=text("state = 'dead' AND discarded_at IS NULL")),
        Index("ix_background_jobs_running", "started_at", postgresql_where=text("state = 'running'")),
    )

    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"))
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=JobState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Raised by every claim and never reset (a replay resets ``attempts``): the outcome of an
    # attempt is recorded only if no later claim happened meanwhile (services/jobs.py).
    fencing_token: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error_class: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    # A dead job an operator chose not to replay: it leaves the dead-letter listing.
    discarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lane: Mapped[str] = mapped_column(String(16), nullable=False, default=Lane.INTERACTIVE.value,
                                      server_default=Lane.INTERACTIVE.value)
    bulk_run_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("bulk_runs.id", ondelete="CASCADE"), index=True
    )
    # What a maintenance run did, e.g. {"purged_sessions": 3}.
    detail: Mapped[dict | None] = mapped_column(JSONB)

    # The fencing token of this process's claim of the job (set by services/jobs.claim, checked
    # when its outcome is recorded); an attribute of the object, not a column.
    held_fence = None

    failures: Mapped[list["JobFailure"]] = relationship(
        order_by="JobFailure.id", cascade="all, delete-orphan", back_populates="job"
    )

    @property
    def task_name(self) -> str:
        return TASK_NAMES[self.kind]

    @property
    def queue(self) -> str | None:
        """The queue to publish to when it is not the task's usual one."""
        return BULK_QUEUES.get(self.kind) if self.lane == Lane.BULK.value else None

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def finish(self, state: JobState) -> None:
        self.state = state.value
        self.finished_at = utcnow()
        self.next_attempt_at = None


class JobFailure(db.Model):
    """Each failed attempt, because a dead-lettered message carries no exception text."""

    __tablename__ = "job_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("background_jobs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    error_class: Mapped[str] = mapped_column(String(200), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    transient: Mapped[bool] = mapped_column(nullable=False)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow,
                                                index=True)

    job: Mapped[BackgroundJob] = relationship(back_populates="failures")


class JobRescue(db.Model):
    """A job the safety-net sweep found stranded (waiting for what already happened, or for a
    subject that is gone) and settled. The sweep should never find one: each row is a bug, or a
    process that died between a commit and its follow-up. Counted in /metrics for alerting."""

    __tablename__ = "job_rescues"
    __table_args__ = (CheckConstraint("action IN ('released', 'failed', 'cancelled')", name="action_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("background_jobs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    from_state: Mapped[str] = mapped_column(String(16), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class DeadLetterAction(db.Model):
    """Who replayed or discarded which dead job, when, and through what (API or script)."""

    __tablename__ = "dead_letter_actions"
    __table_args__ = (CheckConstraint("action IN ('requeue', 'discard')", name="action_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("background_jobs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    actor: Mapped[str] = mapped_column(String(254), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    note: Mapped[str | None] = mapped_column(String(500))


class BulkRun(UUIDPrimaryKey, db.Model):
    """A request to re-analyse many pairs at once, on the bulk lane; cancellable, with progress
    counted from its jobs."""

    __tablename__ = "bulk_runs"
    __table_args__ = (
        CheckConstraint("state IN ('expanding', 'running', 'cancelled', 'finished')", name="state_known"),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )  # whose analyses; empty for an operator's run over everyone's
    requested_by: Mapped[str] = mapped_column(String(254), nullable=False)
    filters: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="expanding")
    total: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
