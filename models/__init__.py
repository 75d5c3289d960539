"""Typed SQLAlchemy 2 models. The schema itself is created by Alembic migrations only."""
from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names, so Alembic autogenerate and hand-written migrations agree.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def commit_keeping_loaded() -> None:
    """Commit, but keep what this request's session loaded and wrote instead of expiring it:
    the answer is built from the rows just written, and reloading them costs a query (and ORM
    work) per request. For a view's last commit, when nothing else changed those rows."""
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


def lock_row(model: type, row_id, *, key_share: bool = False):
    """The row with this id, re-read and locked until the transaction ends; None when it is gone
    (deleted meanwhile). ``key_share``: FOR NO KEY UPDATE, the lock an UPDATE takes, which rows
    being inserted with a foreign key to it do not wait for; otherwise FOR UPDATE, a delete's."""
    from sqlalchemy import select

    return db.session.scalar(select(model).where(model.id == row_id).with_for_update(of=model, key_share=key_share)
                             .execution_options(populate_existing=True))


from models.user import User, AuthSession  # noqa: E402
from models.job_listing import JobListing, EmploymentType  # noqa: E402
from models.application import (Application, ApplicationStageStats, ApplicationStatus, ApplicationWeekCount,  # noqa: E402
                                StatusChange)
from models.resume import Resume, ExtractionStatus  # noqa: E402
from models.background_job import (BackgroundJob, BulkRun, DeadLetterAction, JobFailure, JobKind, JobRescue,  # noqa: E402
                                   JobState, Lane)
from models.analysis import Analysis, IdempotencyKey  # noqa: E402
from models.stored_file import StoredFile  # noqa: E402

__all__ = [
    "db",
    "Base",
    "commit_keeping_loaded",
    "lock_row",
    "User",
    "AuthSession",
    "JobListing",
    "EmploymentType",
    "Application",
    "ApplicationStatus",
    "StatusChange",
    "ApplicationStageStats",
    "ApplicationWeekCount",
    "Resume",
    "ExtractionStatus",
    "BackgroundJob",
    "JobFailure",
    "JobRescue",
    "DeadLetterAction",
    "BulkRun",
    "Lane",
    "JobKind",
    "JobState",
    "Analysis",
    "IdempotencyKey",
    "StoredFile",
]
