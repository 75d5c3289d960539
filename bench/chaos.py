"""Faults under load (`make chaos`): a steady stream of uploads and analyses against a whole
running system while, in turn, RabbitMQ restarts, PostgreSQL restarts, workers are SIGKILLed
mid-task, the LLM answers 30 % errors and timeouts, and the API is killed and restarted.

After each fault, every accepted request (201/202) must end ``succeeded`` — directly, or
``dead`` and then replayed through the operators' DLQ replay (`flask dlq replay`, the code
behind scripts/replay_dlq.py) — none lost, none run to success twice, no message left in a
queue. While a dependency is down the API must answer clearly (202/201 where the outbox can
take the work, 503 + Retry-After where it cannot) and never hang: a client timeout counts as a
failure.

Isolation: the suite starts its OWN PostgreSQL (initdb into a temporary directory, run as the
``postgres`` user) and its OWN RabbitMQ node (``chaos@localhost``) on other ports, and only
ever restarts those; the shared instances on 5432/5672 are never touched. Everything it starts
is stopped, and every fault undone, in ``finally`` blocks.

    .venv/bin/python -m bench.chaos                 # full run, rewrites RELIABILITY.md's table
    .venv/bin/python -m bench.chaos --profile short # the CI form (tests/test_chaos.py)
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

import celeryconfig
from tests.support import stack
from tests.support.fake_llm import FakeLLM

ROOT = Path(__file__).resolve().parent.parent
RELIABILITY_MD = ROOT / "RELIABILITY.md"
LOG_DIR = ROOT / "var" / "chaos-logs"
REALDATA = ROOT.parent / "shared" / "realdata"
BIN = Path(sys.executable).parent
# Real resumes that extract in about 0.1 s each (realdata/EXTRACTION.tsv), and real listings.
RESUMES = ["ocv_word_quartz_sample.pdf", "rm_latex_plain_john_doe.pdf", "ocv_weasyprint_two_column.pdf",
           "ocv_chromium_letter_spaced_heading.pdf", "rm_latex_moderncv_harvey_dent_mle.pdf",
           "or_word_quartz_laverne.pdf", "or_reactpdf_openresume.pdf"]
LISTINGS = ["rm_e2e_en_backend-eng.txt", "rm_e2e_en_ml-eng.txt", "indeed2020_backend_developer.txt",
            "indeed2020_data_scientist.txt"]
QUEUES = (celeryconfig.EXTRACTION_QUEUE, celeryconfig.ANALYSIS_QUEUE, celeryconfig.DEAD_LETTER_QUEUE.name)
TERMINAL = ("succeeded", "failed", "dead")


@dataclass(frozen=True)
class Profile:
    requests: int  # per fault (the LLM fault sends more: the stream lasts as long as the fault)
    rate: float  # requests per second
    fault_after: float  # seconds into the stream
    outage: float  # how long RabbitMQ / PostgreSQL / a worker / the API stays down
    llm_fault: float  # how long the LLM answers 30 % errors and timeouts
    drain_timeout: float  # after the stream: how long the backlog may take before "lost"


PROFILES = {
    "full": Profile(requests=300, rate=6.0, fault_after=10, outage=10, llm_fault=60, drain_timeout=240),
    "short": Profile(requests=40, rate=8.0, fault_after=2, outage=4, llm_fault=8, drain_timeout=150),
}
# The client's patience: connect, read. An answer slower than this is a hang.
CLIENT_TIMEOUT = (3.0, 10.0)


def sh(*argv: str, timeout: float = 120, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=check, **kwargs)


# --- disposable dependencies -------------------------------------------------------------------

class DisposablePostgres:
    """A PostgreSQL cluster of its own in a temporary directory, run as the postgres user."""

    def __init__(self, base: Path, port: int) -> None:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
        if not versions:
            raise RuntimeError("PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin)")
        self.bin = versions[-1].parent
        self.dir = base / "postgres"
        self.data = self.dir / "data"
        self.port = port
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/applytrack_chaos"

    def _as_postgres(self, *argv: str, timeout: float = 120) -> None:
        sh("runuser", "-u", "postgres", "--", *argv, timeout=timeout, cwd="/tmp")

    def create(self) -> "DisposablePostgres":
        self.dir.mkdir(parents=True)
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres",
                          "-E", "UTF8", "--no-sync")
        self.start()
        return self

    def start(self) -> None:
        # fsync off: a throwaway cluster; restarts here are clean shutdowns, not power cuts.
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                          "-l", str(self.dir / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class DisposableRabbit:
    """A second RabbitMQ node (chaos@localhost) with its own port, data and logs."""

    def __init__(self, base: Path, port: int, dist_port: int, node: str) -> None:
        self.dir = base / "rabbitmq"
        self.node = node
        self.port = port
        self.dist_port = dist_port
        self.process: subprocess.Popen | None = None
        self.url = f"amqp://guest:guest@127.0.0.1:{port}//"

    def create(self) -> "DisposableRabbit":
        if self.ctl("status", check=False, timeout=30).returncode == 0:
            raise RuntimeError(f"a RabbitMQ node {self.node} is already running (a killed chaos run?); stop it "
                               f"with `rabbitmqctl -n {self.node} stop`")
        for sub in ("mnesia", "log"):
            (self.dir / sub).mkdir(parents=True)
        (self.dir / "enabled_plugins").write_text("[].\n")  # no management plugin: 15672 is taken
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\ndisk_free_limit.absolute = 50MB\n")
        for path in [self.dir, *self.dir.rglob("*")]:
            shutil.chown(path, "rabbitmq", "rabbitmq")
        self.start()
        return self

    def _env(self) -> dict:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/var/lib/rabbitmq",
            "RABBITMQ_NODENAME": self.node, "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"), "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_PID_FILE": str(self.dir / "pid"),
        }

    def start(self) -> None:
        log = open(self.dir / "server.out", "ab")
        self.process = subprocess.Popen(
            ["runuser", "-u", "rabbitmq", "--", "/usr/lib/rabbitmq/bin/rabbitmq-server"],
            env=self._env(), cwd="/var/lib/rabbitmq", stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 90
        while True:  # await_startup can exit before the node has registered: retry it
            if self.process.poll() is not None:
                raise RuntimeError(f"RabbitMQ node {self.node} exited at start; see {self.dir / 'log'}")
            if self.ctl("await_startup", check=False, timeout=30).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"RabbitMQ node {self.node} did not start")
            time.sleep(1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.ctl("stop", check=False, timeout=60)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def ctl(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return sh("rabbitmqctl", "-q", "-n", self.node, *args, check=check, timeout=timeout)

    def queue_counts(self) -> dict[str, tuple[int, int]]:
        """(ready, unacked) for each queue of the node, live from the broker."""
        return parse_queue_counts(self.ctl("list_queues", "name", "messages_ready", "messages_unacknowledged").stdout)


def parse_queue_counts(out: str) -> dict[str, tuple[int, int]]:
    """`rabbitmqctl list_queues name messages_ready messages_unacknowledged` as {name: (ready, unacked)}."""
    counts = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            counts[parts[0]] = (int(parts[1]), int(parts[2]))
    return counts


# --- the system under test ------------------------------------------------------------------------

class System:
    """gunicorn, the outbox relay, an extraction worker (prefork) and an analysis worker
    (threads), as in the Procfile, against the disposable PostgreSQL and RabbitMQ; with
    ``bulk_and_beat``, also the bulk-lane + maintenance worker and `flask beat`, as `make run`."""

    def __init__(self, env: dict, log_dir: Path, port: int, *, bulk_and_beat: bool = False) -> None:
        self.env = env
        self.log_dir = log_dir
        self.base_url = f"http://127.0.0.1:{port}"
        api_env = {**env, "LOG_LEVEL": "WARNING"}
        self.api = stack.ManagedProcess(
            "api", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "8",
                    "--graceful-timeout", "5", "--preload", "wsgi:app"],
            api_env, log_dir, ready_marker="Booting worker")
        self.relay = stack.relay(env, log_dir)
        self.extraction = stack.worker(env, log_dir, queues="applytrack.extraction", concurrency=2, name="chaos-extraction")
        self.analysis = stack.worker(env, log_dir, queues="applytrack.analysis", pool="threads", concurrency=8,
                                     name="chaos-analysis")
        self.extras: list[stack.ManagedProcess] = []
        if bulk_and_beat:
            self.extras = [
                stack.worker(env, log_dir, queues="applytrack.analysis_bulk,applytrack.maintenance", pool="threads", concurrency=4,
                             name="chaos-bulk", nice=10),
                stack.ManagedProcess("beat", [str(BIN / "flask"), "--app", "wsgi", "beat"], env, log_dir,
                                     ready_marker="scheduler lock"),
            ]

    @property
    def processes(self) -> list[stack.ManagedProcess]:
        return [self.api, self.relay, self.extraction, self.analysis, *self.extras]

    def start(self) -> None:
        for process in self.processes:
            process.start(timeout=60)
        self.wait_for_api()

    def ensure_running(self) -> None:
        for process in self.processes:
            if not process.alive:
                process.start(timeout=60)
        self.wait_for_api()

    def wait_for_api(self, timeout: float = 60) -> None:
        def up() -> bool:
            try:
                return requests.get(f"{self.base_url}/api/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        stack.wait_until(up, timeout=timeout, interval=0.2, what="the API")

    def stop(self) -> None:
        for process in reversed(self.processes):
            try:
                process.stop(timeout=20)
            except Exception as exc:  # keep stopping the others
                print(f"could not stop {process.name}: {exc}", file=sys.stderr)

    def successful_runs(self) -> collections.Counter:
        """How many times each job's work ran to success, from the workers' JSON logs."""
        runs: collections.Counter = collections.Counter()
        for worker in (self.extraction, self.analysis):
            if not worker.log_path.exists():
                continue
            for line in worker.log_path.read_text(errors="replace").splitlines():
                if '"outcome": "ok"' not in line:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("message", "").startswith("job finished") and record.get("job_id"):
                    runs[record["job_id"]] += 1
        return runs


def system_env(database_url: str, broker_url: str, llm_url: str, storage: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "BROKER_URL", "APP_ENV", "ANALYZER", "PROMETHEUS_MULTIPROC_DIR")
           and not k.startswith("LLM_")}
    env.update(
        APP_ENV="development", DATABASE_URL=database_url, BROKER_URL=broker_url,
        JWT_SECRET_KEY=secrets.token_urlsafe(48), JWT_ACCESS_TOKEN_MINUTES="240",
        STORAGE_DIR=str(storage), LOG_LEVEL="INFO",
        ANALYZER="llm", LLM_BASE_URL=llm_url, LLM_API_KEY="chaos-key", LLM_MODEL="fake-model", LLM_TIMEOUT="2",
        # One retry: the 30 % LLM fault then dead-letters about 9 % of its analyses (0.3²), so the
        # replay path runs every time; with the default 5 retries it would be 0.3⁶ ≈ 0.07 %.
        TASK_MAX_RETRIES="1", TASK_RETRY_BACKOFF="0.5", TASK_RETRY_BACKOFF_MAX="4", OUTBOX_POLL_SECONDS="0.5",
        # One client account sends everything: the per-user and login limits are tested elsewhere.
        USER_MAX_ANALYSIS_BACKLOG="100000", ANALYSIS_MAX_BACKLOG="100000",
        RATE_LIMIT_STORAGE_URL="memory://", LOGIN_RATE_LIMIT_PER_ADDRESS="100000 per minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT="100000 per minute", REGISTER_RATE_LIMIT_PER_ADDRESS="100000 per minute",
        ANALYSIS_RATE_LIMIT_PER_USER="100000 per minute", LLM_DAILY_BUDGET_USD="0",
        PASSWORD_HASH_TIME_COST="1", PASSWORD_HASH_MEMORY_KIB="1024",
    )
    return env


# --- load -------------------------------------------------------------------------------------------

@dataclass
class Answer:
    kind: str  # upload | analysis
    sent_at: float  # time.time()
    seconds: float
    status: int | None = None  # None: no HTTP answer
    error: str | None = None  # "hang" (client timeout) or "connection" (refused / reset)
    retry_after: str | None = None
    job_id: str | None = None


class Client:
    """A user of the API: uploads resumes and asks for analyses, as a web app would."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.headers: dict = {}
        self.resume_ids: list[str] = []
        self.listing_ids: list[str] = []
        self.files = [(name, (REALDATA / "resumes" / name).read_bytes()) for name in RESUMES]

    def setup(self) -> None:
        email, password = f"chaos-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(16)
        requests.post(f"{self.base_url}/api/auth/register", json={"email": email, "password": password},
                      timeout=CLIENT_TIMEOUT).raise_for_status()
        tokens = requests.post(f"{self.base_url}/api/auth/login", json={"email": email, "password": password},
                               timeout=CLIENT_TIMEOUT)
        tokens.raise_for_status()
        self.headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        for name in LISTINGS:
            description = (REALDATA / "jobs" / name).read_text()
            listing = requests.post(f"{self.base_url}/api/jobs", headers=self.headers, timeout=CLIENT_TIMEOUT,
                                    json={"company": "Chaos Inc", "title": name.rsplit(".", 1)[0],
                                          "description": description})
            listing.raise_for_status()
            self.listing_ids.append(listing.json()["id"])
        for name, data in self.files[:4]:
            resume = requests.post(f"{self.base_url}/api/resumes", headers=self.headers, timeout=CLIENT_TIMEOUT,
                                   files={"file": (name, data, "application/pdf")})
            resume.raise_for_status()
            self.resume_ids.append(resume.json()["id"])

        def extracted() -> bool:
            states = [requests.get(f"{self.base_url}/api/resumes/{rid}", headers=self.headers,
                                   timeout=CLIENT_TIMEOUT).json()["extraction_status"] for rid in self.resume_ids]
            if "failed" in states:
                raise RuntimeError(f"a warm-up resume failed to extract: {states}")
            return all(state == "succeeded" for state in states)

        stack.wait_until(extracted, timeout=120, interval=0.5, what="the warm-up resumes to be extracted")

    def send(self, number: int) -> Answer:
        kind = "upload" if number % 2 == 0 else "analysis"
        started, wall = time.monotonic(), time.time()
        answer = Answer(kind=kind, sent_at=wall, seconds=0.0)
        try:
            if kind == "upload":
                name, data = self.files[number // 2 % len(self.files)]
                response = requests.post(f"{self.base_url}/api/resumes", headers=self.headers, timeout=CLIENT_TIMEOUT,
                                         files={"file": (name, data, "application/pdf")})
                job_key = "extraction_job_id"
            else:
                resume_id = self.resume_ids[number // 2 % len(self.resume_ids)]
                listing_id = self.listing_ids[number // 2 // len(self.resume_ids) % len(self.listing_ids)]
                response = requests.post(f"{self.base_url}/api/resumes/{resume_id}/analyze", headers=self.headers,
                                         json={"job_id": listing_id, "force": True}, timeout=CLIENT_TIMEOUT)
                job_key = "background_job_id"
            answer.status = response.status_code
            answer.retry_after = response.headers.get("Retry-After")
            if response.status_code in (201, 202):
                answer.job_id = response.json()[job_key]
        except requests.Timeout:
            answer.error = "hang"
        except requests.ConnectionError:
            answer.error = "connection"
        answer.seconds = time.monotonic() - started
        return answer


def stream(client: Client, count: int, rate: float, answers: list[Answer], senders: int = 6) -> threading.Thread:
    """Send ``count`` requests at ``rate`` per second from ``senders`` threads; bounded in
    count and (by the client timeout) in time."""
    lock = threading.Lock()
    next_number = iter(range(count))
    started = time.monotonic()

    def sender() -> None:
        while True:
            with lock:
                number = next(next_number, None)
            if number is None:
                return
            delay = started + number / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            answer = client.send(number)
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    joiner = threading.Thread(target=lambda: [t.join() for t in threads], daemon=True)
    joiner.start()
    return joiner


# --- faults ----------------------------------------------------------------------------------------

class Fault(ABC):
    name = ""

    @abstractmethod
    def inject(self, ctx: "Chaos") -> None:
        """Break one thing."""

    @abstractmethod
    def undo(self, ctx: "Chaos") -> None:
        """Bring everything back; safe to call whatever state inject() left."""

    def duration(self, profile: Profile) -> float:
        return profile.outage


class RabbitRestart(Fault):
    name = "RabbitMQ restarted"

    def inject(self, ctx):
        ctx.rabbit.stop()

    def undo(self, ctx):
        if not ctx.rabbit.running:
            ctx.rabbit.start()


class PostgresRestart(Fault):
    name = "PostgreSQL restarted"

    def inject(self, ctx):
        ctx.postgres.stop()

    def undo(self, ctx):
        if not ctx.postgres.running:
            ctx.postgres.start()


class WorkersKilled(Fault):
    name = "workers SIGKILLed mid-task"

    def inject(self, ctx):
        def busy() -> bool:
            return ctx.count_jobs("running") > 0

        stack.wait_until(busy, timeout=20, interval=0.05, what="a job to be running")
        ctx.system.analysis.kill()  # main process and its threads: up to 8 LLM calls in flight
        ctx.system.extraction.kill()  # main process and its prefork children

    def undo(self, ctx):
        for worker in (ctx.system.analysis, ctx.system.extraction):
            if not worker.alive:
                worker.start(timeout=60)


class LLMErrors(Fault):
    name = "LLM 30 % errors and timeouts"

    def inject(self, ctx):
        ctx.llm.script.control({"error_rate": 0.3, "timeout_sleep": 3})

    def undo(self, ctx):
        ctx.llm.script.control({"error_rate": 0, "faults": []})

    def duration(self, profile):
        return profile.llm_fault


class APIKilled(Fault):
    name = "API killed and restarted"

    def inject(self, ctx):
        ctx.system.api.kill()

    def undo(self, ctx):
        if not ctx.system.api.alive:
            ctx.system.api.start(timeout=60)
        ctx.system.wait_for_api()

    def duration(self, profile):
        return min(profile.outage, 3)


FAULTS = [RabbitRestart(), PostgresRestart(), WorkersKilled(), LLMErrors(), APIKilled()]


# --- one phase: load, fault, drain, replay, verify -----------------------------------------------

@dataclass
class PhaseResult:
    fault: str
    sent: int = 0
    accepted: int = 0
    refused: int = 0  # 503/429 with Retry-After: a clear "not now"
    unclear: int = 0  # any other error status, or a 503 without Retry-After
    hangs: int = 0
    connection_errors: int = 0
    succeeded: int = 0
    failed: int = 0
    dead: int = 0
    replayed: int = 0
    lost: int = 0
    duplicated: int = 0
    orphan_messages: int = 0
    recovery_seconds: float = 0.0
    slowest_answer: float = 0.0
    statuses: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class Chaos:
    def __init__(self, profile: Profile, *, base: Path, pg_port: int, amqp_port: int, dist_port: int,
                 node: str, api_port: int, out=print) -> None:
        self.profile = profile
        self.base = base
        self.out = out
        self.postgres = DisposablePostgres(base, pg_port)
        self.rabbit = DisposableRabbit(base, amqp_port, dist_port, node)
        self.api_port = api_port
        self.llm: FakeLLM | None = None
        self.system: System | None = None
        self.client: Client | None = None
        self.engine = None

    # Direct reads of the outcome (what an operator would query), through a pool that
    # survives the PostgreSQL restart.
    def query(self, sql: str, **params) -> list:
        for attempt in range(30):
            try:
                with self.engine.connect() as connection:
                    return list(connection.execute(text(sql), params))
            except Exception:
                if attempt == 29:
                    raise
                time.sleep(1)

    def count_jobs(self, state: str) -> int:
        return self.query("SELECT count(*) FROM background_jobs WHERE state = :s", s=state)[0][0]

    def run(self) -> list[PhaseResult]:
        results: list[PhaseResult] = []
        with ExitStack() as cleanup:
            self.out(f"chaos: disposable PostgreSQL on {self.postgres.port}, RabbitMQ {self.rabbit.node} on {self.rabbit.port}")
            cleanup.callback(self.postgres.destroy)
            self.postgres.create()
            cleanup.callback(self.rabbit.destroy)
            self.rabbit.create()
            self.llm = FakeLLM(latency=0.1)
            # A worker SIGKILLed mid-call resets its connection: expected here, not worth a traceback.
            self.llm.server.handle_error = lambda *_args: None
            self.llm.start()
            cleanup.callback(self.llm.stop)
            storage = self.base / "storage"
            # Kept after the run (the last run's only), for reading what happened.
            log_dir = LOG_DIR
            shutil.rmtree(log_dir, ignore_errors=True)
            log_dir.mkdir(parents=True)
            env = system_env(self.postgres.url, self.rabbit.url, self.llm.base_url, storage)
            self.engine = create_engine(self.postgres.url, pool_pre_ping=True)
            cleanup.callback(self.engine.dispose)
            sh(str(BIN / "flask"), "--app", "wsgi", "create-db", cwd=ROOT, env=env)
            sh(str(BIN / "flask"), "--app", "wsgi", "db", "upgrade", cwd=ROOT, env=env)
            sh(str(BIN / "flask"), "--app", "wsgi", "queues", "declare", cwd=ROOT, env=env)
            self.system = System(env, log_dir, self.api_port)
            cleanup.callback(self.system.stop)
            self.system.start()
            self.client = Client(self.system.base_url)
            self.client.setup()
            self.out(f"chaos: system up (logs in {log_dir})")
            for fault in FAULTS:
                result = self.phase(fault)
                results.append(result)
                self.out(format_row(result))
                for problem in result.problems:
                    self.out(f"    PROBLEM: {problem}")
        return results

    def phase(self, fault: Fault) -> PhaseResult:
        profile = self.profile
        result = PhaseResult(fault.name)
        length = fault.duration(profile)
        count = max(profile.requests, int(profile.rate * (profile.fault_after + length + 5)))
        answers: list[Answer] = []
        phase_start = dt.datetime.now(dt.timezone.utc)
        load = stream(self.client, count, profile.rate, answers)
        fault_end = None
        try:
            time.sleep(profile.fault_after)
            fault.inject(self)
            time.sleep(length)
        finally:
            try:
                fault.undo(self)
            finally:
                fault_end = time.time()
                self.system.ensure_running()
        load.join(count / profile.rate + 60)
        self._classify(result, answers, fault)
        accepted = [a.job_id for a in answers if a.job_id]
        jobs = self._drain(result, phase_start)
        missing = set(accepted) - set(jobs)
        if missing:
            result.problems.append(f"{len(missing)} accepted request(s) have no job row")
        dead = [job_id for job_id, (state, _) in jobs.items() if state == "dead"]
        result.dead = len(dead)
        if dead:
            jobs.update(self._replay(result, dead, phase_start))
        self._verify(result, jobs, accepted, fault_end)
        return result

    def _classify(self, result: PhaseResult, answers: list[Answer], fault: Fault) -> None:
        result.sent = len(answers)
        result.statuses = dict(collections.Counter(str(a.status or a.error) for a in answers))
        result.slowest_answer = max((a.seconds for a in answers), default=0.0)
        for answer in answers:
            if answer.error == "hang":
                result.hangs += 1
            elif answer.error == "connection":
                result.connection_errors += 1
            elif answer.status in (201, 202):
                result.accepted += 1
            elif answer.status in (429, 503) and answer.retry_after:
                result.refused += 1
            else:
                result.unclear += 1
        if result.hangs:
            result.problems.append(f"{result.hangs} request(s) hung past the client timeout {CLIENT_TIMEOUT}")
        if result.unclear:
            result.problems.append(f"{result.unclear} unclear answer(s): {result.statuses}")
        if result.connection_errors and not isinstance(fault, APIKilled):
            result.problems.append(f"{result.connection_errors} connection error(s) while the API was up")

    def _jobs_since(self, since: dt.datetime) -> dict[str, tuple[str, dt.datetime | None]]:
        rows = self.query("SELECT id, state, finished_at FROM background_jobs WHERE created_at >= :since",
                          since=since)
        return {str(row[0]): (row[1], row[2]) for row in rows}

    def _drain(self, result: PhaseResult, since: dt.datetime) -> dict:
        """Wait until every job created in this phase (accepted or not) has finished."""
        deadline = time.monotonic() + self.profile.drain_timeout
        while True:
            jobs = self._jobs_since(since)
            if all(state in TERMINAL for state, _ in jobs.values()) or time.monotonic() > deadline:
                return jobs
            time.sleep(0.5)

    def _replay(self, result: PhaseResult, dead: list[str], since: dt.datetime) -> dict:
        """The operators' replay (`flask dlq replay`, scripts/replay_dlq.py), then wait again."""
        replay = sh(str(BIN / "flask"), "--app", "wsgi", "dlq", "replay", "--actor", "chaos",
                    cwd=ROOT, env={**self.system.env, "LOG_LEVEL": "WARNING"}, check=False, timeout=120)
        match = re.search(r"requeued=(\d+)", replay.stdout)
        result.replayed = int(match[1]) if match else 0
        if replay.returncode != 0 or result.replayed != len(dead):
            result.problems.append(f"replay requeued {result.replayed} of {len(dead)} dead job(s): "
                                   f"{replay.stdout[-500:]} {replay.stderr[-500:]}")
        return self._drain(result, since)

    def _verify(self, result: PhaseResult, jobs: dict, accepted: list[str], fault_end: float) -> None:
        accepted_set = set(accepted)
        states = collections.Counter(state for job_id, (state, _) in jobs.items() if job_id in accepted_set)
        result.succeeded = states["succeeded"]
        result.failed = states["failed"]
        result.lost = len(accepted_set) - result.succeeded - result.failed - states["dead"]
        unfinished_other = [j for j, (s, _) in jobs.items() if j not in accepted_set and s not in ("succeeded", "failed")]
        if result.lost:
            result.problems.append(f"{result.lost} accepted request(s) not finished: {dict(states)}")
        if states["dead"]:
            result.problems.append(f"{states['dead']} job(s) still dead after the replay")
        if result.failed:
            result.problems.append(f"{result.failed} job(s) failed permanently (these inputs never should)")
        if unfinished_other:
            result.problems.append(f"{len(unfinished_other)} job(s) of requests without a 2xx answer not finished")
        runs = self.system.successful_runs()
        twice = [job_id for job_id in jobs if runs[job_id] > 1]
        result.duplicated = len(twice)
        if twice:
            result.problems.append(f"{len(twice)} job(s) ran to success more than once, e.g. {twice[:3]}")
        doubles = self.query("SELECT count(*) FROM (SELECT job_id FROM analyses GROUP BY job_id HAVING count(*) > 1) d")
        if doubles[0][0]:
            result.duplicated += doubles[0][0]
            result.problems.append(f"{doubles[0][0]} job(s) have more than one analysis row")
        # Recovery: from the fault's end until everything accepted before it had finished.
        result.recovery_seconds = max(0.0, self._backlog_finished(jobs, fault_end) - fault_end)
        result.orphan_messages = self._orphans()
        if result.orphan_messages:
            result.problems.append(f"{result.orphan_messages} message(s) left in queues: {self.rabbit.queue_counts()}")

    def _backlog_finished(self, jobs: dict, fault_end: float) -> float:
        """When the last job created before the fault's end first finished (dead counts: it is
        out of the system's hands until an operator replays it)."""
        rows = self.query(
            "SELECT max(coalesce(f.first_end, j.finished_at)) FROM background_jobs j "
            "LEFT JOIN LATERAL (SELECT min(failed_at) AS first_end FROM job_failures WHERE job_id = j.id "
            "  AND transient = false) f ON true "
            "WHERE j.id = ANY(CAST(:ids AS uuid[])) AND j.created_at <= to_timestamp(:end)",
            ids=list(jobs), end=fault_end)
        moment = rows[0][0]
        return moment.timestamp() if moment else fault_end

    def _orphans(self, timeout: float = 30) -> int:
        """Messages left once every job is finished: ready or unacked, in any queue (a
        redelivered duplicate is consumed and dropped within seconds; give it that)."""
        deadline = time.monotonic() + timeout
        while True:
            counts = self.rabbit.queue_counts()
            left = sum(ready + unacked for name, (ready, unacked) in counts.items() if name in QUEUES)
            if left == 0 or time.monotonic() > deadline:
                return left
            time.sleep(1)


# --- report ------------------------------------------------------------------------------------------

HEADER = ("| fault | requests sent | accepted (201/202) | refused 503/429 + Retry-After | hangs / unclear | "
          "slowest answer | succeeded | dead | replayed | lost | duplicated | orphan messages | recovery time |")


def format_row(r: PhaseResult) -> str:
    refused = f"{r.refused}" + (f" (+{r.connection_errors} conn. refused)" if r.connection_errors else "")
    return (f"| {r.fault} | {r.sent} | {r.accepted} | {refused} | {r.hangs} / {r.unclear} | "
            f"{r.slowest_answer:.1f} s | {r.succeeded} | "
            f"{r.dead} | {r.replayed} | {r.lost} | {r.duplicated} | {r.orphan_messages} | "
            f"{r.recovery_seconds:.1f} s |")


def table(results: list[PhaseResult]) -> str:
    separator = "|" + "|".join(" --- " for _ in range(HEADER.count("|") - 1)) + "|"
    return "\n".join([HEADER, separator, *(format_row(r) for r in results)])


def write_reliability(results: list[PhaseResult], profile_name: str, command: str, seconds: float) -> None:
    start, end = "<!-- chaos:table -->", "<!-- /chaos:table -->"
    body = (f"{start}\nMeasured {dt.date.today():%Y-%m-%d} with `{command}` (profile `{profile_name}`, "
            f"{seconds / 60:.1f} min):\n\n{table(results)}\n{end}")
    write_reliability_section(start, end, body)


def write_reliability_section(start: str, end: str, body: str) -> None:
    """Put ``body`` (which begins with ``start`` and ends with ``end``) in place of RELIABILITY.md's
    section between those markers, or append it when there is none yet."""
    content = RELIABILITY_MD.read_text() if RELIABILITY_MD.exists() else "# Reliability\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    content = pattern.sub(lambda _m: body, content) if pattern.search(content) else content.rstrip() + "\n\n" + body + "\n"
    RELIABILITY_MD.write_text(content)


def run(profile_name: str = "full", *, pg_port: int = 5440, amqp_port: int = 5680, dist_port: int = 25680,
        node: str = "chaos@localhost", api_port: int = 5065, out=print) -> list[PhaseResult]:
    if os.geteuid() != 0:
        raise RuntimeError("the chaos suite starts PostgreSQL and RabbitMQ as their own users: run it as root")
    base = Path(tempfile.mkdtemp(prefix="applytrack-chaos-"))
    base.chmod(0o755)  # the postgres and rabbitmq users reach their directories inside
    try:
        chaos = Chaos(PROFILES[profile_name], base=base, pg_port=pg_port, amqp_port=amqp_port,
                      dist_port=dist_port, node=node, api_port=api_port, out=out)
        return chaos.run()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--pg-port", type=int, default=5440)
    parser.add_argument("--amqp-port", type=int, default=5680)
    parser.add_argument("--dist-port", type=int, default=25680)
    parser.add_argument("--node", default="chaos@localhost", help="name of the disposable RabbitMQ node")
    parser.add_argument("--api-port", type=int, default=5065)
    parser.add_argument("--no-write", action="store_true", help="do not rewrite RELIABILITY.md's table")
    args = parser.parse_args()
    started = time.monotonic()
    results = run(args.profile, pg_port=args.pg_port, amqp_port=args.amqp_port, dist_port=args.dist_port,
                  node=args.node, api_port=args.api_port, out=lambda line: print(line, flush=True))
    print()
    print(table(results))
    if not args.no_write:
        write_reliability(results, args.profile, "make chaos" if args.profile == "full" else
                          f"python -m bench.chaos --profile {args.profile}", time.monotonic() - started)
    failing = [r for r in results if not r.ok]
    for r in failing:
        print(f"FAILED {r.fault}: " + "; ".join(r.problems))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
