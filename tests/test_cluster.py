"""Across hosts, the short form of the cluster scenario (bench/cluster, `make chaos` runs all five
faults): three RabbitMQ nodes, the API + relay and two worker hosts, each a network namespace,
under bench/workload's seeded load. The queues' leader node is SIGKILLed and brought back; then
a worker host is cut off the network mid-task for longer than the heartbeat and reconnected (its
messages are redelivered to the other host, and its late outcomes must change nothing). After
each fault the workload's checker finds no lost job, no duplicated effect, no stuck job, no 5xx
and no hang. Hosts, nodes and database are the test's own (prefix atct-, 10.214.0.0/24, port
5445), removed pass or fail; the shared PostgreSQL and RabbitMQ are never touched.
"""
from __future__ import annotations

import pytest

from bench.cluster.hosts import can_create_namespaces

CANNOT = can_create_namespaces()
pytestmark = pytest.mark.skipif(CANNOT is not None, reason=f"simulated hosts unavailable: {CANNOT}")


def test_leader_kill_and_worker_host_cut_lose_and_duplicate_nothing(capsys):
    from bench.cluster import scenario

    rows = scenario.Scenario(scenario.PROFILES["short"], [1, 3], prefix="atct", subnet="10.214.0", pg_port=5445,
                             out=lambda line: None).run()
    with capsys.disabled():
        print("\n" + scenario.table(rows))

    assert [row.number for row in rows] == [1, 3]
    for row in rows:
        assert row.accepted > 0 and row.finished > 0, row
        assert (row.lost, row.duplicated, row.other_violations) == (0, 0, 0), row.problems
        assert not row.problems, row.problems
        assert row.longest_wait < 10, row  # the client's patience: never a hang
