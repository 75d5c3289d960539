"""The faults across hosts, in turn, under bench/workload's seeded load, each followed by a drain
and bench/workload's checker (no lost job, no duplicated effect, no stuck job, no 5xx or hang):

    1  SIGKILL the broker node that leads the work queues, then bring it back
    2  a rolling restart of the three broker nodes, one at a time
    3  cut a worker host off the network mid-task for longer than the heartbeat, then reconnect it
       (its messages are redelivered to the other host; the late worker must change nothing)
    4  cut the API host off every broker for 30 s (the outbox holds; requests are still accepted)
    5  a minority partition: the queues' leader cut off from the other two nodes, then healed

Per fault: requests accepted, jobs finished / lost / duplicated, the longest a client waited,
and the recovery time (from the fault's end until every job created before it had finished)."""
from __future__ import annotations

import collections
import datetime as dt
import os
import shutil
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import text

import celeryconfig
from bench import chaos
from bench.cluster.hosts import Hosts
from bench.cluster.system import (API_HOST, BROKER_HOSTS, EPMD_PORT, HOST_NAMES, WORKER_HOSTS, BridgePostgres,
                                  ClusterBackend, Deployment, broker_nodes)
from bench.workload import checker, runner
from bench.workload.generator import Operator, User
from bench.workload.history import History
from bench.workload.inputs import Corpus
from bench.workload.system import drain
from models.background_job import TERMINAL_STATES
from scripts.rabbitmq_cluster import RabbitCluster
from tests.support import stack
from tests.support.fake_llm import FakeLLM

LOG_DIR = chaos.ROOT / "var" / "cluster-logs"
HEARTBEAT = celeryconfig.broker_heartbeat
MARKERS = ("<!-- cluster:table -->", "<!-- /cluster:table -->")


@dataclass(frozen=True)
class Profile:
    users: int
    before: float  # seconds of load before the fault
    after: float  # seconds of load after it is undone
    worker_cut: float  # how long a worker host stays cut off (> the heartbeat: its messages move)
    api_cut: float
    partition: float
    node_down: float  # how long the killed leader stays down
    drain_timeout: float
    llm_latency: float = 0.5  # seconds per analysis: long enough for a worker to be cut mid-task


PROFILES = {
    "full": Profile(users=6, before=12, after=15, worker_cut=40, api_cut=30, partition=30, node_down=15,
                    drain_timeout=300, llm_latency=0.25),
    "short": Profile(users=4, before=5, after=5, worker_cut=32, api_cut=30, partition=20, node_down=5,
                     drain_timeout=150, llm_latency=0.25),
}


class Deadline:
    """A time.monotonic() deadline set only once the fault is over (how long a rolling restart
    takes is not known in advance); the generator compares ``time.monotonic() < deadline``."""

    def __init__(self) -> None:
        self.at = float("inf")

    def __gt__(self, now: float) -> bool:
        return self.at > now


class Env:
    """What a fault acts on."""

    def __init__(self, hosts: Hosts, cluster: RabbitCluster, deployment: Deployment, engine, out) -> None:
        self.hosts = hosts
        self.cluster = cluster
        self.deployment = deployment
        self.engine = engine
        self.out = out
        self.notes: list[str] = []

    def work_queue_leader(self) -> str:
        leaders = self.cluster.queue_leaders()
        counts = collections.Counter(leaders.get(queue.name) for queue in celeryconfig.task_queues)
        counts.pop(None, None)
        return counts.most_common(1)[0][0] if counts else self.cluster.nodes[0].name

    def count_jobs(self, state: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM background_jobs WHERE state = :s AND kind <> "
                                           "'maintenance'"), {"s": state}).scalar_one()


