"""Periodic maintenance, as plain functions; each returns what it did (recorded on its job)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, text, update

from models import (Analysis, Application, ApplicationStatus, AuthSession, BackgroundJob, BulkRun, JobKind, JobRescue,
                    JobState, Resume, db)
from models.mixins import utcnow
from services import dead_letters, jobs, resumes, waiting
from services.backpressure import bulk_allowance
from services.outbox import ConfirmedBatchPublisher, publish_pending
from services.retention import apply_retention

log = logging.getLogger(__name__)

# A file younger than this may belong to an upload whose row is not committed yet.
ORPHAN_GRACE_SECONDS = 3600
ORPHAN_BATCH = 500
# A job settled this long ago and still waiting is stranded: its own after-commit re-check
# (services/waiting.py) runs within milliseconds, so the sweep never races it.
RESCUE_GRACE_SECONDS = 60
# Past its time limit plus this, a running job whose worker is gone is stuck.
STUCK_MARGIN_SECONDS = 120


def republish_unpublished() -> dict:
    """Committed-but-unpublished jobs: the relay normally sends them at once; if it is down,
    this does, with the same confirmed publishes (a job sent twice is harmless)."""
    publisher = ConfirmedBatchPublisher(current_app.extensions["celery"])
    try:
        published = publish_pending(publisher, batch_size=500, bulk_allowance=bulk_allowance)
    finally:
        publisher.close()
    return {"published": published}


def _active_task_ids() -> set[str] | None:
    """Ids of the tasks workers are running now; None when no worker answers at all."""
    replies = current_app.extensions["celery"].control.inspect(timeout=2).active()
    if not replies:
        return None
    return {task["id"] for tasks in replies.values() for task in tasks}


def stuck_cutoff(config) -> datetime:
    """A job still running that started before this has run longer than any task may: its
    worker is gone, or it is stuck (also counted in /metrics as running past the limit)."""
    limit = max(config["EXTRACTION_TIME_LIMIT"] + 30, config["LLM_TIMEOUT"] * 3)
    return utcnow() - timedelta(seconds=limit + STUCK_MARGIN_SECONDS)


def requeue_stuck_jobs() -> dict:
    """Jobs 'running' for longer than any task may run, that no live worker is running: the
    worker died after acking, or the database missed the outcome. Back to the outbox."""
    cutoff = stuck_cutoff(current_app.config)
    stuck = db.session.scalars(
        select(BackgroundJob).where(BackgroundJob.state == JobState.RUNNING.value, BackgroundJob.started_at < cutoff)
        .with_for_update(skip_locked=True)
    ).all()
    if not stuck:
        db.session.rollback()
        return {"requeued": 0}
    active = _active_task_ids() or set()
    requeued = 0
    for job in stuck:
        if str(job.id) in active:
            continue
        job.state = JobState.QUEUED.value
        job.published_at = None  # the relay publishes it again
        job.last_error_class = "WorkerLost"
        job.last_error = f"running since {job.started_at:%Y-%m-%d %H:%M:%S} with no live worker; requeued"
        requeued += 1
    db.session.execute(text("NOTIFY applytrack_outbox"))
    db.session.commit()
    return {"requeued": requeued}


def rescue_stranded_jobs() -> dict:
    """The safety net that should never fire: jobs left waiting for something that already
    happened, or for a subject that is gone, are settled, each logged at WARNING and recorded
    (``job_rescues``, counted in /metrics) because each one means a bug or a process that died
    between a commit and its follow-up (services/waiting.py says why none should be left)."""
    cutoff = utcnow() - timedelta(seconds=RESCUE_GRACE_SECONDS)
    stranded = db.session.execute(
        select(BackgroundJob.id, BackgroundJob.kind, BackgroundJob.state, Analysis.resume_id, BulkRun.state)
        .outerjoin(Analysis, Analysis.job_id == BackgroundJob.id)
        .outerjoin(BulkRun, BulkRun.id == BackgroundJob.bulk_run_id)
        .where(BackgroundJob.updated_at < cutoff,
               (BackgroundJob.state == JobState.WAITING.value)
               | ((BackgroundJob.state == JobState.QUEUED.value) & (BulkRun.state == "cancelled")))
    ).all()
    outcome = {"released": 0, "failed": 0, "cancelled": 0}
    subject_gone, run_cancelled, resumes = [], [], set()
    for job_id, kind, state, resume_id, run_state in stranded:
        if run_state == "cancelled":
            run_cancelled.append((job_id, kind, state))
        elif resume_id is None:
            subject_gone.append((job_id, kind, state))
        else:
            resumes.add(resume_id)
    for resume_id in resumes:
        released, failed = waiting.settle(db.session, resume_id)
        _rescued([(job_id, JobKind.ANALYSIS.value, JobState.WAITING.value) for job_id in released], "released",
                 f"its resume {resume_id} already had text", outcome)
        _rescued([(job_id, JobKind.ANALYSIS.value, JobState.WAITING.value) for job_id in failed], "failed",
                 f"its resume {resume_id} already failed extraction", outcome)
    for stuck, why in ((subject_gone, "its analysis was deleted"), (run_cancelled, "its bulk run was cancelled")):
        if stuck:
            jobs.cancel_not_started(select(BackgroundJob.id).where(BackgroundJob.id.in_([j[0] for j in stuck])), why)
            _rescued(stuck, "cancelled", why, outcome)
    db.session.commit()
    return outcome


def _rescued(settled: list[tuple], action: str, reason: str, outcome: dict) -> None:
    for job_id, kind, state in settled:
        log.warning("rescued stranded job %s (%s, %s): %s; %s", job_id, kind, state, action, reason,
                    extra={"job_id": str(job_id), "rescue": action})
        db.session.add(JobRescue(job_id=job_id, kind=kind, from_state=state, action=action, reason=reason))
        outcome[action] += 1


def reconcile_dead_letters() -> dict:
    """Messages the broker dead-lettered on its own (a quorum queue's delivery limit) make their
    jobs dead, so operators see and replay them; stale copies of finished jobs are removed."""
    return dead_letters.reconcile(current_app.extensions["celery"])


def purge_expired_sessions() -> dict:
    """Login sessions (revoked or not) past their expiry: their tokens can no longer be used."""
    result = db.session.execute(delete(AuthSession).where(AuthSession.expires_at < utcnow()))
    db.session.commit()
    return {"purged_sessions": result.rowcount}


def remove_orphan_files() -> dict:
    """Stored files no resume refers to, stored more than the grace period ago: with the
    filesystem backend, a crash between storing a file and committing its row; with the database
    one (whose rows commit with their resume), a removal that failed after its resume's delete
    committed, or a file `flask storage migrate` copied for a resume deleted meanwhile."""
    removed = 0
    keys = list(current_app.extensions["storage"].keys(older_than=timedelta(seconds=ORPHAN_GRACE_SECONDS)))
    db.session.commit()
    for start in range(0, len(keys), ORPHAN_BATCH):
        batch = keys[start:start + ORPHAN_BATCH]
        used = set(db.session.scalars(select(Resume.sha256).where(Resume.sha256.in_(batch)).distinct()))
        db.session.commit()
        for key in batch:
            if key not in used:
                # Checked again under the key's lock: an upload of these bytes may be committing.
                removed += resumes.remove_file_if_unused(key)
                db.session.commit()
    return {"removed_files": removed}


def flag_follow_ups() -> dict:
    """Applications still open whose stage has not changed for FOLLOW_UP_DAYS."""
    cutoff = utcnow() - timedelta(days=current_app.config["FOLLOW_UP_DAYS"])
    open_stages = select(ApplicationStatus.slug).where(ApplicationStatus.is_terminal.is_(False))
    result = db.session.execute(
        update(Application)
        .where(Application.deleted_at.is_(None), Application.needs_follow_up.is_(False),
               Application.status_changed_at < cutoff, Application.status.in_(open_stages))
        .values(needs_follow_up=True)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return {"flagged": result.rowcount}


TASKS = {
    "republish_unpublished": republish_unpublished,
    "requeue_stuck_jobs": requeue_stuck_jobs,
    "rescue_stranded_jobs": rescue_stranded_jobs,
    "reconcile_dead_letters": reconcile_dead_letters,
    "purge_expired_sessions": purge_expired_sessions,
    "remove_orphan_files": remove_orphan_files,
    "flag_follow_ups": flag_follow_ups,
    "apply_retention": apply_retention,
}
