"""Bring the system up for a benchmark, like `make run` but on its own database and vhost:
gunicorn, the outbox relay and workers as separate processes; and write results."""
from __future__ import annotations

import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from services.database_admin import ensure_database
from tests.support import stack

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
BENCH_VHOST = "applytrack_bench"
BENCH_DB = "postgresql+psycopg2://postgres@127.0.0.1:5432/applytrack_bench"
REALDATA = ROOT.parent / "shared" / "realdata"


def bench_env(**overrides: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL", "APP_ENV")}
    env.update(
        APP_ENV="development",
        DATABASE_URL=BENCH_DB,
        BROKER_URL=f"amqp://guest:guest@127.0.0.1:5672/{BENCH_VHOST}",
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        STORAGE_DIR=tempfile.mkdtemp(prefix="applytrack-bench-storage-"),
        LOG_LEVEL="WARNING",
        # A benchmark queues its whole burst at once, as one user, on purpose: back-pressure, the
        # per-user limits and the daily LLM budget would measure themselves (they stay on the
        # request path: the rate limit still costs its Redis round trip per request).
        USER_MAX_ANALYSIS_BACKLOG="1000000000",
        ANALYSIS_MAX_BACKLOG="1000000000",
        ANALYSIS_RATE_LIMIT_PER_USER="1000000 per second",
        LLM_DAILY_BUDGET_USD="0",
        REGISTER_RATE_LIMIT_PER_ADDRESS="1000000 per minute",
        LOGIN_RATE_LIMIT_PER_ADDRESS="1000000 per minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT="1000000 per minute",
    )
    env.update(overrides)
    return env


class System:
    """The processes of one benchmark run and an authenticated HTTP session against the API."""

    def __init__(self, env: dict, log_dir: Path, port: int = 5055, *, gunicorn_workers: int = 2,
                 gunicorn_threads: int = 8) -> None:
        self.env = env
        self.base_url = f"http://127.0.0.1:{port}"
        bin_dir = Path(sys.executable).parent
        self.api = stack.ManagedProcess(
            "api",
            [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(gunicorn_workers),
             "--threads", str(gunicorn_threads), "--log-level", "info", "wsgi:app"],
            env, log_dir, ready_marker="Booting worker",
        )
        self.relay = stack.relay(env, log_dir)
        self.workers: list[stack.ManagedProcess] = []
        self.log_dir = log_dir
        self.http = requests.Session()

    def add_worker(self, **kwargs) -> stack.ManagedProcess:
        worker = stack.worker(self.env, self.log_dir, **kwargs)
        self.workers.append(worker)
        return worker

    def start(self) -> "System":
        self.api.start()
        self.relay.start()
        for worker in self.workers:
            worker.start()
        stack.wait_until(self._api_up, timeout=30, what="the API")
        return self

    def _api_up(self) -> bool:
        try:
            return self.http.get(f"{self.base_url}/api/statuses", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def login(self) -> None:
        email, password = f"bench-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(16)
        self.http.post(f"{self.base_url}/api/auth/register", json={"email": email, "password": password}).raise_for_status()
        tokens = self.http.post(f"{self.base_url}/api/auth/login", json={"email": email, "password": password})
        tokens.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {tokens.json()['access_token']}"

    def stop(self) -> None:
        for process in [*self.workers, self.relay, self.api]:
            process.stop()


@contextmanager
def running_system(env: dict, *, workers: list[dict], **system_options):
    ensure_database(env["DATABASE_URL"])
    subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    stack.reset_vhost(BENCH_VHOST)
    log_dir = Path(tempfile.mkdtemp(prefix="applytrack-bench-logs-"))
    system = System(env, log_dir, **system_options)
    for worker in workers:
        system.add_worker(**worker)
    try:
        system.start()
        system.login()
        yield system
    finally:
        system.stop()


def pipeline_rate(kind: str, since) -> float:
    """Jobs of ``kind`` created after ``since`` per second, from the first one's publish to the
    last one's finish (the database's clock): the relay, broker and workers at work, without
    the seconds a benchmark spends starting a held relay process."""
    from sqlalchemy import create_engine, text

    engine = create_engine(BENCH_DB)
    try:
        with engine.connect() as connection:
            count, first, last = connection.execute(text(
                "SELECT count(*), min(published_at), max(finished_at) FROM background_jobs "
                "WHERE kind = :kind AND created_at >= :since AND state = 'succeeded'"),
                {"kind": kind, "since": since}).one()
    finally:
        engine.dispose()
    return count / (last - first).total_seconds()


def database_now():
    from sqlalchemy import create_engine, text

    engine = create_engine(BENCH_DB)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT now()")).scalar_one()
    finally:
        engine.dispose()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """min / median / max of a figure over the runs."""
    return " / ".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def machine_description() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    import celery
    import kombu
    import pdfplumber

    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"Celery {celery.__version__}, kombu {kombu.__version__}, pdfplumber {pdfplumber.__version__}")


def write_section(name: str, body: str) -> None:
    """Replace (or add) the section between this benchmark's markers in BENCHMARKS.md."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_MD.write_text(text)


def now() -> float:
    return time.perf_counter()


PROCESS_GROUPS = {"postgres": "PostgreSQL", "beam.smp": "RabbitMQ", "gunicorn": "API (gunicorn)", "wrk": "wrk",
                  "redis-server": "Redis", "flask": "relay", "celery": "workers"}


def cpu_seconds_by_group() -> dict:
    """CPU seconds used so far by every process on the machine (from /proc), with its kind, and
    the machine's busy, idle and I/O-wait seconds (all cores): sample before and after a load,
    and give both to cpu_delta."""
    ticks = os.sysconf("SC_CLK_TCK")
    processes: dict[int, tuple[str, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # the process ended while we looked
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        program = Path(cmdline[1].decode(errors="replace")).name if name.startswith("python") and len(cmdline) > 1 else name
        group = PROCESS_GROUPS.get(program) or PROCESS_GROUPS.get(name, "other")
        processes[int(stat.parent.name)] = (group, (int(fields[11]) + int(fields[12])) / ticks)
    cpu = Path("/proc/stat").read_text().split("\n")[0].split()[1:]
    idle, iowait = int(cpu[3]) / ticks, int(cpu[4]) / ticks
    machine = {"idle": idle, "iowait": iowait, "machine busy": sum(int(x) for x in cpu[:8]) / ticks - idle - iowait}
    return {"processes": processes, "machine": machine}


def cpu_delta(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds by kind of process between two samples. A process that ended in between
    (wrk itself, a PostgreSQL backend) is missing from the groups but not from "machine busy"."""
    totals: dict[str, float] = {}
    for pid, (group, seconds) in after["processes"].items():
        earlier = before["processes"].get(pid)
        totals[group] = totals.get(group, 0.0) + seconds - (earlier[1] if earlier and earlier[0] == group else 0.0)
    for key, seconds in after["machine"].items():
        totals[key] = seconds - before["machine"][key]
    return totals