class Fault(ABC):
    number = 0
    name = ""

    @abstractmethod
    def inject(self, env: Env, profile: Profile) -> None:
        """Break it, hold it, and undo it (the undo also runs again from ``undo`` on errors)."""

    def undo(self, env: Env) -> None:
        """Make sure everything is back, whatever state ``inject`` left."""
        env.hosts.heal_all()
        for node in env.cluster.nodes:
            if not env.cluster.node_running(node):
                env.cluster.start_node(node)
        env.cluster.wait_formed(timeout=120)


class LeaderKilled(Fault):
    number, name = 1, "queue leader node SIGKILLed, back after"

    def inject(self, env, profile):
        leader = env.work_queue_leader()
        env.notes.append(f"killed {leader}")
        env.cluster.kill_node(leader)
        time.sleep(profile.node_down)
        env.cluster.start_node(leader)
        env.cluster.wait_formed(timeout=120)


class RollingRestart(Fault):
    number, name = 2, "rolling restart of the three nodes"

    def inject(self, env, profile):
        for node in env.cluster.nodes:
            env.cluster.stop_node(node)
            env.cluster.start_node(node)
            env.cluster.wait_formed(timeout=120)


class WorkerHostCut(Fault):
    number, name = 3, "worker host cut off mid-task"

    def inject(self, env, profile):
        stack.wait_until(lambda: env.count_jobs("running") > 0, timeout=30, interval=0.05, what="a job to be running")
        host = WORKER_HOSTS[0]
        env.notes.append(f"{host} cut with {env.count_jobs('running')} job(s) running, for {profile.worker_cut:.0f} s")
        env.hosts.cut(host)
        time.sleep(profile.worker_cut)
        env.hosts.heal(host)


class APIHostCut(Fault):
    number, name = 4, "API host cut off every broker"

    def inject(self, env, profile):
        env.hosts.cut(API_HOST, peers=list(BROKER_HOSTS))
        time.sleep(profile.api_cut)
        env.hosts.heal(API_HOST)


class MinorityPartition(Fault):
    number, name = 5, "leader node partitioned from the other two"

    def inject(self, env, profile):
        leader = env.cluster.node(env.work_queue_leader())
        host = BROKER_HOSTS[env.cluster.nodes.index(leader)]
        others = [name for name in BROKER_HOSTS if name != host]
        env.notes.append(f"{leader.name} cut from {', '.join(others)}")
        env.hosts.cut(host, peers=others)
        time.sleep(profile.partition)
        env.hosts.heal(host)
        env.cluster.wait_formed(timeout=180)


FAULTS = {fault.number: fault for fault in (LeaderKilled(), RollingRestart(), WorkerHostCut(), APIHostCut(),
                                             MinorityPartition())}


@dataclass
class Row:
    number: int
    fault: str
    seconds: float = 0.0  # how long the fault lasted
    accepted: int = 0  # jobs named by a 201/202 answer (uploads, analyses) in the phase
    finished: int = 0  # of those, how many ended succeeded or failed
    dead: int = 0
    lost: int = 0  # invariant 1: a job never finished
    duplicated: int = 0  # invariant 2: an effect taken twice
    other_violations: int = 0
    longest_wait: float = 0.0
    recovery: float = 0.0
    answers: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def remove_stale_runs(prefix: str, *, keep: Path, out=print) -> None:
    """What a run of this prefix killed before its ``finally`` left behind (its namespaces are
    removed by Hosts.create): its PostgreSQL, stopped, and its directory."""
    for base in Path(tempfile.gettempdir()).glob("applytrack-cluster-*"):
        marker = base / "hosts-prefix"
        if base == keep or not marker.exists() or marker.read_text() != prefix:
            continue
        data = base / "postgres" / "data"
        if (data / "postmaster.pid").exists():
            chaos.sh("runuser", "-u", "postgres", "--", str(BridgePostgres.binaries() / "pg_ctl"), "-D", str(data),
                     "-m", "immediate", "-w", "stop", check=False, cwd="/tmp")
        shutil.rmtree(base, ignore_errors=True)
        out(f"cluster: removed what an interrupted run left in {base}")


