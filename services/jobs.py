"""The life of a background job record, as plain functions that tasks and tests call.

queued → running → succeeded | failed | dead. Each attempt is counted in the database, so a
message that keeps being redelivered (a worker killed mid-task, a hard time limit) is
dead-lettered after ``max_attempts`` instead of looping forever.
"""
from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, and_, bindparam, func, inspect, select, text, update

from models import BackgroundJob, JobFailure, JobState, Lane, commit_keeping_loaded, db
from models.background_job import TERMINAL_STATES
from models.mixins import utcnow

log = logging.getLogger(__name__)

OUTBOX_CHANNEL = "applytrack_outbox"
# The payload is the lane: the relay batches harder only when interactive work arrives fast.
_NOTIFY_OUTBOX = {lane.value: text(f"NOTIFY {OUTBOX_CHANNEL}, '{lane.value}'") for lane in Lane}
# The failure reason of a dead-lettered job: our side failed, an operator can replay it.
PROCESSING_ERROR = "processing_error"
MAX_ERROR_TEXT = 2000


class TransientError(Exception):
    """Worth retrying later: the same attempt may well succeed (a dependency was unavailable)."""


class PermanentFailure(Exception):
    """Retrying cannot help; ``reason`` is a stable code and ``message`` tells the user what to do."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __reduce__(self):
        return type(self), (self.reason, self.message)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int
    backoff: float
    backoff_max: float

    @property
    def max_attempts(self) -> int:
        # Every retry is an attempt; allow a few redeliveries of lost workers on top.
        return self.max_retries + 3

    def countdown(self, retries_so_far: int) -> float:
        """Exponential backoff with jitter: spread retries so a recovering dependency is not
        hit by every waiting job at the same instant."""
        ceiling = min(self.backoff_max, self.backoff * (2**retries_so_far))
        return round(random.uniform(ceiling / 2, ceiling), 3)


def enqueue(kind: str, subject_id: uuid.UUID, *, user_id: uuid.UUID | None, request_id: str | None = None,
            lane: str = "interactive", bulk_run_id: uuid.UUID | None = None) -> BackgroundJob:
    """Add a job to the current transaction. The outbox relay publishes it after commit
    (NOTIFY is delivered at commit, so it never announces work that was rolled back)."""
    job = BackgroundJob(
        id=uuid.uuid4(), kind=kind, subject_id=subject_id, user_id=user_id, request_id=request_id,
        state=JobState.QUEUED.value, attempts=0, lane=lane, bulk_run_id=bulk_run_id,
    )
    db.session.add(job)
    notify_outbox(lane)
    return job


def notify_outbox(lane: str = Lane.INTERACTIVE.value) -> None:
    """Wake the outbox relay when this transaction commits (never for work rolled back)."""
    db.session.execute(_NOTIFY_OUTBOX[lane])


class TooManyAttempts(Exception):
    """The job's message keeps coming back (a worker dies on it): dead-letter it."""

    def __init__(self, message: str, fence: int) -> None:
        super().__init__(message)
        self.fence = fence

    def __reduce__(self):
        # Pickled from a prefork child to the worker (inside Celery's Reject): the default,
        # cls(*args), would drop ``fence`` and fail to unpickle, killing the worker process.
        return type(self), (str(self), self.fence)


class ClaimSuperseded(Exception):
    """The job was claimed again since this attempt's claim (this worker was cut off and its
    message redelivered elsewhere, or the job was requeued as stuck), or it ended meanwhile:
    this attempt's outcome must not be recorded. Nothing is written; the message is acked."""


def claim(job_id: uuid.UUID, *, redelivered: bool, max_attempts: int) -> BackgroundJob | None:
    """Mark the job running for this attempt, or return None when this message must not run it:
    unknown job, already finished, or running elsewhere (a duplicate publish, not a redelivery)."""
    job = db.session.scalar(select(BackgroundJob).where(BackgroundJob.id == job_id).with_for_update())
    if job is None:
        log.warning("job %s does not exist; message dropped", job_id)
        db.session.rollback()
        return None
    if job.is_terminal or (job.state == JobState.RUNNING.value and not redelivered):
        log.info("job %s is %s; duplicate message ignored", job_id, job.state)
        db.session.rollback()
        return None
    job.attempts += 1
    # The fencing token: a claim by another worker after this one raises it, and this attempt's
    # outcome is then refused (``ensure_claim_held``), however late this worker comes back.
    job.fencing_token += 1
    fence = job.fencing_token
    if job.attempts > max_attempts:
        db.session.commit()
        raise TooManyAttempts(f"delivered {job.attempts} times (max {max_attempts}); a worker may keep dying on it",
                              fence)
    job.state = JobState.RUNNING.value
    job.started_at = utcnow()
    job.next_attempt_at = None
    # This commit need not wait for the disk (a flush costs ~3.5 ms here, twice per job): if
    # the database crashes and forgets it, the message is still unacked and runs again.
    db.session.execute(text("SET LOCAL synchronous_commit = off"))
    # The row as this claim wrote it, under its lock, is what the task reads next (kind,
    # attempts): kept, instead of expired and read again in a transaction of its own (two round
    # trips per job, issue 18).
    commit_keeping_loaded()
    job.held_fence = fence
    return job


