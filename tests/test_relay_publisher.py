"""The relay's batch publisher against a real RabbitMQ virtual host of its own, with nobody
consuming: what it reports published is in the queue, exactly once, even when the broker
forgets a queue between two batches."""
from __future__ import annotations

import uuid

import pytest

from models import BackgroundJob, JobKind, Lane
from services.outbox import ConfirmedBatchPublisher
from tests.support import stack

VHOST = f"{stack.TEST_VHOST}_relay"


@pytest.fixture
def broker():
    """A Celery app on an empty virtual host, deleted afterwards."""
    with stack.celery_on_fresh_vhost(VHOST, "relay-test") as celery:
        yield celery


def analysis_jobs(count: int) -> list[BackgroundJob]:
    return [BackgroundJob(id=uuid.uuid4(), kind=JobKind.ANALYSIS.value, subject_id=uuid.uuid4(),
                          lane=Lane.INTERACTIVE.value) for _ in range(count)]


def task_ids_in(queue: str) -> list[str]:
    return [message["properties"]["headers"]["id"] for message in stack.peek_messages(queue, 1000, vhost=VHOST)]


def test_a_confirmed_batch_is_in_the_queue_once_each(broker):
    publisher = ConfirmedBatchPublisher(broker)
    jobs = analysis_jobs(250)
    try:
        publisher(jobs[:150])
        publisher(jobs[150:])  # the same channel: delivery tags go on counting
    finally:
        publisher.close()
    assert sorted(task_ids_in("applytrack.analysis")) == sorted(str(job.id) for job in jobs)


def test_a_queue_the_broker_forgot_fails_the_batch_and_the_retry_declares_it_again(broker):
    publisher = ConfirmedBatchPublisher(broker)
    try:
        publisher(analysis_jobs(3))
        stack.management("DELETE", f"/queues/{VHOST}/applytrack.analysis")  # as RabbitMQ 3.10 can, after a restart
        lost = analysis_jobs(2)
        with pytest.raises(RuntimeError, match="reached no queue"):
            publisher(lost)  # confirmed by the broker, but routed nowhere: not reported as published
        publisher(lost)  # what the relay does next: a new connection declares the topology first
    finally:
        publisher.close()
    assert sorted(task_ids_in("applytrack.analysis")) == sorted(str(job.id) for job in lost)
