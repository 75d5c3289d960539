"""Analyses that wait for their resume's text, and the one rule that releases them.

An analysis asked for before its resume's text exists is stored ``waiting``; the extraction
that stores the text (or fails for good) releases it (or fails it). Two transactions are
involved, the request's ("no text yet: wait") and the extraction's ("text stored: release who
waits"), and each reads what the other writes. In one transaction alone they can miss each
other at any isolation level: the request reads "no text" from a snapshot taken before the
extraction commits, the extraction's release runs before the request's waiting row is
committed, and the analysis waits forever (issue 13 saw 4–7 in 30 with a web app's
"upload and analyse").

So both sides write, commit, and then look again in a *new* transaction
(``recheck_after_commit``). Commits are totally ordered: whichever of the two commits second
starts its re-check after both commits, sees both the waiting row and the text (or the
failure), and settles the job. This holds whatever the interleaving and isolation level,
because the deciding read always runs in a snapshot taken after both writes. ``settle`` is
idempotent (it only moves jobs that still wait), so both re-checks may run.

The transaction that stores the text also settles in itself, so that the common case needs no
second step; if a process dies between a commit and its re-check, the periodic sweep
(``services.maintenance.rescue_stranded_jobs``) settles the job and counts a rescue.
"""
from __future__ import annotations

import logging
import uuid

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from models import JobState, db

log = logging.getLogger(__name__)

_RECHECK = "applytrack.recheck_waiting"
RESUME_UNREADABLE = "resume_unreadable"
UNREADABLE_MESSAGE = "The resume's text could not be extracted, so it cannot be analysed."

# The resume has text: its waiting analyses go to the outbox (the relay publishes queued jobs).
_RELEASE = text("""
    UPDATE background_jobs AS job SET state = :queued, updated_at = now()
    FROM analyses, resumes
    WHERE analyses.job_id = job.id AND analyses.resume_id = :resume_id AND resumes.id = :resume_id
      AND job.state = :waiting AND resumes.text IS NOT NULL
    RETURNING job.id
""")
# The resume will have no text (a permanent extraction failure; a dead-lettered one may still
# be replayed, so its analyses keep waiting): its waiting analyses fail, saying why.
_FAIL = text("""
    UPDATE background_jobs AS job
    SET state = :failed, finished_at = now(), updated_at = now(), last_error_class = 'ResumeUnreadable',
        last_error = 'the resume''s text could not be extracted: ' || resumes.failure_reason
    FROM analyses, resumes
    WHERE analyses.job_id = job.id AND analyses.resume_id = :resume_id AND resumes.id = :resume_id
      AND job.state = :waiting AND resumes.text IS NULL AND resumes.extraction_status = 'failed'
      AND resumes.failure_reason IS DISTINCT FROM 'processing_error'
    RETURNING job.id
""")
_EXPLAIN_FAILURE = text("""
    UPDATE analyses SET failure_reason = :reason, failure_message = :message, updated_at = now()
    WHERE job_id = ANY(:job_ids)
""")
_NOTIFY = text("NOTIFY applytrack_outbox, 'interactive'")


def settle(connection, resume_id: uuid.UUID) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Release or fail the analyses waiting for this resume, as its committed state (seen by
    ``connection``'s transaction) allows; returns (released, failed) job ids. Idempotent."""
    states = {"queued": JobState.QUEUED.value, "waiting": JobState.WAITING.value, "failed": JobState.FAILED.value}
    released = [row[0] for row in connection.execute(_RELEASE, {"resume_id": resume_id, **states})]
    failed = [row[0] for row in connection.execute(_FAIL, {"resume_id": resume_id, **states})]
    if failed:
        connection.execute(_EXPLAIN_FAILURE, {"job_ids": failed, "reason": RESUME_UNREADABLE,
                                              "message": UNREADABLE_MESSAGE})
    if released:
        connection.execute(_NOTIFY)  # delivered at commit: wakes the relay
    return released, failed


def settle_now(resume_id: uuid.UUID) -> None:
    """In the transaction that stores a resume's text or its failure: settle its waiting
    analyses in this transaction, and once more after it commits."""
    settle(db.session, resume_id)
    recheck_after_commit(resume_id)


def recheck_after_commit(resume_id: uuid.UUID) -> None:
    """In a transaction that makes an analysis wait, or that stores what it waits for: once it
    commits, settle the resume's waiting analyses again in a new transaction."""
    db.session.info.setdefault(_RECHECK, set()).add(resume_id)


@event.listens_for(Session, "after_commit")
def _recheck_committed(session: Session) -> None:
    resume_ids = session.info.pop(_RECHECK, None)
    if not resume_ids:
        return
    # The session cannot run SQL inside after_commit; a pooled connection of its own can.
    try:
        with session.get_bind().begin() as connection:
            for resume_id in resume_ids:
                released, failed = settle(connection, resume_id)
                if released or failed:
                    log.info("resume %s: %d waiting analysis(es) released, %d failed after commit",
                             resume_id, len(released), len(failed))
    except Exception:  # the commit itself succeeded: never turn it into an error
        log.warning("re-check of waiting analyses failed (resumes %s); the periodic sweep settles them",
                    ", ".join(map(str, resume_ids)), exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_RECHECK, None)