class Stack:
    """Everything the scenario runs on, up in ``__enter__`` and all removed in ``__exit__`` (pass or
    fail): the hosts, PostgreSQL on the bridge, the three nodes, the test LLM, a fresh database
    and vhost (bench.workload's prepare), and the deployment."""

    def __init__(self, llm_latency: float, *, env_overrides: dict | None = None, prefix: str = "atc",
                 subnet: str = "10.213.0", pg_port: int = 5444, out=print) -> None:
        self.llm_latency = llm_latency
        self.prefix, self.subnet, self.pg_port = prefix, subnet, pg_port
        self.env_overrides = env_overrides or {}
        self.out = out
        self._cleanup = ExitStack()

    def __enter__(self) -> "Stack":
        if os.geteuid() != 0:
            raise RuntimeError("the cluster scenario creates network namespaces: run it as root")
        cleanup = self._cleanup.__enter__()
        try:
            base = Path(tempfile.mkdtemp(prefix="applytrack-cluster-"))
            base.chmod(0o755)
            cleanup.callback(shutil.rmtree, base, ignore_errors=True)
            (base / "hosts-prefix").write_text(self.prefix)
            self.hosts = Hosts(list(HOST_NAMES), prefix=self.prefix, subnet=self.subnet)
            cleanup.callback(self.hosts.destroy)
            self.hosts.create()  # holds the prefix's lock: no live run of this prefix is left to disturb
            remove_stale_runs(self.prefix, keep=base, out=self.out)
            self.postgres = BridgePostgres(base, self.pg_port, self.hosts.gateway, self.hosts.subnet)
            cleanup.callback(self.postgres.destroy)
            self.postgres.create()
            self.cluster = RabbitCluster(base / "rabbitmq", broker_nodes(self.hosts), epmd_port=EPMD_PORT, out=self.out)
            cleanup.callback(self.cluster.destroy, clean=False)
            self.cluster.start()
            self.llm = FakeLLM(host=self.hosts.gateway, latency=self.llm_latency)
            self.llm.server.handle_error = lambda *_args: None  # cut-off workers reset their calls
            self.llm.start()
            cleanup.callback(self.llm.stop)
            self.backend = ClusterBackend(self.postgres, self.cluster)
            self.env = runner.workload_env(self.backend, runner.Options(analyzer="llm"), self.llm.base_url,
                                           base / "storage")
            self.env.update(RABBITMQ_MANAGEMENT_URL=self.cluster.management_url, **self.env_overrides)
            log_dir = LOG_DIR / self.prefix  # a test run beside a `make chaos` keeps its own
            shutil.rmtree(log_dir, ignore_errors=True)
            log_dir.mkdir(parents=True)
            self.engine = runner.prepare(self.backend, self.env)
            cleanup.callback(self.engine.dispose)
            self.deployment = Deployment(self.hosts, self.env, log_dir)
            cleanup.callback(self.deployment.stop)
            self.deployment.start()
            self.out(f"cluster: up on {len(HOST_NAMES)} hosts (logs in {log_dir}); BROKER_URL={self.cluster.broker_url}")
        except BaseException:
            self._cleanup.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._cleanup.__exit__(*exc)


