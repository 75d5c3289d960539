"""The outbox relay: publishes committed-but-unpublished jobs to RabbitMQ with confirms.

The API never talks to the broker: it commits a job row (services/jobs.enqueue), and this relay
publishes it. A broker outage therefore never fails or slows a request; the work waits in the
table until the broker is back. Several relays may run at once: ``SKIP LOCKED`` gives each its
own rows, and a message published twice is harmless (the task id is the job id and the
worker ignores a job that is already running or finished).
"""
from __future__ import annotations

import logging
import select as select_module
import threading
from typing import Callable

import psycopg2
from sqlalchemy import select

from models import BackgroundJob, JobState, Lane, db
from models.mixins import utcnow
from services.jobs import OUTBOX_CHANNEL

log = logging.getLogger(__name__)

Publisher = Callable[[BackgroundJob], None]


def _waiting(lane: str, limit: int) -> list[BackgroundJob]:
    if limit <= 0:
        return []
    return list(db.session.scalars(
        select(BackgroundJob)
        .where(BackgroundJob.published_at.is_(None), BackgroundJob.state == JobState.QUEUED.value,
               BackgroundJob.lane == lane)
        .order_by(BackgroundJob.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))


def publish_pending(publish: Publisher, *, batch_size: int = 200, bulk_allowance: int | None = None) -> int:
    """Publish up to ``batch_size`` waiting jobs, interactive ones first, oldest first, and at
    most ``bulk_allowance`` bulk ones (None: no limit); returns how many were published.

    Bulk work is released only as fast as its workers take it: what stays in the outbox costs
    nothing, never delays a user's job at the relay, and is simply never published if its run
    is cancelled. Rows published before an error are committed as published, so a broker
    failure midway republishes nothing that already made it.
    """
    jobs = _waiting(Lane.INTERACTIVE.value, batch_size)
    room = batch_size - len(jobs)
    jobs += _waiting(Lane.BULK.value, room if bulk_allowance is None else min(room, bulk_allowance))
    published = 0
    try:
        for job in jobs:
            publish(job)
            job.published_at = utcnow()
            published += 1
    finally:
        db.session.commit()
    return published


class Relay:
    """Loop: publish everything pending, then sleep until NOTIFY or the poll interval."""

    def __init__(self, publish: Publisher, *, poll_seconds: float, batch_size: int = 100,
                 bulk_allowance: Callable[[], int | None] = lambda: None, max_backoff: float = 2.0) -> None:
        self.publish = publish
        self.poll_seconds = poll_seconds
        # A failed attempt costs one refused connection; a long pause only delays the recovery.
        self.max_backoff = max_backoff
        self.batch_size = batch_size
        self.bulk_allowance = bulk_allowance
        self.stopping = threading.Event()
        self._listener = None

    def run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                published = publish_pending(self.publish, batch_size=self.batch_size,
                                            bulk_allowance=self.bulk_allowance())
                failures = 0
            except Exception as exc:  # broker or database down: keep the rows, back off, try again
                db.session.rollback()
                failures += 1
                delay = min(self.max_backoff, 0.25 * 2 ** min(failures, 5))
                log.warning("outbox relay: publish failed (%s: %s); retrying in %.1fs", type(exc).__name__, exc, delay)
                self._close_listener()
                self.stopping.wait(delay)
                continue
            if published:
                log.info("outbox relay: published %d job(s)", published)
            if published < self.batch_size:
                self._wait_for_notify()
        self._close_listener()

    def stop(self, *_args) -> None:
        self.stopping.set()

    def _wait_for_notify(self) -> None:
        try:
            listener = self._listen()
            ready, _, _ = select_module.select([listener], [], [], self.poll_seconds)
            if ready:
                listener.poll()
                listener.notifies.clear()
        except Exception as exc:  # the poll interval still covers us without NOTIFY
            log.warning("outbox relay: LISTEN failed (%s); polling", exc)
            self._close_listener()
            self.stopping.wait(self.poll_seconds)

    def _listen(self):
        if self._listener is None:
            # A connection of its own, outside the pool: it stays in LISTEN for the relay's life.
            url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            connection = psycopg2.connect(url, connect_timeout=5)
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {OUTBOX_CHANNEL}")
            self._listener = connection
        return self._listener

    def _close_listener(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            except Exception:
                pass
            self._listener = None
