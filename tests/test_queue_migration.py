"""Moving a running deployment from the classic queues to the quorum queues (README, "Moving to
quorum queues"): a broker that holds the previous release's topology with work and a dead letter
in it ends with every message processed once, the dead letter replayable, and the classic queues
and their dead-letter exchange gone. On a virtual host of its own, with workers of its own."""
from __future__ import annotations

import uuid

import pytest
import requests
from celery import Celery

import celeryconfig
from models import BackgroundJob, JobState, db
from models.mixins import utcnow
from services import dead_letters, resumes
from tasks.migration import migrate
from tests.conftest import REALDATA, make_test_env
from tests.support import stack

VHOST = "applytrack_test_migration"
Legacy = celeryconfig.LegacyTopology
PDF = (REALDATA / "resumes" / "rm_latex_plain_john_doe.pdf").read_bytes()


@pytest.fixture
def old_broker():
    """A virtual host laid out as the previous release left it: classic queues, classic DLX."""
    with stack.celery_on_fresh_vhost(VHOST, "migration-test") as celery:
        with celery.connection_for_write() as connection:
            channel = connection.default_channel
            Legacy.DEAD_LETTER_EXCHANGE.bind(channel).declare()
            celeryconfig.EXCHANGE.bind(channel).declare()
            for queue in (Legacy.DEAD_LETTER_QUEUE, *Legacy.WORK_QUEUES.values()):
                queue.bind(channel).declare()
        yield celery


def extraction_jobs(app, owner: uuid.UUID, count: int, state: str = JobState.QUEUED.value) -> list[str]:
    """Resumes whose extraction jobs the old release had published (the suite's relay skips them)."""
    with app.app_context():
        made = []
        for _ in range(count):
            resume = resumes.create_resume(owner, PDF, filename="r.pdf", name=None)
            made.append(resume.extraction_job_id)
        db.session.flush()
        for job_id in made:
            job = db.session.get(BackgroundJob, job_id)
            job.published_at, job.state = utcnow(), state
        db.session.commit()
        return [str(job_id) for job_id in made]


def publish_old(celery: Celery, job_ids: list[str], queue: str = "extraction") -> None:
    for job_id in job_ids:
        celery.send_task("resumes.extract", args=[job_id], task_id=job_id, exchange=celeryconfig.EXCHANGE.name,
                         routing_key=queue)


def dead_letter_old(celery: Celery, job_id: str) -> None:
    """As the old release dead-lettered it: rejected from the classic "extraction" queue."""
    death = [{"queue": "extraction", "reason": "rejected", "count": 1, "exchange": "applytrack",
              "routing-keys": ["extraction"]}]
    message = celery.amqp.create_task_message(job_id, "resumes.extract", [job_id], {})
    with celery.producer_or_acquire() as producer:
        producer.publish(message.body, exchange=Legacy.DEAD_LETTER_EXCHANGE.name, routing_key="",
                         headers={**message.headers, "x-death": death}, serializer="json", **message.properties)


def states(app, job_ids: list[str]) -> dict[str, tuple[str, int]]:
    with app.app_context():
        rows = db.session.execute(db.select(BackgroundJob.id, BackgroundJob.state, BackgroundJob.attempts)
                                  .where(BackgroundJob.id.in_([uuid.UUID(j) for j in job_ids]))).all()
        db.session.remove()
    return {str(job_id): (state, attempts) for job_id, state, attempts in rows}


def queue_exists(name: str) -> bool:
    return requests.get(f"{stack.MANAGEMENT_API}/queues/{VHOST}/{name}", auth=stack.MANAGEMENT_AUTH,
                        timeout=10).status_code == 200


def test_the_classic_topology_is_emptied_into_the_quorum_queues_and_removed(app, client, user, old_broker, tmp_path):
    env = {**make_test_env(), "BROKER_URL": old_broker.conf.broker_url}
    owner = uuid.UUID(client.get("/api/user/profile", headers=user).json["id"])
    # During the switch a new worker consumes the classic queue as well as its successor.
    during = extraction_jobs(app, owner, 2)
    publish_old(old_broker, during)
    switching = stack.worker({**env, "LEGACY_QUEUES": "consume"}, tmp_path, name="migration-switch",
                             queues=f"{celeryconfig.EXTRACTION_QUEUE},extraction")
    switching.start()
    try:
        stack.wait_until(lambda: {s for s, _ in states(app, during).values()} == {"succeeded"}, timeout=60,
                         what="the classic queue's work to be done by a switching worker")
    finally:
        switching.stop()

    # What the old release left behind once its workers are gone: queued work and a dead letter.
    left = extraction_jobs(app, owner, 3)
    publish_old(old_broker, left)
    [dead] = extraction_jobs(app, owner, 1, state=JobState.DEAD.value)
    dead_letter_old(old_broker, dead)

    report = migrate(old_broker, out=lambda _line: None)
    # At least the three left behind (a copy the switching worker took and handed back at its
    # shutdown may come along: its job is finished, so its claim does nothing).
    assert report.done and report.moved["extraction"] >= 3 and report.moved[Legacy.DEAD_LETTER_QUEUE.name] == 1
    assert not any(report.moved[name] for name in ("analysis", "analysis_bulk", "maintenance"))
    assert not any(queue_exists(name) for name in (*Legacy.WORK_QUEUES, Legacy.DEAD_LETTER_QUEUE.name))
    assert Legacy.DEAD_LETTER_EXCHANGE.name in report.deleted
    assert migrate(old_broker, out=lambda _line: None).moved == {}  # a second run finds nothing to do

    worker = stack.worker(env, tmp_path, name="migration-new")
    worker.start()
    try:
        stack.wait_until(lambda: {s for s, _ in states(app, left).values()} == {"succeeded"}, timeout=60,
                         what="the moved work to be done")
        assert all(attempts == 1 for _, attempts in states(app, left).values())  # each once
        # The dead letter kept its history and replays into the successor of the queue it died in.
        with app.app_context():
            dead_job = db.session.get(BackgroundJob, uuid.UUID(dead))
            outcome = dead_letters.act(old_broker, [dead_job], "requeue", actor="test", source="test")
            db.session.remove()
        assert outcome.requeued == [uuid.UUID(dead)] and not outcome.not_in_broker
        stack.wait_until(lambda: states(app, [dead])[dead][0] == "succeeded", timeout=60, what="the replay")
        for queue in (*(q.name for q in celeryconfig.task_queues), celeryconfig.DEAD_LETTER_QUEUE.name):
            stack.wait_for_empty(queue, vhost=VHOST)
    finally:
        worker.stop()
