"""Declare the RabbitMQ topology: work exchange and queues, dead-letter exchange and queue.

Idempotent; run by every worker before it consumes, by the outbox relay before it publishes,
and on demand by ``flask queues declare``. The dead-letter exchange must exist before a message
is dead-lettered, or RabbitMQ drops the message silently.
"""
from __future__ import annotations

from celery import Celery

import celeryconfig
from services import broker


def declare_topology(celery: Celery) -> list[str]:
    """Declare everything; returns the names of the queues declared."""
    with broker.connection_to_any_node(celery, timeout=None, rounds=3, interval=0.5) as connection:
        return declare_on(connection.default_channel)


def declare_on(channel) -> list[str]:
    """Declare everything on an open channel; returns the names of the queues declared."""
    queues = [celeryconfig.DEAD_LETTER_QUEUE, *celeryconfig.task_queues]
    celeryconfig.DEAD_LETTER_EXCHANGE.bind(channel).declare()
    celeryconfig.EXCHANGE.bind(channel).declare()
    for queue in queues:
        queue.bind(channel).declare()
    return [queue.name for queue in queues]
