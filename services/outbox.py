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
import time
from typing import Callable

import psycopg2
from celery import Celery
from kombu import Producer
from sqlalchemy import func, or_, select, update

from models import BackgroundJob, JobState, Lane, db
from services import broker
from models.mixins import utcnow
from services.jobs import OUTBOX_CHANNEL
from tasks.topology import declare_on

log = logging.getLogger(__name__)

BatchPublish = Callable[[list[BackgroundJob]], None]


class _CountingProducer(Producer):
    """Counts what goes out on its channel: Celery publishes a task-sent event beside each task
    message, and every publish on a confirm-mode channel takes a delivery tag."""

    def __init__(self, channel, on_publish: Callable[[], None]) -> None:
        super().__init__(channel)
        self._on_publish = on_publish

    def publish(self, *args, **kwargs):
        result = super().publish(*args, **kwargs)
        self._on_publish()
        return result


class ConfirmedBatchPublisher:
    """Publishes a batch of jobs as Celery task messages on one channel in confirm mode, then
    waits once for the broker to confirm them all.

    ``confirm_publish`` (how the rest of the app publishes) waits for a confirm after every
    message, about 1k messages/s here; confirming a batch of 100 at once goes several times
    faster (../shared/QUEUE.md). A batch counts as published only when every message in it
    is confirmed and none came back unroutable: a nack, a return, a timeout or a lost
    connection raises, and the relay publishes the whole batch again (a job delivered twice is
    harmless: the worker ignores the duplicate).

    Task messages are published ``mandatory``: RabbitMQ confirms a message that reached no
    queue and drops it, which is what happened when RabbitMQ 3.10 forgot a durable queue for a
    moment after a restart (rabbitmq-server#4563) — the chaos suite lost 26 of 88 jobs that
    way once. Each new connection also declares the whole topology before publishing.
    """

    # Also how long a batch's rows stay locked when the broker goes silent mid-publish; a quorum
    # queue's leader failover pauses confirms for under half a second.
    def __init__(self, celery: Celery, *, confirm_timeout: float = 5.0) -> None:
        self.celery = celery
        self.confirm_timeout = confirm_timeout
        self._connection = None
        self._producer: _CountingProducer | None = None
        self._sent = 0
        self._unconfirmed: set[int] = set()
        self._nacked = 0
        self._returned = 0

    def __call__(self, jobs: list[BackgroundJob]) -> None:
        try:
            producer = self._open()
            for job in jobs:
                self.celery.send_task(
                    job.task_name, args=[str(job.id)], task_id=str(job.id), queue=job.queue,
                    headers={"request_id": job.request_id} if job.request_id else None,
                    producer=producer, retry=False,  # a reconnect would lose the channel's delivery tags
                    mandatory=True,
                )
            self._wait_for_confirms()
        except Exception:
            if self._connection is not None:  # the next connection starts at another node
                broker.let_down(self.celery.conf.broker_url, self._connection)
            self.close()  # a fresh connection, channel and delivery tags for the next attempt
            raise

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                pass
        self._connection = self._producer = None

    @property
    def is_open(self) -> bool:
        return self._producer is not None

    def open(self) -> None:
        """Connect (if not connected) before the caller locks the rows it will publish: while
        no node answers, the connection attempt holds no job row (a user's delete of a resume
        waits on its jobs' rows)."""
        try:
            self._open()
        except Exception:
            self.close()
            raise

    def _open(self) -> _CountingProducer:
        if self._producer is None:
            # No heartbeats: the relay sleeps in select() between batches and would miss them,
            # and the broker would close an idle connection; a dead one fails the next publish.
            # Every read and write has a deadline: a node cut off mid-batch (silent, not closed)
            # would otherwise hold the relay, and its batch's row locks, until TCP gave up.
            connection = self.celery.connection_for_write(
                url=broker.failover_url(self.celery.conf.broker_url), heartbeat=0,
                transport_options={"confirm_publish": False, "read_timeout": self.confirm_timeout,
                                   "write_timeout": self.confirm_timeout})
            # Every node of the cluster once (kombu fails over along BROKER_URL's list).
            connection.ensure_connection(max_retries=broker.connect_attempts(connection), timeout=self.confirm_timeout)
            broker.connected(self.celery.conf.broker_url, connection)
            channel = connection.channel()
            declare_on(channel)
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            channel.events["basic_return"].add(self._on_return)
            self._connection, self._sent, self._unconfirmed = connection, 0, set()
            self._producer = _CountingProducer(channel, self._on_publish)
        return self._producer

    def _on_publish(self) -> None:
        self._sent += 1  # delivery tags count from 1 on a confirm-mode channel
        self._unconfirmed.add(self._sent)

    def _settle(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._unconfirmed = {tag for tag in self._unconfirmed if tag > delivery_tag}
        else:
            self._unconfirmed.discard(delivery_tag)

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked += 1
        self._settle(delivery_tag, multiple)

    def _on_return(self, _exc, _exchange, _routing_key, _message) -> None:
        self._returned += 1  # a Basic.Return comes before the message's ack

    def _wait_for_confirms(self) -> None:
        deadline = time.monotonic() + self.confirm_timeout
        try:
            while self._unconfirmed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(self._unconfirmed)} message(s) not confirmed in {self.confirm_timeout}s")
                self._connection.drain_events(timeout=remaining)
        finally:
            nacked, self._nacked = self._nacked, 0
            returned, self._returned = self._returned, 0
        if nacked:
            raise RuntimeError(f"the broker refused {nacked} message(s)")
        if returned:
            raise RuntimeError(f"{returned} message(s) reached no queue; the topology is declared again")


