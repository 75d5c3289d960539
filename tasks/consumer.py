"""The worker's broker consumer, reconnecting promptly after a broker outage.

Celery's consumer retries a lost broker connection 2, 4, 6 … up to 30 seconds apart, with no
setting to change that: after a RabbitMQ restart a worker could sit idle for up to half a
minute while the broker was already back and work piled up. This one retries at most
``RECONNECT_MAX_SECONDS`` apart (one refused TCP connection per attempt costs nothing).
"""
from __future__ import annotations

import functools

from celery.worker.consumer import Consumer as CeleryConsumer

DEFAULT_RECONNECT_MAX_SECONDS = 2.0


class Consumer(CeleryConsumer):
    def ensure_connected(self, conn):
        flask_app = getattr(self.app, "flask_app", None)
        limit = flask_app.config["RECONNECT_MAX_SECONDS"] if flask_app else DEFAULT_RECONNECT_MAX_SECONDS
        first = min(0.5, limit)
        conn.ensure_connection = functools.partial(
            type(conn).ensure_connection, conn, interval_start=first, interval_step=first, interval_max=limit)
        return super().ensure_connected(conn)