class Scenario:
    def __init__(self, profile: Profile, faults: list[int], *, seed: int = 1, out=print, **stack_options) -> None:
        self.profile = profile
        self.stack_options = stack_options  # Stack's prefix, subnet, pg_port: a second run beside another
        self.faults = [FAULTS[number] for number in faults]
        self.seed = seed
        self.out = out

    def run(self) -> list[Row]:
        rows: list[Row] = []
        with Stack(self.profile.llm_latency, out=self.out, **self.stack_options) as stack_:
            env, engine, deployment = stack_.env, stack_.engine, stack_.deployment
            spec = requests.get(f"{deployment.base_url}/api/openapi.json", timeout=10).json()
            history = History(self.seed)
            corpus = Corpus()
            users = [User(i, self.seed, deployment.base_url, history, corpus) for i in range(self.profile.users)]
            operator = Operator(self.seed, deployment.base_url, history, runner.ADMIN_EMAIL)
            for actor in (*users, operator):
                actor.setup()
            context = Env(stack_.hosts, stack_.cluster, deployment, engine, self.out)
            identities = runner.analyzer_identities(env)
            seen: set = set()
            for fault in self.faults:
                row = self.phase(fault, context, stack_.backend, history, users, operator, spec, identities, seen)
                rows.append(row)
                self.out(format_row(row))
                for problem in row.problems:
                    self.out(f"    PROBLEM: {problem}")
        return rows

    def phase(self, fault: Fault, env: Env, backend: ClusterBackend, history: History, users, operator, spec,
              identities, seen: set) -> Row:
        row = Row(fault.number, fault.name)
        env.notes = []
        offsets = {p.log_path: p.log_path.stat().st_size for p in env.deployment.processes if p.log_path.exists()}
        if not env.deployment.beat.alive:
            env.deployment.beat.start(timeout=60)
        started = time.time()
        since = dt.datetime.now(dt.timezone.utc)
        deadline = Deadline()
        load = threading.Thread(target=runner.load, args=(users, operator, deadline), daemon=True)
        load.start()
        time.sleep(self.profile.before)
        self.out(f"cluster: fault {fault.number}: {fault.name}")
        window = history.fault_started(fault.name, time.time())
        try:
            fault.inject(env, self.profile)
        except Exception as exc:
            row.problems.append(f"fault not injected cleanly: {exc}")
        finally:
            try:
                fault.undo(env)
            finally:
                restarted = env.deployment.ensure_running()
                if restarted:
                    row.problems.append(f"process(es) died and were restarted: {restarted}")
                window.ended = time.time()
        row.seconds = window.ended - window.started
        deadline.at = time.monotonic() + self.profile.after
        load.join(self.profile.after + 60)
        if not drain(env.engine, backend, timeout=self.profile.drain_timeout):
            row.problems.append(f"not drained within {self.profile.drain_timeout:.0f} s: {unfinished_by_lane(env.engine)}")
        env.deployment.beat.stop()  # no new maintenance run while the checker reads
        drain(env.engine, backend, timeout=30)
        observation = checker.observe(env.engine, backend)
        violations = checker.check(observation, checker.Context(history, spec, identities, faults=True))
        new = [v for v in violations if (v.invariant, v.message, v.ids) not in seen]
        seen.update((v.invariant, v.message, v.ids) for v in violations)
        self._measure(row, env, history, started, window.ended, since, new)
        late = late_outcomes_discarded(offsets)
        row.notes = env.notes + ([f"{late} late worker outcome(s) discarded by the claim's fencing token"] if late else [])
        return row

    def _measure(self, row: Row, env: Env, history: History, started: float, fault_end: float,
                 since: dt.datetime, violations: list) -> None:
        events = [e for e in history.events if e.started >= started]
        row.answers = dict(sorted(collections.Counter(str(e.status or e.error) for e in events).items()))
        accepted = {job for e in events if e.status in (201, 202) for job in e.ids.get("job", ())}
        row.accepted = len(accepted)
        slowest = max((e for e in events if e.ended), key=lambda e: e.ended - e.started, default=None)
        if slowest is not None:
            row.longest_wait = slowest.ended - slowest.started
            if row.longest_wait > 3:
                env.notes.append(f"slowest answer: {slowest.method} {slowest.route} "
                                 f"{slowest.status or slowest.error} in {row.longest_wait:.1f} s")
        with env.engine.connect() as connection:
            states = dict(connection.execute(text(
                "SELECT state, count(*) FROM background_jobs WHERE id = ANY(CAST(:ids AS uuid[])) GROUP BY state"),
                {"ids": sorted(accepted)}).all())
            backlog_done = connection.execute(text(
                "SELECT max(finished_at) FROM background_jobs WHERE created_at >= :since "
                "AND created_at <= to_timestamp(:end) AND kind <> 'maintenance'"),
                {"since": since, "end": fault_end}).scalar_one()
        row.finished = states.get("succeeded", 0) + states.get("failed", 0)
        row.dead = states.get("dead", 0)
        row.recovery = max(0.0, backlog_done.timestamp() - fault_end) if backlog_done else 0.0
        row.lost = sum(1 for v in violations if v.invariant == 1)
        row.duplicated = sum(1 for v in violations if v.invariant == 2)
        row.other_violations = len(violations) - row.lost - row.duplicated
        by_kind = collections.Counter((v.invariant, v.message) for v in violations)
        for (invariant, message), count in sorted(by_kind.items()):
            row.problems.append(f"invariant {invariant} ({checker.INVARIANTS[invariant]}): {message}"
                                + (f" (×{count})" if count > 1 else ""))


