"""BROKER_URL as a list of nodes: every part of the app that opens its own broker connection or
asks the management API goes past a node that is down, and says which node is down.

The list here names a dead node first (nothing listens on port 1) and the shared RabbitMQ
second, so the test needs no cluster: the cluster itself is proven in tests/test_cluster.py
(hosts as network namespaces) and `make chaos`.
"""
from __future__ import annotations

import queue
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from api import create_app
from bench.chaos import system_env
from models import BackgroundJob, db
from services import broker
from services.database_admin import ensure_database
from services.dead_letters import DeadLetterQueue
from services.outbox import ConfirmedBatchPublisher, publish_pending
from tests.conftest import TEST_BROKER_URL, make_test_env
from tests.support import stack
from tests.support.freezable_proxy import FreezableProxy
from tests.support.scenes import Scene, drop_database
from tests.test_operations import admin  # noqa: F401 (a fixture)

DEAD_NODE = f"amqp://guest:guest@127.0.0.1:1/{stack.TEST_VHOST}"
PRIVATE_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/applytrack_silent_broker_test"


@pytest.fixture
def failover_app(migrated_database):
    return create_app({**make_test_env(), "BROKER_URL": f"{DEAD_NODE};{TEST_BROKER_URL}",
                       "RABBITMQ_MANAGEMENT_URL": "http://127.0.0.1:1/api;http://127.0.0.1:15672/api"})


def test_readiness_shows_each_node_and_stays_ready_while_one_answers(failover_app):
    answer = failover_app.test_client().get("/api/ready")
    assert answer.status_code == 200, answer.json
    nodes = answer.json["checks"]["broker"]["nodes"]
    assert nodes["127.0.0.1:1"]["ok"] is False and "refused" in nodes["127.0.0.1:1"]["error"].lower()
    assert nodes["127.0.0.1:5672"]["ok"] is True


def test_readiness_fails_when_no_node_answers(migrated_database):
    app = create_app({**make_test_env(),
                      "BROKER_URL": f"{DEAD_NODE};amqp://guest:guest@127.0.0.1:2/{stack.TEST_VHOST}"})
    answer = app.test_client().get("/api/ready")
    assert answer.status_code == 503
    assert answer.json["checks"]["broker"]["error"].startswith("no broker node answered")


def test_the_relay_publishes_through_the_next_node_and_starts_there_next_time(failover_app):
    with failover_app.app_context():
        publisher = ConfirmedBatchPublisher(failover_app.extensions["celery"], confirm_timeout=5)
        try:
            # A job no database row backs: a worker that receives it drops it (nothing to claim).
            publisher([BackgroundJob(id=uuid.uuid4(), kind="analysis", subject_id=uuid.uuid4(), lane="interactive")])
        finally:
            publisher.close()
        assert broker.failover_url(failover_app.config["BROKER_URL"]).startswith(TEST_BROKER_URL)


def test_the_dead_letter_tools_reach_the_queue_through_the_next_node(failover_app):
    with failover_app.app_context():
        with DeadLetterQueue(failover_app.extensions["celery"]).session() as browser:
            assert browser.channel.is_open


def test_metrics_and_the_queue_listing_come_from_the_first_management_api_that_answers(failover_app, admin):  # noqa: F811
    client = failover_app.test_client()
    listing = client.get("/api/dlq/queues", headers=admin["headers"])
    assert listing.status_code == 200, listing.json
    analysis = next(queue for queue in listing.json if queue["name"] == "applytrack.analysis")
    assert analysis["members"] == analysis["online"] == [analysis["leader"]]  # one node: one replica

    text = client.get("/metrics").get_data(as_text=True)
    assert 'applytrack_queue_members{queue="applytrack.analysis"} 1.0' in text
    assert 'applytrack_queue_members_online{queue="applytrack.analysis"} 1.0' in text
    assert f'applytrack_queue_leader{{node="{analysis["leader"]}",queue="applytrack.analysis"}} 1.0' in text
    assert 'applytrack_broker_cluster_nodes{running="true"} 1.0' in text
    assert "applytrack_broker_partitioned_nodes 0.0" in text


