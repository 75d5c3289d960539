"""Task base classes: Flask app context, and the retry / fail / dead-letter policy every job
task shares. A concrete task only names its work and what a failure means for its subject."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable

from celery import Task
from celery.exceptions import Reject, SoftTimeLimitExceeded
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from models import BackgroundJob, db
from services import jobs
from services.jobs import ClaimSuperseded, PermanentFailure, RetryPolicy, TransientError, TooManyAttempts
from services.logging_setup import log_context
from services.metrics import SUPERSEDED_OUTCOMES, TASK_DEAD_LETTERS, TASK_RETRIES, TASK_SECONDS
from services.storage import StorageUnavailable

log = logging.getLogger(__name__)

# Failures that a later attempt may not meet: retried with backoff, then dead-lettered.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (TransientError, StorageUnavailable)
# How long to hold a message while the database is down before handing it back anyway: every
# return of a quorum queue's message counts towards its delivery limit (RabbitMQ < 4.3), so a
# worker waits for the database rather than bouncing the message every few seconds.
DATABASE_DOWN_HOLD = 60.0

Work = Callable[[BackgroundJob], None]
OnFailure = Callable[[BackgroundJob, str, str], None]


# One run of a job at a time in this process. When the broker connection drops, every unacked
# message comes back, also those of tasks still running here (a threads pool cannot cancel
# them); the claim would take such a redelivery for a dead worker's and run, and pay for, the
# job twice. A second delivery of a job this process is running waits for that run instead;
# its claim then finds the job finished (or back in the outbox) and does nothing.
_RUNS_HERE: dict[uuid.UUID, list] = {}  # job id -> [lock, deliveries holding or waiting for it]
_RUNS_HERE_GUARD = threading.Lock()
# How long a second delivery waits for this process's own run of its job.
RUN_HERE_WAIT = 600.0


@contextmanager
def _one_run_here(job_id: uuid.UUID):
    with _RUNS_HERE_GUARD:
        entry = _RUNS_HERE.setdefault(job_id, [threading.Lock(), 0])
        entry[1] += 1
    lock = entry[0]
    acquired = lock.acquire(blocking=False)
    if not acquired:
        log.info("job %s: delivered again while running here; waiting for that run", job_id)
        acquired = lock.acquire(timeout=RUN_HERE_WAIT)
    try:
        yield
    finally:
        if acquired:
            lock.release()
        with _RUNS_HERE_GUARD:
            entry[1] -= 1
            if entry[1] == 0:
                _RUNS_HERE.pop(job_id, None)


def _wait_for_database(limit: float) -> None:
    """Until the database answers again, or ``limit`` seconds."""
    deadline, pause = time.monotonic() + limit, 0.25
    while time.monotonic() < deadline:
        time.sleep(pause)
        try:
            db.session.execute(text("SELECT 1"))
            return
        except OperationalError:
            pause = min(pause * 2, 4.0)
        finally:
            db.session.rollback()


class AppContextTask(Task):
    """Runs inside the Flask app context: same config and database session handling as the API.

    While the task runs, every log line carries its task id, its job id (the first argument:
    tasks take the id of their job) and the id of the request that queued it.
    """

    def __call__(self, *args, **kwargs):
        with self.app.flask_app.app_context(), log_context(**self._log_ids(args)):
            return super().__call__(*args, **kwargs)

    def _log_ids(self, args: tuple) -> dict[str, str | None]:
        # The relay publishes the job's request id as the custom message header "request_id";
        # Celery keeps custom headers in request.headers (and re-sends them on retry).
        headers = self.request.headers or {}
        return {
            "request_id": headers.get("request_id"),
            "task_id": self.request.id,
            "job_id": str(args[0]) if args else None,
        }


class JobTask(AppContextTask):
    """Runs one BackgroundJob per message.

    - success: the work stores its result and marks the job succeeded in one transaction;
    - PermanentFailure: job ``failed`` with the reason, message acked (nothing to replay);
    - transient error: retried with exponential backoff and jitter up to ``TASK_MAX_RETRIES``
      (the job waits in the outbox until due, the relay publishes it again), then job ``dead``
      and the message rejected into the dead-letter queue;
    - any other error: job ``dead`` and dead-lettered at once (a bug an operator must see);
    - database down: the message is held until the database is back (nothing can be recorded
      meanwhile), then goes back to the queue.
    """

    abstract = True

    def run_job(self, job_id: str, work: Work, on_failure: OnFailure) -> None:
        policy = RetryPolicy(
            max_retries=current_app.config["TASK_MAX_RETRIES"],
            backoff=current_app.config["TASK_RETRY_BACKOFF"],
            backoff_max=current_app.config["TASK_RETRY_BACKOFF_MAX"],
        )
        try:
            self._run(uuid.UUID(job_id), work, on_failure, policy)
        except OperationalError as exc:
            db.session.rollback()
            log.error("job %s: database unavailable (%s); holding the message until it is back", job_id, exc.orig)
            _wait_for_database(DATABASE_DOWN_HOLD)
            raise Reject(exc, requeue=True) from exc

    def _run(self, job_id: uuid.UUID, work: Work, on_failure: OnFailure, policy: RetryPolicy) -> None:
        redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
        with _one_run_here(job_id):
            try:
                job = jobs.claim(job_id, redelivered=redelivered, max_attempts=policy.max_attempts)
            except TooManyAttempts as exc:
                try:
                    self._dead_letter(job_id, exc, on_failure, fence=exc.fence, states=jobs.NOT_ENDED)
                except ClaimSuperseded:  # it ended or was claimed again meanwhile: nothing to bury
                    db.session.rollback()
                    return
            if job is None:
                return
            self._run_claimed(job_id, job, work, on_failure, policy)

    def _run_claimed(self, job_id: uuid.UUID, job: BackgroundJob, work: Work, on_failure: OnFailure,
                     policy: RetryPolicy) -> None:
        kind, attempt, started = job.kind, job.attempts, time.monotonic()
        log.info("job started: %s, attempt %d", kind, attempt, extra={"kind": kind, "attempt": attempt})
        outcome = "error"
        try:
            outcome = self._attempt(job_id, job, work, on_failure, policy)
        except ClaimSuperseded as superseded:
            # This worker was cut off (or too slow) and the job was claimed again since: the
            # newer claim's outcome stands, this one is dropped, and the message acked.
            db.session.rollback()
            outcome = "superseded"
            SUPERSEDED_OUTCOMES.labels(kind).inc()
            log.warning("job %s: outcome of attempt %d discarded: %s", job_id, attempt, superseded)
        except Reject as rejected:
            outcome = "requeued" if rejected.requeue else "dead"
            raise
        finally:
            # Logged however the attempt ended (a dead-letter raises); the line
            # before it says how, the job's state says what came of it.
            duration = time.monotonic() - started
            TASK_SECONDS.labels(self.name, outcome).observe(duration)
            log.info("job finished: %s, attempt %d", kind, attempt,
                     extra={"kind": kind, "attempt": attempt, "duration_ms": round(duration * 1000, 1),
                            "outcome": outcome})

    def _attempt(self, job_id: uuid.UUID, job: BackgroundJob, work: Work, on_failure: OnFailure,
                 policy: RetryPolicy) -> str:
        """Run the work once; returns how it ended ("ok", "failed", "retry"), or raises Reject, or
        ClaimSuperseded when a newer claim of the job makes this attempt's outcome moot."""
        attempt, fence = job.attempts, job.held_fence
        try:
            work(job)
            return "ok"
        except PermanentFailure as failure:
            job = jobs.fail(job_id, failure, fence=fence)
            on_failure(job, failure.reason, failure.message)
            db.session.commit()
            log.info("job %s failed permanently: %s", job_id, failure.reason)
            return "failed"
        except TRANSIENT_ERRORS as exc:
            retries_so_far = attempt - 1
            if retries_so_far >= policy.max_retries:
                self._dead_letter(job_id, exc, on_failure, fence=fence)
            # The retry is a row, not a message: the job waits in the outbox until it is due and
            # the relay publishes it again; this message is acked when the task returns. Nothing
            # is held in a worker's memory or in a broker's delayed queue, so the retry survives
            # a broker restart or a worker's death, and never blocks a prefetch slot.
            countdown = policy.countdown(retries_so_far)
            jobs.schedule_retry(job_id, exc, countdown, fence=fence)
            TASK_RETRIES.labels(self.name).inc()
            log.warning("job %s: transient %s (%s); retry in %.2fs", job_id, type(exc).__name__, exc, countdown)
            return "retry"
        except SoftTimeLimitExceeded as exc:
            self._dead_letter(job_id, exc, on_failure, fence=fence)
        except (OperationalError, ClaimSuperseded):
            raise
        except Exception as exc:
            log.exception("job %s: unexpected error", job_id)
            self._dead_letter(job_id, exc, on_failure, fence=fence)

    def _dead_letter(self, job_id: uuid.UUID, exc: BaseException, on_failure: OnFailure, *, fence: int,
                     states: tuple[str, ...] = jobs.RUNNING_ONLY):
        job = jobs.bury(job_id, exc, fence=fence, states=states)
        on_failure(job, jobs.PROCESSING_ERROR, "Processing failed because of a problem on our side; "
                   "it has been reported and can be retried by an operator.")
        db.session.commit()
        TASK_DEAD_LETTERS.labels(self.name).inc()
        log.error("job %s dead-lettered after %d attempt(s): %s: %s", job_id, job.attempts, type(exc).__name__, exc)
        raise Reject(exc, requeue=False)