def unfinished_by_lane(engine) -> dict[str, int]:
    """Unfinished jobs by lane, state and whether the relay has published them yet."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT lane, state, published_at IS NOT NULL, count(*) FROM background_jobs "
            "WHERE state <> ALL(:terminal) GROUP BY 1, 2, 3"), {"terminal": list(TERMINAL_STATES)}).all()
    return {f"{lane} {state}{' published' if published else ' in the outbox'}": count
            for lane, state, published, count in rows}


def late_outcomes_discarded(offsets: dict[Path, int]) -> int:
    """How many times a worker's outcome was thrown away because the job had been claimed again
    since (tasks/base.py logs "outcome of attempt N discarded"), in the logs past ``offsets``."""
    count = 0
    for path, offset in offsets.items():
        with open(path, "rb") as handle:
            handle.seek(offset)
            count += sum(1 for line in handle if b"outcome of attempt" in line and b"discarded" in line)
    return count


# --- report ----------------------------------------------------------------------------------------

HEADER = ("| # | fault | fault lasted | jobs accepted | finished | dead | lost | duplicated | "
          "other violations | longest client wait | recovery |")


def format_row(row: Row) -> str:
    return (f"| {row.number} | {row.fault}{' (' + '; '.join(row.notes) + ')' if row.notes else ''} | "
            f"{row.seconds:.0f} s | {row.accepted} | {row.finished} | {row.dead} | {row.lost} | {row.duplicated} | "
            f"{row.other_violations} | {row.longest_wait:.1f} s | {row.recovery:.1f} s |")


def table(rows: list[Row]) -> str:
    separator = "|" + "|".join(" --- " for _ in range(HEADER.count("|") - 1)) + "|"
    return "\n".join([HEADER, separator, *(format_row(row) for row in rows)])


def write_reliability(rows: list[Row], command: str, seconds: float) -> None:
    start, end = MARKERS
    failing = [row for row in rows if row.problems]
    verdict = ("every check passed" if not failing else
               "problems: " + "; ".join(f"fault {row.number}: {row.problems[0]}" for row in failing))
    body = (f"{start}\nMeasured {dt.date.today():%Y-%m-%d} with `{command}` ({seconds / 60:.1f} min; "
            f"three RabbitMQ nodes, API + relay and two worker hosts as network namespaces; {verdict}):\n\n"
            f"{table(rows)}\n\nRecovery: from the fault's end until every job created before it had finished. "
            f"Accepted: jobs named by a 201/202 answer (uploads, analyses) sent during the phase; finished: "
            f"of those, ended succeeded or failed (a failed one is a hostile file); the others were cancelled "
            f"(their resume deleted meanwhile) or are dead, for an operator's replay. Lost / duplicated: violations of bench/workload's invariants 1 / 2 "
            f"first seen after this fault.\n{end}")
    chaos.write_reliability_section(start, end, body)
