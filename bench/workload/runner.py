"""One seed from start to verdict: a fresh database and virtual host, the whole system, the
users' load (and faults), the drain, the checks."""
from __future__ import annotations

import collections
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from bench import chaos
from bench.workload import checker, report
from bench.workload.generator import PASSWORD, Operator, User, user_rng
from bench.workload.history import History
from bench.workload.inputs import Corpus
from bench.workload.system import (NO_LLM, Backend, DisposableBackend, FaultContext, SharedBackend, drain,
                                   inject_faults, unfinished_jobs)
from config import load_settings
from services.analysis.analyzers import analyzer_identity
from tests.support.fake_llm import FakeLLM

LOG_DIR = chaos.ROOT / "var" / "workload-logs"
ADMIN_EMAIL = "workload-operator@example.com"


@dataclass(frozen=True)
class Options:
    users: int = 8
    duration: float = 40.0  # seconds of load
    faults: bool = False
    analyzer: str = "local"  # or "llm": the test LLM server (tests/support/fake_llm.py)
    drain_timeout: float = 120.0
    api_port: int = 5067
    # --faults: the disposable PostgreSQL and RabbitMQ (other ports than make chaos and test_chaos)
    pg_port: int = 5442
    amqp_port: int = 5682
    dist_port: int = 25682
    node: str = "workload@localhost"
    # without faults: the shared servers
    database: str = "applytrack_workload"
    vhost: str = "applytrack_workload"


def workload_env(backend: Backend, options: Options, llm_url: str, storage: Path) -> dict:
    env = chaos.system_env(backend.database_url, backend.broker_url, llm_url, storage)
    env.update(
        ANALYZER=options.analyzer,
        # Low enough that busy users meet the 429 (and its Retry-After) now and then.
        USER_MAX_ANALYSIS_BACKLOG="20",
        # Maintenance runs during the load and the drain, not once an hour.
        SCHEDULE_REPUBLISH_SECONDS="15", SCHEDULE_STUCK_JOBS_SECONDS="30", SCHEDULE_RESCUE_SECONDS="30",
    )
    return env


def analyzer_identities(env: dict) -> dict[str, str]:
    """How services.analyses names each analyzer in input hashes, under the system's settings."""
    with tempfile.TemporaryDirectory() as instance:
        config = load_settings(env, instance_path=Path(instance))
    return {name: analyzer_identity(name, config) for name in ("local", "llm")}


def flask(env: dict, *args: str) -> None:
    chaos.sh(str(chaos.BIN / "flask"), "--app", "wsgi", *args, cwd=chaos.ROOT, env={**env, "LOG_LEVEL": "WARNING"})


def prepare(backend: Backend, env: dict) -> Engine:
    """A fresh, migrated database with the transition recorder, an empty vhost with the queues,
    and the operator's account."""
    backend.reset()
    flask(env, "create-db")
    flask(env, "db", "upgrade")
    flask(env, "queues", "declare")
    engine = create_engine(backend.database_url, pool_pre_ping=True)
    checker.install_recorder(engine)
    flask(env, "users", "create-admin", ADMIN_EMAIL, "--password", PASSWORD)
    return engine