_CLAIM_NOW = select(BackgroundJob.state, BackgroundJob.fencing_token).where(
    BackgroundJob.id == bindparam("job_id")).with_for_update()
RUNNING_ONLY = (JobState.RUNNING.value,)
NOT_ENDED = tuple(state.value for state in JobState if state.value not in TERMINAL_STATES)


def ensure_claim_held(job_id: uuid.UUID, fence: int | None, *, states: tuple[str, ...] = RUNNING_ONLY) -> None:
    """Lock the job's row until this transaction ends, and raise ClaimSuperseded unless the
    claim with ``fence`` is still the latest (None: whichever) and the job is in ``states``.
    Every recording of an attempt's outcome goes through here, in the transaction that writes
    it: the lock keeps a new claim from slipping in between this check and the commit."""
    row = db.session.execute(_CLAIM_NOW, {"job_id": job_id}).first()
    if row is None:
        raise ClaimSuperseded(f"job {job_id} no longer exists")
    state, current = row
    if (fence is not None and current != fence) or state not in states:
        raise ClaimSuperseded(f"job {job_id} is {state} with claim {current}; this outcome is of claim {fence}")


def _record(job: BackgroundJob, exc: BaseException, *, transient: bool) -> None:
    error_class = type(exc).__name__
    message = (getattr(exc, "message", None) or str(exc) or error_class)[:MAX_ERROR_TEXT]
    job.last_error_class = error_class
    job.last_error = message
    db.session.add(
        JobFailure(job=job, attempt=job.attempts, error_class=error_class, message=message, transient=transient)
    )


def _locked(job_id: uuid.UUID, fence: int | None, states: tuple[str, ...] = RUNNING_ONLY) -> BackgroundJob:
    db.session.rollback()  # whatever the failed work left in the session is not to be kept
    ensure_claim_held(job_id, fence, states=states)
    return db.session.scalar(
        select(BackgroundJob).where(BackgroundJob.id == job_id).execution_options(populate_existing=True)
    )


def schedule_retry(job_id: uuid.UUID, exc: BaseException, countdown: float, *, fence: int) -> None:
    """Back to the outbox, due in ``countdown`` seconds: the relay publishes it again then."""
    job = _locked(job_id, fence)
    _record(job, exc, transient=True)
    job.state = JobState.QUEUED.value
    # The database's clock, which the relay compares it with, not this host's.
    job.next_attempt_at = func.now() + timedelta(seconds=countdown)
    job.published_at = None
    db.session.commit()


def fail(job_id: uuid.UUID, failure: PermanentFailure, *, fence: int) -> BackgroundJob:
    """A permanent, classified failure: recorded; the caller updates the subject and commits."""
    job = _locked(job_id, fence)
    _record(job, failure, transient=False)
    job.finish(JobState.FAILED)
    return job


def bury(job_id: uuid.UUID, exc: BaseException, *, fence: int | None,
         states: tuple[str, ...] = RUNNING_ONLY) -> BackgroundJob:
    """Retries spent or an unexpected error: the message goes to the dead-letter queue; the
    caller updates the subject and commits. A claim that refuses to run the job (too many
    deliveries) or the broker's delivery limit buries a job in any state not ended."""
    job = _locked(job_id, fence, states)
    _record(job, exc, transient=False)
    job.finish(JobState.DEAD)
    return job


NOT_STARTED = (JobState.WAITING.value, JobState.QUEUED.value)


def cancel_not_started(job_ids: Select, why: str) -> int:
    """Cancel the jobs ``job_ids`` selects that have not started, saying why; returns how many.
    The relay never publishes a cancelled job and a worker that meets its message skips it; a
    job already running finishes (its work fails cleanly if its subject is gone)."""
    result = db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id.in_(job_ids), BackgroundJob.state.in_(NOT_STARTED))
        .values(state=JobState.CANCELLED.value, finished_at=utcnow(), next_attempt_at=None,
                last_error_class="Cancelled", last_error=why)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def succeed(job: BackgroundJob) -> None:
    """Part of the transaction that stores the job's result; raises ClaimSuperseded (the caller
    rolls back) when a later claim of the job happened since this worker's."""
    # The id without a reload: the work may have ended its transaction (expiring the row).
    job_id, fence = inspect(job).identity[0], job.held_fence
    # One statement checks the claim and records the success (ensure_claim_held's check and
    # lock, then an UPDATE at commit, took two round trips per job). The UPDATE locks the row
    # as the check did, and under READ COMMITTED re-reads a row changed meanwhile before
    # matching it: a claim committed since this one's makes it match nothing.
    held = BackgroundJob.state.in_(RUNNING_ONLY) if fence is None else and_(
        BackgroundJob.state.in_(RUNNING_ONLY), BackgroundJob.fencing_token == fence)
    finished = db.session.execute(
        update(BackgroundJob).where(BackgroundJob.id == job_id, held)
        # last_error stays: a success after retries still shows what failed before
        .values(state=JobState.SUCCEEDED.value, finished_at=utcnow(), next_attempt_at=None)
        .returning(BackgroundJob.id).execution_options(synchronize_session="fetch")
    ).first()
    if finished is None:
        ensure_claim_held(job_id, fence)  # raises ClaimSuperseded, saying what happened instead
        raise ClaimSuperseded(f"job {job_id} changed while its success was recorded")  # not reached
