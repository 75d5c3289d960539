"""Moving a running deployment from the classic queues to the quorum queues.

A queue's type cannot change in place, so the quorum queues have names of their own
(celeryconfig.py) and the classic ones (``celeryconfig.LegacyTopology``) are emptied into them,
then deleted. Every message is moved with a publisher confirm before the original is acked: a
move stopped midway loses nothing, and a message moved twice (the ack lost after the confirm) is
harmless, because the task id is the job id and the worker ignores a job already running or
finished. Dead letters keep their headers (``x-death`` names the classic queue they died in;
services/dead_letters.original_queue maps it to its successor), so they can still be replayed.

A classic queue is deleted only once it is empty and nobody consumes it; while old workers still
hold messages of it, the command says so and can simply be run again.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from amqp.exceptions import NotFound
from celery import Celery
from kombu import Queue

import celeryconfig
from services import broker
from tasks.topology import declare_on

Legacy = celeryconfig.LegacyTopology


@dataclass
class MigrationReport:
    moved: dict[str, int] = field(default_factory=dict)  # classic queue -> messages moved
    deleted: list[str] = field(default_factory=list)  # classic queues and exchange removed
    left: dict[str, str] = field(default_factory=dict)  # classic queue -> why it stays

    @property
    def done(self) -> bool:
        return not self.left


def migrate(celery: Celery, *, out: Callable[[str], None] = print) -> MigrationReport:
    """Declare the quorum topology, move every message of the classic queues into it with
    confirms, and delete the classic queues (and their dead-letter exchange) once empty."""
    report = MigrationReport()
    # confirm_publish: each publish waits for its confirm
    with broker.connection_to_any_node(celery, timeout=None, rounds=2) as connection:
        declare_on(connection.default_channel)
        legacy = [*Legacy.WORK_QUEUES.values(), Legacy.DEAD_LETTER_QUEUE]
        for queue in legacy:
            moved = _move_all(connection, queue)
            if moved is None:
                continue  # never existed here, or already migrated
            report.moved[queue.name] = moved
            out(f"{queue.name}: {moved} message(s) moved to {Legacy.SUCCESSORS[queue.name]}")
            why = _delete_if_idle(connection, queue)
            if why:
                report.left[queue.name] = why
                out(f"{queue.name}: kept ({why}); run the migration again once it is idle")
            else:
                report.deleted.append(queue.name)
        if not report.left and _exchange_exists(connection, Legacy.DEAD_LETTER_EXCHANGE.name):
            connection.default_channel.exchange_delete(Legacy.DEAD_LETTER_EXCHANGE.name)
            report.deleted.append(Legacy.DEAD_LETTER_EXCHANGE.name)
    return report


def _passive(connection, queue: Queue) -> tuple[int, int] | None:
    """(messages ready, consumers) of an existing queue; None when it does not exist."""
    channel = connection.channel()
    try:
        _name, ready, consumers = channel.queue_declare(queue.name, passive=True)
        return ready, consumers
    except NotFound:
        return None
    finally:
        if channel.is_open:
            channel.close()


def _move_all(connection, queue: Queue) -> int | None:
    if _passive(connection, queue) is None:
        return None
    successor = Legacy.SUCCESSORS[queue.name]
    dead_letters = queue.name == Legacy.DEAD_LETTER_QUEUE.name
    channel = connection.channel()
    producer = connection.Producer(channel)
    moved = 0
    try:
        while (message := queue.bind(channel).get(no_ack=False)) is not None:
            producer.publish(
                message.body, headers=message.headers, content_type=message.content_type,
                content_encoding=message.content_encoding, delivery_mode=2,
                correlation_id=message.properties.get("correlation_id"),
                # Dead letters go straight to the quorum dead-letter queue (its fanout exchange);
                # work goes where the current routes send it.
                exchange=celeryconfig.DEAD_LETTER_EXCHANGE.name if dead_letters else celeryconfig.EXCHANGE.name,
                routing_key="" if dead_letters else successor,
                retry=True, retry_policy={"max_retries": 3},
            )
            message.ack()  # only after the confirm above
            moved += 1
    finally:
        channel.close()  # anything taken and not acked goes back to the classic queue
    return moved


def _delete_if_idle(connection, queue: Queue) -> str | None:
    state = _passive(connection, queue)
    if state is None:
        return None
    ready, consumers = state
    if ready or consumers:
        return f"{ready} message(s) ready, {consumers} consumer(s)"
    channel = connection.channel()
    try:
        # if_empty also counts messages an old worker holds unacknowledged.
        channel.queue_delete(queue.name, if_empty=True, if_unused=True)
        return None
    except Exception as refused:  # PRECONDITION_FAILED: an old worker still holds some
        return f"not empty or in use ({refused})"
    finally:
        if channel.is_open:
            channel.close()


def _exchange_exists(connection, name: str) -> bool:
    channel = connection.channel()
    try:
        channel.exchange_declare(name, "fanout", passive=True)
        return True
    except NotFound:
        return False
    finally:
        if channel.is_open:
            channel.close()
