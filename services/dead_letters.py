"""The dead-letter queue, for operators: see what died, replay it, or discard it — one
implementation behind both the admin API and scripts/replay_dlq.py, so they always agree.

A job is dead exactly when its message was rejected into ``applytrack.dead-letters``; the
database row says why (its failures) and the broker holds the message. Replaying a job:

1. resets the job (state queued, attempts 0, no stale errors on its subject) and records who
   replayed it, in one transaction;
2. republishes the message to the queue it died in, with publisher confirms, with the retry
   count reset and stale ``eta``/``expires``/``x-death`` headers dropped;
3. acks the dead message only after that confirm.

A crash between any two steps loses nothing and a second run duplicates nothing: a dead
message whose job is no longer dead is a stale copy and is only acked; a job reset but not
republished is still unpublished in the outbox, which the relay publishes; a message that
arrives twice is ignored by the worker once the job is running or finished.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatch

from celery import Celery
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

import celeryconfig
from models import (Analysis, BackgroundJob, DeadLetterAction, ExtractionStatus, JobFailure, JobKind, JobState, Resume,
                    db)
from models.mixins import utcnow
from services import broker

log = logging.getLogger(__name__)

# Seconds to reach the broker before a replay gives up (and the API answers 503).
BROKER_TIMEOUT = 3.0
# Longest wait for any one reply or confirm once connected (a node partitioned from its peers
# answers nothing until it notices): the operator's request then answers 503, never hangs.
BROKER_IO_TIMEOUT = 5.0
# Headers Celery sets that must not follow a message back into its queue.
STALE_HEADERS = ("x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
                 "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason")


@dataclass(frozen=True)
class Selection:
    """Which dead jobs to act on; every field narrows the selection."""

    job_ids: tuple[uuid.UUID, ...] = ()
    kind: str | None = None
    task: str | None = None
    error_class: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None

    def statement(self) -> Select:
        statement = (
            select(BackgroundJob)
            .where(BackgroundJob.state == JobState.DEAD.value, BackgroundJob.discarded_at.is_(None))
            .order_by(BackgroundJob.finished_at, BackgroundJob.id)
        )
        if self.job_ids:
            statement = statement.where(BackgroundJob.id.in_(self.job_ids))
        if self.kind:
            statement = statement.where(BackgroundJob.kind == self.kind)
        if self.task:
            kinds = [kind for kind, name in _task_names().items() if name == self.task]
            statement = statement.where(BackgroundJob.kind.in_(kinds))
        if self.error_class:
            statement = statement.where(BackgroundJob.last_error_class == self.error_class)
        if self.since:
            statement = statement.where(BackgroundJob.finished_at >= self.since)
        if self.until:
            statement = statement.where(BackgroundJob.finished_at <= self.until)
        if self.limit:
            statement = statement.limit(self.limit)
        return statement


def _task_names() -> dict[str, str]:
    from models.background_job import TASK_NAMES

    return TASK_NAMES


def dead_jobs(selection: Selection) -> list[BackgroundJob]:
    return list(db.session.scalars(selection.statement().options(selectinload(BackgroundJob.failures))))


def failure_window(job_id: uuid.UUID) -> tuple[datetime | None, datetime | None]:
    """First and last failure of a job (its failures table is the only place they are kept)."""
    row = db.session.execute(
        select(func.min(JobFailure.failed_at), func.max(JobFailure.failed_at)).where(JobFailure.job_id == job_id)
    ).one()
    return row[0], row[1]


@dataclass
class Outcome:
    requeued: list[uuid.UUID] = field(default_factory=list)
    discarded: list[uuid.UUID] = field(default_factory=list)
    stale_removed: list[uuid.UUID] = field(default_factory=list)
    dead_lettered_by_broker: list[uuid.UUID] = field(default_factory=list)  # found dead, now recorded
    not_in_broker: list[uuid.UUID] = field(default_factory=list)
    unknown_messages: int = 0

    def as_dict(self) -> dict:
        return {
            "requeued": [str(i) for i in self.requeued],
            "discarded": [str(i) for i in self.discarded],
            "stale_messages_removed": [str(i) for i in self.stale_removed],
            "dead_lettered_by_broker": [str(i) for i in self.dead_lettered_by_broker],
            "replayed_without_broker_message": [str(i) for i in self.not_in_broker],
            "unknown_messages": self.unknown_messages,
        }


class DeadLetterQueue:
    """Messages of the broker's dead-letter queue, read without taking them: every message
    not acked here goes back to the queue when the channel closes."""

    def __init__(self, celery: Celery) -> None:
        self.celery = celery

    @contextmanager
    def session(self) -> Iterator["_Browser"]:
        # Fail fast while no node answers: an operator's request answers 503, not a hang.
        with broker.connection_to_any_node(self.celery, timeout=BROKER_TIMEOUT,
                                           io_timeout=BROKER_IO_TIMEOUT) as connection:
            channel = connection.channel()
            try:
                yield _Browser(self.celery, connection, channel)
            except BaseException:
                # The node may have gone silent: drop the socket without the closing handshake
                # (which would wait out the deadline again). Unacked messages return to the
                # dead-letter queue when the broker sees the connection gone.
                connection.collect()
                raise
            channel.close()  # unacked messages return to the dead-letter queue


class _Browser:
    def __init__(self, celery: Celery, connection, channel) -> None:
        self.celery = celery
        self.connection = connection
        self.channel = channel
        self.queue = celeryconfig.DEAD_LETTER_QUEUE.bind(channel)
        self.producer = celery.amqp.Producer(channel, exchange=celeryconfig.EXCHANGE)

    def messages(self) -> Iterator:
        """Every message now in the queue, each exactly once (held unacked until acked or closed)."""
        while True:
            message = self.queue.get(no_ack=False, accept=["json"])
            if message is None:
                return
            yield message

    def by_job(self) -> dict[uuid.UUID, list]:
        found: dict[uuid.UUID, list] = {}
        for message in self.messages():
            job_id = message_job_id(message)
            found.setdefault(job_id, []).append(message)
        return found

    def republish(self, message) -> None:
        """Back to the queue it died in, with a fresh retry count; returns after the confirm."""
        headers = {k: v for k, v in (message.headers or {}).items() if k not in STALE_HEADERS}
        headers.update(retries=0, eta=None, expires=None)
        self.producer.publish(
            message.body, routing_key=original_queue(message), exchange=celeryconfig.EXCHANGE,
            headers=headers, content_type=message.content_type, content_encoding=message.content_encoding,
            delivery_mode=2, correlation_id=message.properties.get("correlation_id"), retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )

    def publish_fresh(self, job: BackgroundJob) -> None:
        """For a dead job whose message is gone from the broker (purged by hand)."""
        self.celery.send_task(job.task_name, args=[str(job.id)], task_id=str(job.id), retries=0,
                              headers={"request_id": job.request_id} if job.request_id else None,
                              producer=self.producer)  # this session's connection, and its deadlines


def message_job_id(message) -> uuid.UUID | None:
    try:
        return uuid.UUID(str((message.headers or {}).get("id")))
    except ValueError:
        return None


def original_queue(message) -> str:
    """The queue a dead letter died in (its successor, for one of the classic queues of the
    previous release), else the one its task is routed to."""
    deaths = (message.headers or {}).get("x-death") or []
    if deaths and deaths[0].get("queue"):
        queue = deaths[0]["queue"]
        return celeryconfig.LegacyTopology.SUCCESSORS.get(queue, queue)
    task = (message.headers or {}).get("task", "")
    routes = (route["queue"] for pattern, route in celeryconfig.task_routes.items() if fnmatch(task, pattern))
    return next(routes, celeryconfig.task_default_queue)


def dead_lettered_at(message) -> datetime | None:
    deaths = (message.headers or {}).get("x-death") or []
    moment = deaths[0].get("time") if deaths else None
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return None


def _reset_for_replay(job: BackgroundJob) -> None:
    job.state = JobState.QUEUED.value
    job.attempts = 0
    job.published_at = None  # the outbox relay republishes it should this process stop here
    job.started_at = job.finished_at = job.next_attempt_at = None
    if job.kind == JobKind.RESUME_EXTRACTION.value:
        resume = db.session.get(Resume, job.subject_id)
        if resume is not None and resume.extraction_job_id == job.id:
            resume.extraction_status = ExtractionStatus.QUEUED.value
            resume.failure_reason = resume.failure_message = None
    elif job.kind == JobKind.ANALYSIS.value:
        analysis = db.session.get(Analysis, job.subject_id)
        if analysis is not None:
            analysis.failure_reason = analysis.failure_message = None


def _record(job_id: uuid.UUID, action: str, actor: str, source: str, note: str | None = None) -> None:
    db.session.add(DeadLetterAction(job_id=job_id, action=action, actor=actor, source=source, note=note))


def requeue(browser: _Browser, job: BackgroundJob, messages: list, *, actor: str, source: str, outcome: Outcome) -> None:
    _reset_for_replay(job)
    _record(job.id, "requeue", actor, source)
    db.session.commit()
    if messages:
        browser.republish(messages[0])
    else:
        browser.publish_fresh(job)
        outcome.not_in_broker.append(job.id)
    job.published_at = utcnow()
    db.session.commit()
    for message in messages:
        message.ack()  # only after the confirm above
    outcome.requeued.append(job.id)
    log.info("dead job %s requeued by %s (%s)", job.id, actor, source)


def discard(job: BackgroundJob, messages: list, *, actor: str, source: str, outcome: Outcome, note: str | None) -> None:
    job.discarded_at = utcnow()
    _record(job.id, "discard", actor, source, note)
    db.session.commit()
    for message in messages:
        message.ack()
    outcome.discarded.append(job.id)
    log.info("dead job %s discarded by %s (%s)", job.id, actor, source)


def act(celery: Celery, jobs: list[BackgroundJob], action: str, *, actor: str, source: str,
        rate: float | None = None, note: str | None = None) -> Outcome:
    """Requeue or discard ``jobs`` (dead ones), with their broker messages."""
    outcome = Outcome()
    with DeadLetterQueue(celery).session() as browser:
        messages = browser.by_job()
        wanted = {job.id for job in jobs}
        for job in jobs:
            job_messages = messages.get(job.id, [])
            if action == "requeue":
                requeue(browser, job, job_messages, actor=actor, source=source, outcome=outcome)
            else:
                discard(job, job_messages, actor=actor, source=source, outcome=outcome, note=note)
            if rate:
                time.sleep(1 / rate)
        stale, buried = _settle_unmatched(messages, wanted)
        outcome.stale_removed.extend(stale)
        outcome.dead_lettered_by_broker.extend(buried)
        outcome.unknown_messages = len(messages.get(None, []))
    return outcome


def broker_view(celery: Celery) -> dict[uuid.UUID | None, list[dict]]:
    """What the broker's dead-letter queue holds, by job id (None: not a job of ours)."""
    view: dict[uuid.UUID | None, list[dict]] = {}
    with DeadLetterQueue(celery).session() as browser:
        for message in browser.messages():
            view.setdefault(message_job_id(message), []).append({
                "task": (message.headers or {}).get("task"),
                "queue": original_queue(message),
                "dead_lettered_at": dead_lettered_at(message),
            })
    return view