def test_the_relay_locks_no_job_row_while_it_waits_for_a_silent_broker(tmp_path):
    """A broker node cut off the network accepts no connection and refuses none: connecting waits
    for the timeout. The relay used to lock its batch's rows first, and a user deleting a resume
    (which cancels its jobs, row by row) waited as long. It connects first now."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the handshake is never answered
    port = silent.getsockname()[1]
    env = {**system_env(PRIVATE_DATABASE_URL, f"amqp://guest:guest@127.0.0.1:{port}/{stack.TEST_VHOST}",
                        "http://127.0.0.1:1/v1", tmp_path / "storage"), "LOG_LEVEL": "WARNING"}
    drop_database(PRIVATE_DATABASE_URL)
    ensure_database(PRIVATE_DATABASE_URL)
    scene = Scene(env)
    try:
        scene.migrate()
        job_id = uuid.uuid4()
        with scene.app.app_context():
            db.session.add(BackgroundJob(id=job_id, kind="analysis", subject_id=uuid.uuid4(), state="queued"))
            db.session.commit()
        publisher = ConfirmedBatchPublisher(scene.app.extensions["celery"], confirm_timeout=3)

        def relay_once():
            with scene.app.app_context():
                try:
                    return publish_pending(publisher)
                finally:
                    db.session.remove()

        with ThreadPoolExecutor(1) as pool:
            attempt = pool.submit(relay_once)
            time.sleep(1)  # the relay is waiting for the silent node now
            assert not attempt.done()
            with scene.engine.connect() as connection:  # what a delete's UPDATE of the row needs
                connection.execute(text("SET lock_timeout = '200ms'"))
                connection.execute(text("SELECT 1 FROM background_jobs WHERE id = :id FOR UPDATE"), {"id": job_id})
            with pytest.raises(Exception):
                attempt.result(15)
    finally:
        silent.close()
        scene.close()
        drop_database(PRIVATE_DATABASE_URL)


def test_the_dead_letter_tools_give_up_on_a_node_that_stops_answering(migrated_database):
    """A node partitioned from its peers keeps its clients' connections open and answers nothing
    until it notices (~net_ticktime): an operator's replay used to hang on it. Every reply now
    has a deadline, and the API turns it into a 503."""
    proxy = FreezableProxy(5672).start()
    app = create_app({**make_test_env(), "BROKER_URL": f"amqp://guest:guest@127.0.0.1:{proxy.port}/{stack.TEST_VHOST}"})
    outcome: queue.Queue = queue.Queue()

    def browse_after_the_node_went_silent():
        started = time.monotonic()
        with app.app_context():
            try:
                with DeadLetterQueue(app.extensions["celery"]).session() as browser:
                    proxy.freeze()
                    started = time.monotonic()
                    browser.by_job()
            except Exception as exc:
                outcome.put((type(exc), time.monotonic() - started))
                return
        outcome.put((None, time.monotonic() - started))

    try:
        # A daemon thread: if it hangs (the defect), the test fails instead of hanging with it.
        threading.Thread(target=browse_after_the_node_went_silent, daemon=True).start()
        error, waited = outcome.get(timeout=30)
        assert error is not None and issubclass(error, (TimeoutError, OSError)), error
        assert waited < 10
        with app.test_request_context():
            assert app.handle_user_exception(TimeoutError("timed out")).status_code == 503
    finally:
        proxy.stop()


def test_the_relay_gives_up_on_a_node_that_goes_silent_and_connects_afresh(failover_app):
    """Connected once, then silence (a node cut off): the next batch fails within the relay's deadline
    instead of holding its rows until TCP gives up, and goes again through the next node."""
    proxy = FreezableProxy(5672).start()
    app = create_app({**make_test_env(), "BROKER_URL": f"amqp://guest:guest@127.0.0.1:{proxy.port}/{stack.TEST_VHOST}"})
    outcome: queue.Queue = queue.Queue()
    publisher = ConfirmedBatchPublisher(app.extensions["celery"], confirm_timeout=3)
    job = BackgroundJob(id=uuid.uuid4(), kind="analysis", subject_id=uuid.uuid4(), lane="interactive")

    def publish_after_the_node_went_silent():
        with app.app_context():
            publisher.open()  # connected, the topology declared
            publisher.close()
            proxy.freeze()  # ... then the node goes silent: the next connection's handshake never ends
            started = time.monotonic()
            try:
                publisher.open()
                publisher([job])
            except Exception as exc:
                outcome.put((type(exc), time.monotonic() - started))
                return
        outcome.put((None, time.monotonic() - started))

    try:
        threading.Thread(target=publish_after_the_node_went_silent, daemon=True).start()
        error, waited = outcome.get(timeout=30)
        assert error is not None, "a publish to a silent node cannot have been confirmed"
        assert waited < 8
        assert not publisher.is_open  # the next batch connects afresh
    finally:
        proxy.stop()
