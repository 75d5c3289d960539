"""Asking for and running resume analyses, as plain functions for views and tasks."""
from __future__ import annotations

import hashlib
import uuid

from flask import current_app
from sqlalchemy import and_, bindparam, select, text, update

from models import (Analysis, BackgroundJob, ExtractionStatus, IdempotencyKey, JobKind, JobListing, JobState, Lane,
                    Resume, db)
from models.mixins import utcnow
from services import jobs, llm_budget, waiting
from services.analysis.analyzers import analyzer_identity, configured_analyzer_name, get_analyzer
from services.analysis.llm import PROMPT_VERSION, LLMSettings
from services.backpressure import Overloaded, check_analysis_capacity
from services.metrics import LLM_COST, LLM_TOKENS

ACTIVE_OR_DONE = (JobState.WAITING.value, JobState.QUEUED.value, JobState.RUNNING.value, JobState.SUCCEEDED.value)


class AnalysisRefused(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def _sha256(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def input_hash(resume: Resume, listing: JobListing, identity: str) -> str:
    """Same resume bytes + same listing text + same analyzer version = the same question."""
    return _sha256(resume.sha256, listing.title, listing.description, identity)


# Built once: every request for an analysis runs it. The listing is outer-joined so that one
# round trip tells a missing resume (no row) from a missing listing (no listing in the row).
_RESUME_AND_LISTING = (
    select(Resume, JobListing)
    .outerjoin(JobListing, and_(JobListing.id == bindparam("listing_id"), JobListing.user_id == bindparam("user_id")))
    .where(Resume.id == bindparam("resume_id"), Resume.user_id == bindparam("user_id"))
)


def owned_resume_and_listing(user_id: uuid.UUID, resume_id: uuid.UUID,
                             listing_id: uuid.UUID) -> tuple[Resume | None, JobListing | None]:
    """The user's resume and job listing with these ids, in one query; None for what is not
    theirs (another user's id looks the same as no id)."""
    row = db.session.execute(
        _RESUME_AND_LISTING, {"user_id": user_id, "resume_id": resume_id, "listing_id": listing_id}
    ).first()
    return (row[0], row[1]) if row is not None else (None, None)


def _advisory_lock(key: str) -> None:
    db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def request_analysis(resume: Resume, listing: JobListing, *, force: bool = False,
                     request_id: str | None = None, lane: str = Lane.INTERACTIVE.value,
                     bulk_run_id: uuid.UUID | None = None, analyzer: str | None = None) -> tuple[Analysis, bool]:
    """The analysis answering "how well does ``resume`` fit ``listing``": an existing one for the
    same inputs (unless ``force``), else a new one queued (or waiting for the resume's text).
    Returns ``(analysis, created)``; the caller commits."""
    _refuse_if_unreadable(resume)
    config = current_app.config
    analyzer = analyzer or configured_analyzer_name(config)
    identity = analyzer_identity(analyzer, config)
    fingerprint = input_hash(resume, listing, identity)
    if not force:
        # Two identical requests at once must not both create work; ``force`` creates it anyway.
        _advisory_lock(f"analysis:{resume.user_id}:{fingerprint}")
        existing = db.session.scalar(
            select(Analysis).join(Analysis.job)
            .where(Analysis.user_id == resume.user_id, Analysis.input_hash == fingerprint,
                   BackgroundJob.state.in_(ACTIVE_OR_DONE))
            .order_by(Analysis.created_at.desc()).limit(1)
        )
        if existing is not None:
            return existing, False
        if resume.text is None:
            # The same request ahead of this one may have seen its analysis failed meanwhile,
            # because the extraction failed for good: this one is refused, not a second failure.
            fresh = db.session.get(Resume, resume.id, populate_existing=True)
            if fresh is None:  # deleted meanwhile
                raise AnalysisRefused(404, "Resume not found.")
            _refuse_if_unreadable(fresh)
    if lane == Lane.INTERACTIVE.value:  # the bulk lane has its own queue and its own pace
        try:
            check_analysis_capacity(resume.user_id, analyzer)
        except Overloaded as overloaded:
            raise AnalysisRefused(overloaded.status, overloaded.message, overloaded.retry_after) from overloaded
    analysis_id = uuid.uuid4()
    job = jobs.enqueue(JobKind.ANALYSIS.value, analysis_id, user_id=resume.user_id, request_id=request_id,
                       lane=lane, bulk_run_id=bulk_run_id)
    if resume.text is None:
        job.state = JobState.WAITING.value  # released when the extraction succeeds
        waiting.recheck_after_commit(resume.id)  # ... even if it succeeds while this commits
    settings = LLMSettings.from_config(config) if analyzer == "llm" else None
    analysis = Analysis(
        id=analysis_id, user_id=resume.user_id, resume_id=resume.id, job_listing_id=listing.id, job=job,
        input_hash=fingerprint, analyzer=analyzer, analyzer_version=identity.split(":")[-1],
        model=settings.model if settings else None, prompt_version=PROMPT_VERSION if settings else None,
    )
    db.session.add(analysis)
    return analysis, True


def _refuse_if_unreadable(resume: Resume) -> None:
    if resume.extraction_status == ExtractionStatus.FAILED.value and resume.text is None:
        raise AnalysisRefused(
            409, f"This resume's text could not be extracted ({resume.failure_reason}): "
                 f"{resume.failure_message or 'upload it again'}"
        )


def request_with_idempotency_key(key: str, resume: Resume, listing: JobListing, *, force: bool,
                                 request_id: str | None) -> tuple[Analysis, bool]:
    """A retried POST with the same key returns what the first one did; the same key with a
    different request is refused."""
    request_hash = _sha256(str(resume.id), str(listing.id), str(force))
    _advisory_lock(f"idempotency:{resume.user_id}:{key}")
    seen = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == resume.user_id,
                                                          IdempotencyKey.key == key))
    if seen is not None:
        if seen.request_hash != request_hash:
            raise AnalysisRefused(422, "This Idempotency-Key was used with a different request; use a new key.")
        return db.session.get(Analysis, seen.analysis_id), False
    analysis, created = request_analysis(resume, listing, force=force, request_id=request_id)
    db.session.flush()
    db.session.add(IdempotencyKey(user_id=resume.user_id, key=key, request_hash=request_hash,
                                  analysis_id=analysis.id, created_at=utcnow()))
    return analysis, created


