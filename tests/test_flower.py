"""Flower as an operator uses it: a real Flower process, started by scripts/run_flower.sh as
`make run` starts it, watching the test broker; read through its HTTP API with basic auth."""
from __future__ import annotations

import socket

import pytest
import requests

import celeryconfig
from tests.conftest import REALDATA, upload, wait_for_extraction
from tests.support import stack

PDF = REALDATA / "resumes" / "rm_latex_plain_john_doe.pdf"
CREDENTIALS = ("operator", "flower-test-password")
# Flower learns workers from their heartbeats (every 2 s) and from inspect broadcasts.
DISCOVERY_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def flower(running_stack):
    """Flower's base URL, with Flower running for this module and stopped after it."""
    port = free_port()
    env = {**running_stack.env, "FLOWER_BASIC_AUTH": ":".join(CREDENTIALS), "FLOWER_ADDRESS": "127.0.0.1",
           "FLOWER_PORT": str(port), "RABBITMQ_MANAGEMENT_URL": stack.MANAGEMENT_API}
    process = stack.ManagedProcess("flower", ["bash", "scripts/run_flower.sh"], env, running_stack.log_dir,
                                   ready_marker=f"Visit me at http://127.0.0.1:{port}")
    try:
        process.start()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def get(flower: str, path: str, auth=CREDENTIALS, **params) -> requests.Response:
    return requests.get(f"{flower}{path}", auth=auth, params=params, timeout=10)


def nodes_named(nodes: dict, prefixes: tuple[str, ...]) -> dict:
    """The entries of ``nodes`` (keyed by node name) for the nodes called ``<prefix>@<host>``."""
    return {node: value for node, value in nodes.items() if node.split("@")[0] in prefixes}


def alive_by_events(flower: str, prefixes: tuple[str, ...]) -> dict | None:
    """Every one of these nodes, once Flower has their heartbeats and sees them alive."""
    found = nodes_named(get(flower, "/api/workers", status="true").json(), prefixes)
    return found if len(found) == len(prefixes) and all(found.values()) else None


def inspected(flower: str, prefixes: tuple[str, ...]) -> dict | None:
    """Every one of these nodes as an inspect broadcast describes it (queues, pool, stats)."""
    found = nodes_named(get(flower, "/api/workers", refresh="true").json(), prefixes)
    return found if len(found) == len(prefixes) and all("active_queues" in info for info in found.values()) else None


def succeeded(flower: str, task_id: str) -> dict | None:
    task = get(flower, "/api/tasks").json().get(task_id)
    return task if task and task["state"] == "SUCCESS" else None


def test_flower_sees_the_workers_and_a_finished_extraction(flower, workers, client, user):
    prefixes = (workers.worker.name, workers.analysis_worker.name)
    # Alive by events first: Flower only shows a task whose events arrive after it listens.
    stack.wait_until(lambda: alive_by_events(flower, prefixes), timeout=DISCOVERY_TIMEOUT, interval=0.5,
                     what="Flower to see both workers' heartbeats")

    resume = upload(client, user, PDF.read_bytes(), PDF.name).json
    assert wait_for_extraction(client, user, resume["id"])["extraction_status"] == "succeeded"
    task = stack.wait_until(lambda: succeeded(flower, resume["extraction_job_id"]), timeout=DISCOVERY_TIMEOUT,
                            interval=0.5, what="Flower to show the extraction task succeeded")
    assert task["name"] == "resumes.extract"
    assert task["worker"].split("@")[0] == workers.worker.name

    nodes = stack.wait_until(lambda: inspected(flower, prefixes), timeout=DISCOVERY_TIMEOUT, interval=0.5,
                             what="Flower to inspect both workers")
    queues = {node.split("@")[0]: {queue["name"] for queue in info["active_queues"]} for node, info in nodes.items()}
    assert queues == {workers.worker.name: {celeryconfig.EXTRACTION_QUEUE},
                      workers.analysis_worker.name: {celeryconfig.ANALYSIS_QUEUE}}


def test_flower_reads_queue_lengths_from_the_management_api(flower, workers):
    queues = get(flower, "/api/queues/length").json()["active_queues"]
    names = [queue["name"] for queue in queues]
    # One entry per queue that workers consume, from the test vhost only; the dead-letter queue
    # has no consumer, so Flower never lists it (flower #559).
    assert len(names) == len(set(names)) and {celeryconfig.EXTRACTION_QUEUE, celeryconfig.ANALYSIS_QUEUE} <= set(names)
    assert set(names) <= {queue.name for queue in celeryconfig.task_queues}
    assert {queue["vhost"] for queue in queues} == {stack.TEST_VHOST}
    assert all(isinstance(q["messages"], int) for q in queues)


def test_flower_asks_for_credentials(flower):
    assert get(flower, "/api/workers", auth=None).status_code == 401
    assert get(flower, "/api/tasks", auth=(CREDENTIALS[0], "wrong")).status_code == 401
    assert get(flower, "/", auth=None).status_code == 401
    # By Flower's design these two answer anyone: the port must stay private to operators.
    assert get(flower, "/healthcheck", auth=None).text == "OK"
    assert get(flower, "/metrics", auth=None).status_code == 200
