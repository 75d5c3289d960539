"""Periodic maintenance tasks (queue ``maintenance``), sent by `flask beat`. Each run is a
job record (kind ``maintenance``, its result in ``detail``) so runs show in the database and
in the jobs metric."""
from __future__ import annotations

import logging
import uuid

from celery import shared_task

from models import BackgroundJob, JobKind, JobState, db
from models.mixins import utcnow
from services.maintenance import TASKS
from tasks.base import AppContextTask

log = logging.getLogger(__name__)
# Each maintenance task has a stable subject id, so its runs can be listed together.
SUBJECTS = {name: uuid.uuid5(uuid.NAMESPACE_URL, f"applytrack:maintenance:{name}") for name in TASKS}


@shared_task(name="maintenance.run", base=AppContextTask, bind=True)
def run(self: AppContextTask, name: str) -> None:
    """Run one maintenance task and record the run."""
    job = BackgroundJob(id=uuid.uuid4(), kind=JobKind.MAINTENANCE.value, subject_id=SUBJECTS[name], user_id=None,
                        state=JobState.RUNNING.value, attempts=1, published_at=utcnow(), started_at=utcnow(),
                        detail={"task": name})
    db.session.add(job)
    db.session.commit()
    try:
        outcome = TASKS[name]()
    except Exception as exc:
        db.session.rollback()
        job = db.session.get(BackgroundJob, job.id)
        job.last_error_class, job.last_error = type(exc).__name__, str(exc)[:2000]
        job.finish(JobState.FAILED)
        db.session.commit()
        log.exception("maintenance %s failed", name)
        return
    job = db.session.get(BackgroundJob, job.id)
    job.detail = {"task": name, **outcome}
    job.finish(JobState.SUCCEEDED)
    db.session.commit()
    log.info("maintenance %s: %s", name, outcome)
