"""Bulk re-analysis: refresh older results on the low-priority lane, with progress and cancel.

A request becomes a BulkRun and one expansion job (bulk lane); the expansion creates the
analyses in chunks, each committed with its jobs, and stops as soon as the run is cancelled.
Cancelling also marks every analysis of the run that has not started ``cancelled``: the relay
never publishes it and a worker that meets its message skips it.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on

from models import (Analysis, Application, BackgroundJob, BulkRun, JobKind, JobListing, JobState, Lane, Resume, db)
from models.mixins import utcnow
from services import jobs
from services.analyses import AnalysisRefused, request_analysis
from services.analysis.analyzers import analyzer_identity, configured_analyzer_name

CHUNK = 200


def start(*, user_id: uuid.UUID | None, requested_by: str, filters: dict) -> BulkRun:
    """Create the run and its expansion job; the caller commits. The analyzer (and so what
    "current" means) is fixed now, by the process that accepts the request."""
    analyzer = configured_analyzer_name(current_app.config)
    identity = analyzer_identity(analyzer, current_app.config)
    run = BulkRun(id=uuid.uuid4(), user_id=user_id, requested_by=requested_by, state="expanding",
                  filters=_jsonable({**filters, "analyzer": analyzer, "analyzer_version": identity.split(":")[-1]}))
    db.session.add(run)
    db.session.flush()
    jobs.enqueue(JobKind.BULK_EXPANSION.value, run.id, user_id=user_id, lane=Lane.BULK.value, bulk_run_id=run.id)
    return run


def _jsonable(filters: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v)
            for k, v in filters.items() if v is not None}


def pairs_to_refresh(run: BulkRun):
    """The latest analysis of every (resume, listing) pair that the run's filters select."""
    filters = run.filters
    latest = (
        select(Analysis)
        .ext(distinct_on(Analysis.resume_id, Analysis.job_listing_id))
        .order_by(Analysis.resume_id, Analysis.job_listing_id, Analysis.created_at.desc())
    )
    if run.user_id is not None:
        latest = latest.where(Analysis.user_id == run.user_id)
    if filters.get("resume_id"):
        latest = latest.where(Analysis.resume_id == uuid.UUID(filters["resume_id"]))
    if filters.get("application_status"):
        in_stage = select(Application.id).where(
            Application.resume_id == Analysis.resume_id, Application.job_id == Analysis.job_listing_id,
            Application.status == filters["application_status"], Application.deleted_at.is_(None),
        )
        latest = latest.where(in_stage.exists())
    latest = latest.subquery()
    statement = select(latest.c.resume_id, latest.c.job_listing_id)
    if filters.get("created_before"):
        statement = statement.where(latest.c.created_at < datetime.fromisoformat(filters["created_before"]))
    if filters.get("older_than_current", True):
        statement = statement.where((latest.c.analyzer != filters["analyzer"])
                                    | (latest.c.analyzer_version != filters["analyzer_version"]))
    return statement.order_by(latest.c.resume_id, latest.c.job_listing_id)


def expand_for_job(job: BackgroundJob) -> None:
    """The expansion task's work. Resumable: pairs whose analysis this run already created are
    skipped, so a redelivered expansion continues where it stopped."""
    run = db.session.get(BulkRun, job.subject_id)
    pairs = db.session.execute(pairs_to_refresh(run)).all()
    done = set(db.session.execute(
        select(Analysis.resume_id, Analysis.job_listing_id).join(Analysis.job).where(BackgroundJob.bulk_run_id == run.id)
    ).all())
    todo = [pair for pair in pairs if tuple(pair) not in done]
    run.total = len(done) + len(todo)
    db.session.commit()
    for start_at in range(0, len(todo), CHUNK):
        # Locked until the chunk commits: a cancel waits for it, then cancels what it created.
        db.session.refresh(run, with_for_update=True)
        if run.state == "cancelled":
            break  # stop publishing: nothing more is created
        chunk = todo[start_at:start_at + CHUNK]
        resumes = {r.id: r for r in db.session.scalars(select(Resume).where(Resume.id.in_({p[0] for p in chunk})))}
        listings = {lst.id: lst for lst in db.session.scalars(
            select(JobListing).where(JobListing.id.in_({p[1] for p in chunk})))}
        for resume_id, listing_id in chunk:
            if resume_id in resumes and listing_id in listings:
                try:
                    request_analysis(resumes[resume_id], listings[listing_id], force=True, lane=Lane.BULK.value,
                                     bulk_run_id=run.id, analyzer=run.filters["analyzer"])
                except AnalysisRefused:
                    continue  # a resume whose text could not be extracted: nothing to re-analyse
        db.session.commit()
    db.session.refresh(run)
    if run.state == "expanding":
        run.state = "running"
    jobs.succeed(job)
    db.session.commit()


def expansion_failed(job: BackgroundJob, reason: str, message: str) -> None:
    """An expansion that cannot go on: what it created still runs, nothing more is created
    (the run's progress shows how many); the expansion job records why."""
    run = db.session.get(BulkRun, job.subject_id)
    if run is not None and run.state == "expanding":
        run.state = "running"


def cancel(run: BulkRun) -> int:
    """Stop the run: no more analyses are created, and those not started are skipped.
    Returns how many were cancelled; the caller commits."""
    # The run's row is the lock an expansion chunk holds while it creates analyses: waiting
    # for it means every analysis committed so far is seen below, and no chunk starts after.
    db.session.refresh(run, with_for_update=True)
    if run.state == "cancelled":
        return 0
    run.state = "cancelled"
    run.cancelled_at = utcnow()
    of_run = select(BackgroundJob.id).where(BackgroundJob.bulk_run_id == run.id,
                                            BackgroundJob.kind == JobKind.ANALYSIS.value)
    return jobs.cancel_not_started(of_run, "its bulk re-analysis was cancelled")


def progress(run: BulkRun) -> dict:
    counts = dict(db.session.execute(
        select(BackgroundJob.state, func.count())
        .where(BackgroundJob.bulk_run_id == run.id, BackgroundJob.kind == JobKind.ANALYSIS.value)
        .group_by(BackgroundJob.state)
    ).all())
    created = sum(counts.values())
    return {
        "id": run.id, "state": run.state, "filters": run.filters, "requested_by": run.requested_by,
        "created_at": run.created_at, "cancelled_at": run.cancelled_at,
        "total": run.total, "created": created,
        "done": counts.get(JobState.SUCCEEDED.value, 0),
        "failed": counts.get(JobState.FAILED.value, 0) + counts.get(JobState.DEAD.value, 0),
        "cancelled": counts.get(JobState.CANCELLED.value, 0),
        "pending": sum(counts.get(s, 0) for s in (*jobs.NOT_STARTED, JobState.RUNNING.value)),
    }