def _settle_unmatched(messages: dict[uuid.UUID, list], handled: set[uuid.UUID]) -> tuple[list, list]:
    """Dead messages that no action of this run was about. A stale copy (its job was replayed,
    discarded or finished since: a run that stopped before its ack) is acked. A message the
    broker dead-lettered on its own (the queue's delivery limit: it kept killing workers, or
    kept coming back while the database was down) whose job is still unfinished makes that job
    dead, so that it is listed and replayed like any other. Returns (stale, buried) job ids."""
    candidates = [job_id for job_id in messages if job_id is not None and job_id not in handled]
    if not candidates:
        return [], []
    stale, buried = [], []
    for job in db.session.scalars(select(BackgroundJob).where(BackgroundJob.id.in_(candidates))):
        if job.state == JobState.DEAD.value and job.discarded_at is None:
            continue  # waiting for an operator
        if job.is_terminal or job.discarded_at is not None:
            for message in messages[job.id]:
                message.ack()
            stale.append(job.id)
        elif any(death_reason(message) == "delivery_limit" for message in messages[job.id]):
            if _bury_dead_lettered_by_broker(job.id):
                buried.append(job.id)
    return stale, buried


def death_reason(message) -> str | None:
    deaths = (message.headers or {}).get("x-death") or []
    return deaths[0].get("reason") if deaths else None


