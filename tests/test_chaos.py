"""Faults under load, the short form of `make chaos` (bench/chaos.py).

A stream of uploads and analyses runs against a whole system (gunicorn, relay, extraction and
analysis workers, the test LLM with latency) on a PostgreSQL and a RabbitMQ node that the suite
starts for itself on other ports, while in turn RabbitMQ restarts, PostgreSQL restarts, both
workers are SIGKILLed mid-task, the LLM answers 30 % errors and timeouts, and the API is killed
and restarted. The shared PostgreSQL (5432) and RabbitMQ (5672) are never touched.

What a user and an operator check afterwards: every request the API accepted ended succeeded
(directly, or dead and replayed with the DLQ replay), none lost, none run to success twice, no
message left behind in any queue, and while a dependency was down the API answered at once:
accepted where the outbox could take the work, 503 with Retry-After where it could not.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench import chaos

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("rabbitmq-server") or not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")),
    reason="needs root, the PostgreSQL server binaries and rabbitmq-server to start disposable instances",
)


def test_every_accepted_request_survives_each_fault_exactly_once(capsys):
    # Ports and node name of its own, so that a `make chaos` running at the same time is not disturbed.
    results = chaos.run("short", pg_port=5441, amqp_port=5681, dist_port=25681, node="chaos-test@localhost",
                        api_port=5066)
    with capsys.disabled():
        print("\n" + chaos.table(results))

    assert [r.fault for r in results] == [fault.name for fault in chaos.FAULTS]
    for r in results:
        assert r.accepted > 0, r.fault
        assert (r.lost, r.duplicated, r.orphan_messages) == (0, 0, 0), (r.fault, r.problems)
        assert r.succeeded == r.accepted, (r.fault, r.problems)  # directly or after the replay
        assert r.replayed == r.dead, (r.fault, r.problems)
        assert (r.hangs, r.unclear) == (0, 0), (r.fault, r.statuses)
        assert r.ok, (r.fault, r.problems)
    by_fault = {r.fault: r for r in results}
    # With the broker down the outbox still takes every request: nothing refused.
    assert by_fault[chaos.RabbitRestart.name].refused == 0
    # Only while the API itself is down can a client not connect.
    assert all(r.connection_errors == 0 for r in results if r.fault != chaos.APIKilled.name)
