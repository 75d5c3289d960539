"""Across hosts, on one machine: a three-node RabbitMQ cluster (scripts/rabbitmq_cluster.py) and
simulated hosts (network namespaces), with the whole system spread over them.

    hosts.py      hosts as network namespaces on a bridge; cut a host off, heal it; teardown
    system.py     the deployment: PostgreSQL on the bridge, brokers, API + relay, workers per host
    scenario.py   the faults under the workload's load, checked after each; RELIABILITY.md's table
    __main__.py   python -m bench.cluster [--faults 1,3] [--short]
    cost.py       python -m bench.cluster.cost: what the cluster costs (BENCHMARKS.md)
"""