def _bury_dead_lettered_by_broker(job_id: uuid.UUID) -> bool:
    from services import analyses, bulk, jobs, resumes

    on_failure = {JobKind.RESUME_EXTRACTION.value: resumes.extraction_failed, JobKind.ANALYSIS.value:
                  analyses.analysis_failed, JobKind.BULK_EXPANSION.value: bulk.expansion_failed}
    limit = celeryconfig.DELIVERY_LIMIT
    try:
        # Not an attempt's outcome: whichever claim is the latest, as long as the job has not ended.
        job = jobs.bury(job_id, BrokerDeadLettered(f"the broker dead-lettered its message after {limit} redeliveries"),
                        fence=None, states=jobs.NOT_ENDED)
    except jobs.ClaimSuperseded:
        db.session.rollback()
        return False  # it ended meanwhile; the next reconciliation acks its dead letter as stale
    if job.kind in on_failure:
        on_failure[job.kind](job, jobs.PROCESSING_ERROR, "Processing failed because of a problem on our side; "
                             "it has been reported and can be retried by an operator.")
    db.session.commit()
    log.error("job %s: dead-lettered by the broker (delivery limit); recorded as dead", job_id)
    return True


class BrokerDeadLettered(Exception):
    """The queue's delivery limit moved the message to the dead-letter queue."""


def reconcile(celery: Celery) -> dict:
    """What the dead-letter queue holds against what the database says (maintenance)."""
    with DeadLetterQueue(celery).session() as browser:
        stale, buried = _settle_unmatched(browser.by_job(), set())
    return {"stale_messages_removed": len(stale), "dead_lettered_by_broker": len(buried)}
