"""A seeded, randomized, concurrent workload against the whole running system, and a checker
of the invariants its history must keep (after Jepsen's generator + checker).

    inputs.py     what users upload and apply to (../shared/realdata)
    history.py    the recorded client history: every request, its answer, the faults
    client.py     one user's HTTP client; every call is recorded
    generator.py  the users and the operator: weighted random operations from one seed
    system.py     where it runs: shared or disposable PostgreSQL/RabbitMQ, faults, the drain
    checker.py    the invariants, from the history, the database and the broker
    report.py     violations explained, summaries, RELIABILITY.md's section
    runner.py     one seed from a fresh database to its verdict
    __main__.py   python -m bench.workload --seed S | --seeds 1-20 [--faults]
"""
