"""Where a workload runs: the whole system as `make run` serves it (bench.chaos.System with the
bulk worker and beat), on PostgreSQL and RabbitMQ that are either the shared ones (a database and
a virtual host of its own, cheap enough for `make test`) or disposable ones that faults may
restart (bench.chaos's DisposablePostgres and DisposableRabbit, for `make chaos`).

Each seed gets a fresh database and virtual host, so every history is judged on its own."""
from __future__ import annotations

import random
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

import celeryconfig
from bench import chaos
from bench.workload.history import History
from models.background_job import TERMINAL_STATES

SHARED_POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
# The work queues (celeryconfig.task_queues) and the one no worker consumes.
WORK_QUEUES = tuple(queue.name for queue in celeryconfig.task_queues)
DEAD_LETTER_QUEUE = celeryconfig.DEAD_LETTER_QUEUE.name
NO_LLM = "http://127.0.0.1:9/v1"  # the discard port: the local analyzer never calls it


class Backend(ABC):
    """A PostgreSQL server and a RabbitMQ node to create a database and a virtual host on."""

    vhost: str
    database: str
    amqp_port: int

    @property
    @abstractmethod
    def server_url(self) -> str:
        """The PostgreSQL server, connected to its maintenance database."""

    @abstractmethod
    def rabbitmqctl(self, *args: str, check: bool = True) -> str:
        """stdout of rabbitmqctl against this node."""

    @property
    def database_url(self) -> str:
        return make_url(self.server_url).set(database=self.database).render_as_string(hide_password=False)

    @property
    def broker_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/{self.vhost}"

    def reset(self) -> None:
        """An empty database and virtual host for the next seed (the system is stopped)."""
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        finally:
            engine.dispose()
        self.rabbitmqctl("delete_vhost", self.vhost, check=False)
        self.rabbitmqctl("add_vhost", self.vhost)
        self.rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")

    def drop_vhost(self) -> None:
        self.rabbitmqctl("delete_vhost", self.vhost, check=False)

    def queue_counts(self) -> dict[str, tuple[int, int]]:
        """(ready, unacked) of each queue in the virtual host, live from the broker."""
        return chaos.parse_queue_counts(self.rabbitmqctl(
            "list_queues", "-p", self.vhost, "name", "messages_ready", "messages_unacknowledged"))

    def work_in_queues(self) -> int:
        counts = self.queue_counts()
        return sum(sum(counts.get(name, (0, 0))) for name in WORK_QUEUES)


class SharedBackend(Backend):
    """The shared PostgreSQL (5432) and RabbitMQ (5672): a database and a vhost of its own only."""

    amqp_port = 5672

    def __init__(self, database: str, vhost: str) -> None:
        self.database = database
        self.vhost = vhost

    @property
    def server_url(self) -> str:
        return SHARED_POSTGRES

    def rabbitmqctl(self, *args: str, check: bool = True) -> str:
        return chaos.sh("rabbitmqctl", "-q", *args, check=check, timeout=60).stdout


class DisposableBackend(Backend):
    """A PostgreSQL cluster and a RabbitMQ node of its own, which faults may restart."""

    def __init__(self, base: Path, *, pg_port: int, amqp_port: int, dist_port: int, node: str) -> None:
        self.postgres = chaos.DisposablePostgres(base, pg_port)
        self.rabbit = chaos.DisposableRabbit(base, amqp_port, dist_port, node)
        self.amqp_port = amqp_port
        self.database = "applytrack_workload"
        self.vhost = "workload"

    def create(self) -> None:
        self.postgres.create()
        self.rabbit.create()

    def destroy(self) -> None:
        try:
            self.rabbit.destroy()
        finally:
            self.postgres.destroy()

    @property
    def server_url(self) -> str:
        return make_url(self.postgres.url).set(database="postgres").render_as_string(hide_password=False)

    def rabbitmqctl(self, *args: str, check: bool = True) -> str:
        return self.rabbit.ctl(*args, check=check).stdout


class FaultContext:
    """What bench.chaos's faults act on (they were written for its Chaos class): the disposable
    PostgreSQL and RabbitMQ, the system's processes, the test LLM, and a count of running jobs."""

    def __init__(self, backend: DisposableBackend, system: chaos.System, engine: Engine, llm) -> None:
        self.postgres = backend.postgres
        self.rabbit = backend.rabbit
        self.system = system
        self.engine = engine
        self.llm = llm

    def count_jobs(self, state: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM background_jobs WHERE state = :s"),
                                      {"s": state}).scalar_one()


def inject_faults(context: FaultContext, faults: list[chaos.Fault], rng: random.Random, history: History,
                  deadline: float, log=print) -> threading.Thread:
    """A thread that, until ``deadline`` (time.monotonic()), waits a few seconds, breaks one
    thing chosen by ``rng`` for a few seconds, and brings everything back."""

    def run() -> None:
        while time.monotonic() + 10 < deadline:
            time.sleep(rng.uniform(2, 6))
            fault = rng.choice(faults)
            outage = rng.uniform(2, 6)
            window = history.fault_started(fault.name, time.time())
            log(f"workload: fault {fault.name} for {outage:.1f} s")
            try:
                fault.inject(context)
                time.sleep(outage)
            except Exception as exc:  # e.g. no job was running to kill mid-task: carry on
                log(f"workload: fault {fault.name} not injected: {exc}")
            finally:
                try:
                    fault.undo(context)
                finally:
                    context.system.ensure_running()
                    window.ended = time.time()

    thread = threading.Thread(target=run, daemon=True, name="faults")
    thread.start()
    return thread


def unfinished_jobs(engine: Engine, *, maintenance: bool = True) -> dict[str, int]:
    """How many jobs are in each unfinished state (without maintenance runs if not ``maintenance``)."""
    kinds = "" if maintenance else " AND kind <> 'maintenance'"
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT state, count(*) FROM background_jobs WHERE state <> ALL(:terminal)"
                                       f"{kinds} GROUP BY state"), {"terminal": list(TERMINAL_STATES)})
        return dict(rows.all())


def drain(engine: Engine, backend: Backend, *, timeout: float, settle: float = 10.0) -> bool:
    """Wait until every job is finished and the work queues are empty; True if they are.

    Gives up early when the only users' jobs left are ``waiting`` and have not changed for
    ``settle`` seconds (beat's runs come and go meanwhile): nothing is going to wake them."""
    deadline = time.monotonic() + timeout
    last, unchanged_since = None, time.monotonic()
    while True:
        try:
            if not unfinished_jobs(engine) and backend.work_in_queues() == 0:
                return True
            users_work = unfinished_jobs(engine, maintenance=False)
        except Exception:  # a restarted dependency coming back: ask again
            users_work = None
        if users_work != last:
            last, unchanged_since = users_work, time.monotonic()
        stuck_waiting = users_work is not None and set(users_work) == {"waiting"}
        if (stuck_waiting and time.monotonic() - unchanged_since > settle) or time.monotonic() > deadline:
            return False
        time.sleep(0.5)