def latest_for_pair(user_id: uuid.UUID, resume_id: uuid.UUID, listing_id: uuid.UUID) -> Analysis | None:
    return db.session.scalar(
        select(Analysis)
        .where(Analysis.user_id == user_id, Analysis.resume_id == resume_id, Analysis.job_listing_id == listing_id)
        .order_by(Analysis.created_at.desc()).limit(1)
    )


def run_for_job(job: BackgroundJob) -> None:
    """The analysis task's work: analyse, store the result with provenance, mark succeeded."""
    # One round trip for the three rows; every analysis pays for this query.
    row = db.session.execute(
        select(Analysis, Resume, JobListing)
        .join(Resume, Resume.id == Analysis.resume_id)
        .join(JobListing, JobListing.id == Analysis.job_listing_id)
        .where(Analysis.job_id == job.id)
    ).first()
    if row is None:
        raise _deleted_meanwhile()
    analysis, resume, listing = row
    if resume.text is None:
        # Delivered before the text exists (e.g. replayed early): wait for the extraction again.
        job.state = JobState.WAITING.value
        waiting.recheck_after_commit(resume.id)
        db.session.commit()
        return
    # What this result is computed from: the listing may be edited while the analyzer runs, and
    # the stored hash must name the text that was analysed, not the one asked about.
    identity = analyzer_identity(analysis.analyzer, current_app.config)
    analysed_inputs = input_hash(resume, listing, identity)
    analysis_id, user_id, analyzer_name = analysis.id, analysis.user_id, analysis.analyzer
    texts = (resume.text, listing.title, listing.description)
    # End the read before the slow call: no connection is held (a -c16 pool would wait for the
    # 16th of a pool of 15) and no transaction stays open while the LLM answers.
    db.session.rollback()
    # Refuses when the user's LLM budget is spent today; else counts each LLM call as it is paid.
    on_usage = llm_budget.meter(user_id, analyzer_name)
    analyzer = get_analyzer(analyzer_name, current_app.config, on_usage=on_usage)
    output = analyzer.analyze(*texts)
    # Paid, whether or not this result is stored (the resume may be gone, or a late worker's
    # outcome refused): the spend metrics count every call, the analysis row only the one kept.
    if output.tokens_in or output.tokens_out:
        model = output.model or output.analyzer
        LLM_TOKENS.labels("input", model).inc(output.tokens_in)
        LLM_TOKENS.labels("output", model).inc(output.tokens_out)
        LLM_COST.labels(model).inc(float(output.cost_usd))
    # The resume or listing (and so this analysis) may have been deleted while the analyzer ran.
    # The UPDATE locks the row (FOR NO KEY UPDATE: a delete waits for this transaction) and
    # tells by matching nothing that it is gone: one round trip, where reading and locking the
    # row first and writing it at commit took two (issue 18).
    stored = db.session.execute(
        update(Analysis).where(Analysis.id == analysis_id)
        .values(input_hash=analysed_inputs, analyzer_version=identity.split(":")[-1],
                result=output.result.to_dict(), score=output.result.score, verdict=output.result.verdict,
                model=output.model, prompt_version=output.prompt_version, tokens_in=output.tokens_in,
                tokens_out=output.tokens_out, latency_ms=output.latency_ms, cost_usd=output.cost_usd,
                failure_reason=None, failure_message=None, completed_at=utcnow())
        .returning(Analysis.id).execution_options(synchronize_session=False)
    ).first()
    if stored is None:
        raise _deleted_meanwhile()
    jobs.succeed(job)  # refuses when the job was claimed again meanwhile: the newer claim's result stands
    db.session.commit()


def _deleted_meanwhile() -> jobs.PermanentFailure:
    return jobs.PermanentFailure("deleted", "The resume or job listing was deleted before the analysis finished.")


def analysis_failed(job: BackgroundJob, reason: str, message: str) -> None:
    analysis = db.session.scalar(select(Analysis).where(Analysis.job_id == job.id))
    if analysis is not None:
        analysis.failure_reason = reason
        analysis.failure_message = message[:500]
