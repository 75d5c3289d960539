"""The worker's broker consumer: prompt reconnects after a broker outage, and a prefetch restore
that never touches the connection from a pool thread.

Celery's consumer retries a lost broker connection 2, 4, 6 … up to 30 seconds apart, with no
setting to change that: after a RabbitMQ restart a worker could sit idle for up to half a
minute while the broker was already back and work piled up. This one retries at most
``RECONNECT_MAX_SECONDS`` apart (one refused TCP connection per attempt costs nothing).
"""
from __future__ import annotations

import functools
import logging

from celery.worker.consumer import Consumer as CeleryConsumer

log = logging.getLogger(__name__)

DEFAULT_RECONNECT_MAX_SECONDS = 2.0


class Consumer(CeleryConsumer):
    def ensure_connected(self, conn):
        flask_app = getattr(self.app, "flask_app", None)
        limit = flask_app.config["RECONNECT_MAX_SECONDS"] if flask_app else DEFAULT_RECONNECT_MAX_SECONDS
        first = min(0.5, limit)
        conn.ensure_connection = functools.partial(
            type(conn).ensure_connection, conn, interval_start=first, interval_step=first, interval_max=limit)
        return super().ensure_connected(conn)

    def _restore_prefetch_count_after_connection_restart(self, p, *args):
        """Raise the prefetch by one, as Celery does after each task that finishes following a
        reconnect, but on the thread that owns the broker connection (issue 14).

        When the connection is lost while tasks run, Celery reconnects with the prefetch lowered
        by the number of tasks still running (so the worker does not take more than it can
        start) and chains this method to the ack of every message received until it is
        restored. An ack's callbacks run on the thread that finished the task: on ``-P threads``
        a pool thread, which then sent ``basic.qos`` and waited for its reply on the
        connection the event loop was reading at the same moment. py-amqp is not thread-safe
        (py-amqp #267): each waiter took the other's frames, the event loop blocked, no
        heartbeats went out, acks queued meanwhile were lost (their tasks ran again), and the
        worker consumed nothing until the broker dropped it for missed heartbeats.

        Handing the restore to the event loop (``call_soon``: the hub, or the pending operations
        of the synchronous loop that gevent and eventlet pools use) puts every ``basic.qos``
        on the thread that already sends the acks and ``update_qos``. This keeps Celery's
        behaviour — no over-fetching after a reconnect, the prefetch climbing back one finished
        task at a time — where ``worker_enable_prefetch_count_reduction = False`` would have
        removed the stall by giving that up (and is celeryconfig's to decide).
        """
        self.call_soon(self._restore_prefetch_count_on_loop, p, *args)

    def _restore_prefetch_count_on_loop(self, p, *args):
        try:
            super()._restore_prefetch_count_after_connection_restart(p, *args)
        except (*self.connection_errors, *self.channel_errors) as exc:
            # The connection went while the callback waited: the consumer is reconnecting and
            # sets the prefetch afresh; raising here would skip the acks queued behind it.
            log.info("prefetch not restored: the broker connection is gone (%r)", exc)