def _unpublished(lane: str):
    """Jobs to publish now: committed, queued, not published, and not a retry still waiting
    for its backoff to pass (``next_attempt_at``, services/jobs.schedule_retry)."""
    return (BackgroundJob.published_at.is_(None), BackgroundJob.state == JobState.QUEUED.value,
            BackgroundJob.lane == lane,
            or_(BackgroundJob.next_attempt_at.is_(None), BackgroundJob.next_attempt_at <= func.now()))


def seconds_until_next_retry() -> float | None:
    """How long until the earliest retry waiting in the outbox is due; None when none waits."""
    due = db.session.scalar(
        select(func.extract("epoch", func.min(BackgroundJob.next_attempt_at) - func.now()))
        .where(BackgroundJob.published_at.is_(None), BackgroundJob.state == JobState.QUEUED.value,
               BackgroundJob.next_attempt_at > func.now())
    )
    db.session.rollback()
    return max(0.0, float(due)) if due is not None else None


def _waiting(lane: str, limit: int) -> list[BackgroundJob]:
    if limit <= 0:
        return []
    return list(db.session.scalars(
        select(BackgroundJob).where(*_unpublished(lane))
        .order_by(BackgroundJob.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))


def _any_waiting(lane: str) -> bool:
    return db.session.scalar(select(BackgroundJob.id).where(*_unpublished(lane)).limit(1)) is not None


def publish_pending(publish: BatchPublish, *, batch_size: int = 200,
                    bulk_allowance: Callable[[], int | None] = lambda: None) -> int:
    """Publish up to ``batch_size`` waiting jobs, interactive ones first, oldest first, and at
    most ``bulk_allowance()`` bulk ones (None: no limit); returns how many were published.

    Bulk work is released only as fast as its workers take it: what stays in the outbox costs
    nothing, never delays a user's job at the relay, and is simply never published if its run
    is cancelled. ``bulk_allowance`` asks the broker, so it is called only when bulk jobs are
    waiting. The rows are marked published only once the broker has confirmed the whole batch;
    after a failure they stay in the outbox and go again.
    """
    if not getattr(publish, "is_open", True):
        if not (_any_waiting(Lane.INTERACTIVE.value) or _any_waiting(Lane.BULK.value)):
            db.session.rollback()
            return 0
        db.session.rollback()
        publish.open()  # before any row is locked; raises while no broker node answers
    # Ask the broker how much bulk work it can take only when bulk jobs wait, and before any
    # row is locked; then load no more bulk rows than that (while a bulk run waits on a full
    # queue, every batch would otherwise lock and drop ~100 rows).
    bulk_room = 0
    if _any_waiting(Lane.BULK.value):
        allowance = bulk_allowance()
        bulk_room = batch_size if allowance is None else allowance
    jobs = _waiting(Lane.INTERACTIVE.value, batch_size)
    room = min(batch_size - len(jobs), bulk_room)
    if room > 0:
        jobs += _waiting(Lane.BULK.value, room)
    if not jobs:
        db.session.rollback()
        return 0
    try:
        publish(jobs)
    except Exception:
        db.session.rollback()
        raise
    db.session.execute(
        update(BackgroundJob).where(BackgroundJob.id.in_([job.id for job in jobs])).values(published_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return len(jobs)


class Relay:
    """Loop: publish everything pending, then sleep until NOTIFY or the poll interval.

    Under load, a NOTIFY for interactive work that comes within ``BUSY_SECONDS`` of the previous
    one makes the relay linger ``linger_seconds`` before publishing, so that one batch carries
    the jobs of many requests: each batch costs two queries, an update, a confirm round trip and
    broker work whatever its size (at 125 requests/s, publishing at every NOTIFY, the relay and
    RabbitMQ spent more CPU per request than the API did). A lone request is published at once.
    """

    BUSY_SECONDS = 0.1

    def __init__(self, publish: BatchPublish, *, poll_seconds: float, batch_size: int = 100,
                 bulk_allowance: Callable[[], int | None] = lambda: None, max_backoff: float = 2.0,
                 linger_seconds: float = 0.0) -> None:
        self.publish = publish
        self.poll_seconds = poll_seconds
        self.linger_seconds = linger_seconds
        self._last_interactive_notify = float("-inf")
        # A failed attempt costs one refused connection; a long pause only delays the recovery.
        self.max_backoff = max_backoff
        self.batch_size = batch_size
        self.bulk_allowance = bulk_allowance
        self.stopping = threading.Event()
        self._listener = None

    def run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            # LISTEN before the scan, never after it: a job committed between the two would
            # announce itself to nobody and wait out the poll interval.
            self._ensure_listening()
            try:
                published = publish_pending(self.publish, batch_size=self.batch_size,
                                            bulk_allowance=self.bulk_allowance)
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

    def _wait_seconds(self) -> float:
        """Until a NOTIFY, the poll interval, or the next retry's due time, whichever is first:
        a retry is published when due, not up to a poll interval late."""
        try:
            due = seconds_until_next_retry()
        except Exception:  # the poll interval still bounds the wait
            db.session.rollback()
            return self.poll_seconds
        return self.poll_seconds if due is None else min(self.poll_seconds, due + 0.01)

    def _ensure_listening(self) -> None:
        try:
            self._listen()
        except Exception as exc:  # the poll interval still covers us without NOTIFY
            log.warning("outbox relay: LISTEN failed (%s); polling", exc)
            self._close_listener()

    def _wait_for_notify(self) -> None:
        if self._listener is None:
            self.stopping.wait(self.poll_seconds)
            return
        try:
            listener = self._listener
            ready, _, _ = select_module.select([listener], [], [], self._wait_seconds())
            if ready:
                listener.poll()
                # Bulk work is paced by its workers anyway: only a stream of user requests counts.
                interactive = any(notify.payload != Lane.BULK.value for notify in listener.notifies)
                listener.notifies.clear()
                if interactive:
                    now = time.monotonic()
                    if now - self._last_interactive_notify < self.BUSY_SECONDS:
                        self.stopping.wait(self.linger_seconds)
                    self._last_interactive_notify = now
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