def load(users: list[User], operator: Operator, deadline: float) -> int:
    """Every user and the operator at once until ``deadline``; returns how many operations ran."""
    counts: list[int] = []
    lock = threading.Lock()

    def run(actor: User | Operator) -> None:
        count = actor.run_until(deadline)
        with lock:
            counts.append(count)

    threads = [threading.Thread(target=run, args=(actor,), daemon=True, name=getattr(actor, "name", "operator"))
               for actor in (*users, operator)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def run_seed(seed: int, options: Options, backend: Backend, *, llm: FakeLLM | None, storage: Path,
             out: Callable[[str], None]) -> report.SeedResult:
    env = workload_env(backend, options, llm.base_url if llm else NO_LLM, storage / f"seed-{seed}")
    log_dir = LOG_DIR / f"seed-{seed}"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    with ExitStack() as cleanup:
        engine = prepare(backend, env)
        cleanup.callback(engine.dispose)
        system = chaos.System(env, log_dir, options.api_port, bulk_and_beat=True)
        cleanup.callback(system.stop)
        system.start()
        spec = requests.get(f"{system.base_url}/api/openapi.json", timeout=10).json()
        history = History(seed)
        corpus = Corpus()
        users = [User(index, seed, system.base_url, history, corpus) for index in range(options.users)]
        operator = Operator(seed, system.base_url, history, ADMIN_EMAIL)
        for actor in (*users, operator):
            actor.setup()
        out(f"workload: seed {seed}: {options.users} users for {options.duration:.0f} s (logs in {log_dir})")
        started = time.monotonic()
        deadline = started + options.duration
        faults = None
        if options.faults:
            assert isinstance(backend, DisposableBackend)
            kinds = [f for f in chaos.FAULTS if llm is not None or not isinstance(f, chaos.LLMErrors)]
            faults = inject_faults(FaultContext(backend, system, engine, llm), kinds, user_rng(seed, -2), history,
                                   deadline, log=out)
        operations = load(users, operator, deadline)
        if faults is not None:
            faults.join()  # it stops by the deadline, every fault undone
        seconds = time.monotonic() - started
        if not drain(engine, backend, timeout=options.drain_timeout):
            out(f"workload: seed {seed}: not drained within {options.drain_timeout:.0f} s: {unfinished_jobs(engine)}")
        system.extras[-1].stop()  # beat: no new maintenance run while the checker reads
        drain(engine, backend, timeout=30)
        observation = checker.observe(engine, backend)
        context = checker.Context(history, spec, analyzer_identities(env), faults=options.faults)
        violations = checker.check(observation, context)
        _print_violations(violations, seed, history, observation, out)
        jobs = collections.Counter(job["state"] for job in observation.jobs.values())
        answers = collections.Counter(str(event.status or event.error) for event in history.events)
        return report.SeedResult(seed, options.users, seconds, operations, len(history.events),
                                 [window.name for window in history.faults], dict(jobs), violations,
                                 dict(context.checks_run), dict(sorted(answers.items())))


def _print_violations(violations: list[checker.Violation], seed: int, history: History,
                      observation: checker.Observation, out: Callable[[str], None]) -> None:
    shown: collections.Counter = collections.Counter()
    for violation in violations:
        shown[violation.invariant] += 1
        if shown[violation.invariant] <= report.MAX_EXPLAINED:
            out(report.explain(violation, seed, history, observation))
    for invariant, count in sorted(shown.items()):
        if count > report.MAX_EXPLAINED:
            out(f"seed {seed}: {count - report.MAX_EXPLAINED} more violation(s) of invariant {invariant}, e.g. "
                + "; ".join(sorted({v.message for v in violations if v.invariant == invariant})[:5]))


def run(seeds: list[int], options: Options, out: Callable[[str], None] = print) -> list[report.SeedResult]:
    """Every seed in turn on one backend: disposable servers with faults, else the shared ones."""
    results = []
    with ExitStack() as cleanup:
        base = Path(tempfile.mkdtemp(prefix="applytrack-workload-"))
        cleanup.callback(shutil.rmtree, base, ignore_errors=True)
        backend = _backend(options, base, cleanup)
        llm = None
        if options.analyzer == "llm":
            llm = FakeLLM(latency=0.1)
            llm.server.handle_error = lambda *_args: None  # resets by SIGKILLed workers are expected
            llm.start()
            cleanup.callback(llm.stop)
        for seed in seeds:
            result = run_seed(seed, options, backend, llm=llm, storage=base, out=out)
            out(report.seed_summary(result))
            results.append(result)
    return results


def _backend(options: Options, base: Path, cleanup: ExitStack) -> Backend:
    if not options.faults:
        backend = SharedBackend(options.database, options.vhost)
        cleanup.callback(backend.drop_vhost)
        return backend
    if os.geteuid() != 0:
        raise RuntimeError("--faults starts PostgreSQL and RabbitMQ as their own users: run it as root")
    base.chmod(0o755)  # the postgres and rabbitmq users reach their directories inside
    backend = DisposableBackend(base, pg_port=options.pg_port, amqp_port=options.amqp_port,
                                dist_port=options.dist_port, node=options.node)
    cleanup.callback(backend.destroy)
    backend.create()
    return backend
