"""The retention policy (services/retention.py): what it removes and, above all, what it keeps."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import (Analysis, BackgroundJob, DeadLetterAction, IdempotencyKey, JobFailure, JobListing, JobRescue, Resume,
                    User, db)
from models.mixins import utcnow
from services.retention import apply_retention

OLD = timedelta(days=400)  # past every default setting
RECENT = timedelta(hours=1)


@pytest.fixture
def world(app, client, auth):
    """A user with a resume and a listing, in an app context."""
    email = auth.register()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        resume = Resume(user_id=user.id, name="cv", file_kind="pdf", content_type="application/pdf", size_bytes=1,
                        sha256="0" * 64, extraction_status="succeeded")
        listing = JobListing(user_id=user.id, company="Acme", title="Engineer")
        db.session.add_all([resume, listing])
        db.session.commit()
        yield {"user": user.id, "resume": resume.id, "listing": listing.id}
        db.session.rollback()


def job(world, state: str, *, age: timedelta, kind: str = "maintenance", **fields) -> uuid.UUID:
    at = utcnow() - age
    row = BackgroundJob(id=uuid.uuid4(), kind=kind, user_id=world["user"], subject_id=uuid.uuid4(), state=state,
                        created_at=at, updated_at=at, started_at=at,
                        finished_at=at if state in ("succeeded", "failed", "cancelled", "dead") else None, **fields)
    db.session.add(row)
    db.session.flush()
    return row.id


def analysis(world, state: str, *, age: timedelta, listing=None) -> uuid.UUID:
    job_id = job(world, state, age=age, kind="analysis")
    row = Analysis(user_id=world["user"], resume_id=world["resume"], job_listing_id=listing or world["listing"],
                   job_id=job_id, input_hash="h" * 64, analyzer="local", analyzer_version="1", created_at=utcnow() - age)
    db.session.add(row)
    db.session.flush()
    return row.id


def exists(model, row_id) -> bool:
    return db.session.get(model, row_id) is not None


def test_finished_jobs_go_and_what_is_still_needed_stays(world):
    gone = [job(world, state, age=OLD) for state in ("succeeded", "failed", "cancelled")]
    failed_once = job(world, "succeeded", age=OLD)
    db.session.add(JobFailure(job_id=failed_once, attempt=1, error_class="X", message="m", transient=True,
                              failed_at=utcnow() - OLD))
    kept = {
        "recent": job(world, "succeeded", age=RECENT),
        "awaiting an operator": job(world, "dead", age=OLD),
        "running": job(world, "running", age=OLD),
        "queued": job(world, "queued", age=OLD),
        "waiting": job(world, "waiting", age=OLD),
        "rescued": job(world, "succeeded", age=OLD),
        "recently requeued": job(world, "succeeded", age=OLD),
        "a resume's extraction": job(world, "succeeded", age=OLD, kind="resume_extraction"),
    }
    dead_failure = JobFailure(job_id=kept["awaiting an operator"], attempt=1, error_class="X", message="m",
                              transient=False, failed_at=utcnow() - OLD)
    db.session.add_all([
        dead_failure,
        JobRescue(job_id=kept["rescued"], kind="maintenance", from_state="waiting", action="released", reason="r"),
        DeadLetterAction(job_id=kept["recently requeued"], action="requeue", actor="ops", source="api",
                         at=utcnow() - RECENT),
    ])
    db.session.get(Resume, world["resume"]).extraction_job_id = kept["a resume's extraction"]
    db.session.commit()

    outcome = apply_retention()

    assert outcome["finished_jobs"] == 4
    assert not any(exists(BackgroundJob, job_id) for job_id in [*gone, failed_once])
    assert db.session.scalar(select(func.count()).select_from(JobFailure).where(JobFailure.job_id == failed_once)) == 0
    for why, job_id in kept.items():
        assert exists(BackgroundJob, job_id), why
    assert exists(JobFailure, dead_failure.id)  # the operator sees why it died


def test_discarded_dead_jobs_go_with_their_action_log(world):
    discarded_long_ago = job(world, "dead", age=OLD, discarded_at=utcnow() - OLD)
    discarded_lately = job(world, "dead", age=OLD, discarded_at=utcnow() - RECENT)
    db.session.add_all([
        DeadLetterAction(job_id=discarded_long_ago, action="discard", actor="ops", source="api", at=utcnow() - OLD),
        DeadLetterAction(job_id=discarded_lately, action="discard", actor="ops", source="api", at=utcnow() - RECENT),
    ])
    db.session.commit()

    outcome = apply_retention()

    assert not exists(BackgroundJob, discarded_long_ago)
    assert exists(BackgroundJob, discarded_lately)
    assert db.session.scalar(select(func.count()).select_from(DeadLetterAction)) == 1
    assert outcome["finished_jobs"] == 1


def test_superseded_analyses_go_the_latest_and_latest_successful_stay(world):
    second, third = (JobListing(user_id=world["user"], company=name, title="Analyst") for name in ("Globex", "Initech"))
    db.session.add_all([second, third])
    db.session.flush()
    superseded = analysis(world, "succeeded", age=OLD + timedelta(days=3))
    superseded_failure = analysis(world, "failed", age=OLD + timedelta(days=2))
    latest_success = analysis(world, "succeeded", age=OLD + timedelta(days=1))  # newer ones all failed
    failed_after = analysis(world, "failed", age=OLD)
    latest = analysis(world, "failed", age=RECENT)
    # Another pair: superseded, but not long enough ago; a third: one old analysis, the latest.
    recent_superseded = analysis(world, "succeeded", age=timedelta(days=1), listing=second.id)
    newest = analysis(world, "succeeded", age=RECENT / 2, listing=second.id)
    alone_elsewhere = analysis(world, "succeeded", age=OLD, listing=third.id)
    dead_awaiting = analysis(world, "dead", age=OLD + timedelta(days=4))
    keyed = analysis(world, "succeeded", age=OLD + timedelta(days=5))
    db.session.add(IdempotencyKey(user_id=world["user"], key="k", request_hash="r" * 64, analysis_id=keyed,
                                  created_at=utcnow() - RECENT))
    db.session.add(IdempotencyKey(user_id=world["user"], key="old", request_hash="r" * 64, analysis_id=newest,
                                  created_at=utcnow() - OLD))
    db.session.commit()
    job_of = {a: db.session.get(Analysis, a).job_id for a in (superseded, superseded_failure, failed_after)}

    outcome = apply_retention()

    assert outcome["idempotency_keys"] == 1 and outcome["superseded_analyses"] == 3
    for gone in (superseded, superseded_failure, failed_after):
        assert not exists(Analysis, gone) and not exists(BackgroundJob, job_of[gone])
    for kept in (latest_success, latest, recent_superseded, newest, alone_elsewhere, dead_awaiting, keyed):
        assert exists(Analysis, kept)
    assert [k.key for k in db.session.scalars(select(IdempotencyKey))] == ["k"]


def test_a_backlog_drains_in_batches_over_runs(app, world):
    app.config.update(RETENTION_BATCH=3, RETENTION_MAX_BATCHES=2)
    for _ in range(10):
        job(world, "succeeded", age=OLD)
    db.session.commit()
    assert apply_retention()["finished_jobs"] == 6
    assert apply_retention()["finished_jobs"] == 4
    assert apply_retention()["finished_jobs"] == 0
