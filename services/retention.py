"""Retention of the tables that only grow, run by the maintenance schedule (``apply_retention``).

What is removed, once older than its setting (config: ``RETENTION_*``):
- finished jobs (succeeded, failed, cancelled) of every kind but analysis, ``finished_at`` past
  RETENTION_FINISHED_JOBS_DAYS, with their failure records;
- dead jobs an operator discarded, past RETENTION_DEAD_LETTER_ACTIONS_DAYS since the discard
  (they go with the action log that explains them);
- analyses superseded by a newer analysis of the same resume and listing, created past
  RETENTION_SUPERSEDED_ANALYSES_DAYS, with their jobs (an analysis job is removed only with its
  analysis);
- failure records of finished jobs (the analysis jobs that stay) past RETENTION_FINISHED_JOBS_DAYS;
- dead-letter actions past RETENTION_DEAD_LETTER_ACTIONS_DAYS;
- idempotency keys past RETENTION_IDEMPOTENCY_KEY_HOURS (a client retries within minutes).

What is never removed: a dead job awaiting an operator (and its failures), a job not finished,
the latest analysis of a pair and its latest successful one, an analysis an idempotency key still
answers for, a resume's extraction job, a job with a rescue record (each is a bug to look at)
or with a dead-letter action still kept. Each kind is deleted in batches of RETENTION_BATCH rows, one transaction each, rows
locked by others skipped (the next run takes them), at most RETENTION_MAX_BATCHES per kind per
run, so a run never holds locks long and a backlog drains over a few runs. Every candidate
query starts from an index on its age, so a run reads what it removes, not the whole history.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import aliased

from models import (Analysis, BackgroundJob, DeadLetterAction, IdempotencyKey, JobFailure, JobKind, JobRescue, JobState,
                    Resume, db)
from models.mixins import utcnow

FINISHED = (JobState.SUCCEEDED.value, JobState.FAILED.value, JobState.CANCELLED.value)


def apply_retention() -> dict:
    config = current_app.config
    now = utcnow()
    jobs_cutoff = now - timedelta(days=config["RETENTION_FINISHED_JOBS_DAYS"])
    actions_cutoff = now - timedelta(days=config["RETENTION_DEAD_LETTER_ACTIONS_DAYS"])
    analyses_cutoff = now - timedelta(days=config["RETENTION_SUPERSEDED_ANALYSES_DAYS"])
    keys_cutoff = now - timedelta(hours=config["RETENTION_IDEMPOTENCY_KEY_HOURS"])
    batch, max_batches = config["RETENTION_BATCH"], config["RETENTION_MAX_BATCHES"]

    def sweep(model, candidates) -> int:
        removed = 0
        for _ in range(max_batches):
            ids = candidates.limit(batch).with_for_update(of=model, skip_locked=True).scalar_subquery()
            count = db.session.execute(delete(model).where(model.id.in_(ids))
                                       .execution_options(synchronize_session=False)).rowcount
            db.session.commit()
            removed += count
            if count < batch:
                break
        return removed

    # Keys first: an analysis a key still answers for is kept.
    outcome = {"idempotency_keys": sweep(IdempotencyKey, select(IdempotencyKey.id)
                                         .where(IdempotencyKey.created_at < keys_cutoff))}
    outcome["superseded_analyses"] = _sweep_superseded_analyses(analyses_cutoff, actions_cutoff, batch, max_batches)
    outcome["finished_jobs"] = sweep(BackgroundJob, select(BackgroundJob.id).where(
        or_(and_(BackgroundJob.state.in_(FINISHED), BackgroundJob.kind != JobKind.ANALYSIS.value,
                 BackgroundJob.finished_at < jobs_cutoff),
            and_(BackgroundJob.state == JobState.DEAD.value, BackgroundJob.discarded_at < actions_cutoff,
                 BackgroundJob.kind != JobKind.ANALYSIS.value)),
        *_job_unreferenced(BackgroundJob, actions_cutoff)))
    outcome["job_failures"] = sweep(JobFailure, select(JobFailure.id).join(BackgroundJob).where(
        JobFailure.failed_at < jobs_cutoff,
        or_(BackgroundJob.state.in_(FINISHED),
            and_(BackgroundJob.state == JobState.DEAD.value, BackgroundJob.discarded_at.is_not(None)))))
    outcome["dead_letter_actions"] = sweep(DeadLetterAction, select(DeadLetterAction.id)
                                           .where(DeadLetterAction.at < actions_cutoff))
    return outcome


def _job_unreferenced(job, actions_cutoff) -> list:
    """A job a resume names as its extraction, with a rescue record, or with a dead-letter
    action still kept, stays."""
    return [~exists().where(Resume.extraction_job_id == job.id),
            ~exists().where(JobRescue.job_id == job.id),
            ~exists().where(DeadLetterAction.job_id == job.id, DeadLetterAction.at >= actions_cutoff)]


def _sweep_superseded_analyses(cutoff, actions_cutoff, batch: int, max_batches: int) -> int:
    """Analyses with a newer one of the same pair (and, if they succeeded, a newer successful
    one), whose job is over (finished, or dead and discarded long enough ago); then their jobs."""
    newer = aliased(Analysis)
    newer_job = aliased(BackgroundJob)
    job = aliased(BackgroundJob)
    later = and_(newer.resume_id == Analysis.resume_id, newer.job_listing_id == Analysis.job_listing_id,
                 (newer.created_at > Analysis.created_at)
                 | ((newer.created_at == Analysis.created_at) & (newer.id > Analysis.id)))
    candidates = (
        select(Analysis.id).join(job, job.id == Analysis.job_id)
        .where(Analysis.created_at < cutoff,
               or_(job.state.in_(FINISHED),
                   and_(job.state == JobState.DEAD.value, job.discarded_at < actions_cutoff)),
               exists().where(later),
               or_(job.state != JobState.SUCCEEDED.value,
                   exists().where(later, newer_job.id == newer.job_id,
                                  newer_job.state == JobState.SUCCEEDED.value)),
               ~exists().where(IdempotencyKey.analysis_id == Analysis.id),
               *_job_unreferenced(job, actions_cutoff))
    )
    removed = 0
    for _ in range(max_batches):
        ids = candidates.limit(batch).with_for_update(of=Analysis, skip_locked=True).scalar_subquery()
        job_ids = db.session.scalars(delete(Analysis).where(Analysis.id.in_(ids)).returning(Analysis.job_id)
                                     .execution_options(synchronize_session=False)).all()
        if job_ids:
            db.session.execute(delete(BackgroundJob).where(BackgroundJob.id.in_(job_ids))
                               .execution_options(synchronize_session=False))
        db.session.commit()
        removed += len(job_ids)
        if len(job_ids) < batch:
            break
    return removed
