"""The real moving parts for queue tests: Celery workers and the outbox relay as separate OS
processes, RabbitMQ in its own virtual host, and ways to stop and restart them safely."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
MANAGEMENT_API = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://127.0.0.1:15672/api")
MANAGEMENT_AUTH = ("guest", "guest")
# A run of its own can use another vhost (and TEST_DATABASE_URL another database).
TEST_VHOST = os.environ.get("TEST_RABBITMQ_VHOST", "applytrack_test")


def wait_until(predicate: Callable[[], object], *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class ManagedProcess:
    """A child process in its own process group, logging to a file, that can be killed whole."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path, ready_marker: str) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.ready_marker = ready_marker
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 40) -> "ManagedProcess":
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        wait_until(lambda: self._seen_since(offset) or self._died(), timeout=timeout, what=f"{self.name} to start")
        if self._died():
            raise AssertionError(f"{self.name} exited at start:\n{self.tail()}")
        return self

    def _seen_since(self, offset: int) -> bool:
        with open(self.log_path, "rb") as handle:
            handle.seek(offset)
            return self.ready_marker.encode() in handle.read()

    def _died(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        if not self.alive:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, no acks, like a host losing power."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def worker(env: dict, log_dir: Path, *, queues: str = "applytrack.extraction", concurrency: int = 2, name: str | None = None,
           pool: str = "prefork", nice: int = 0) -> ManagedProcess:
    node = name or f"{queues.replace(',', '-')}-{uuid.uuid4().hex[:6]}"
    argv = [str(VENV_BIN / "celery"), "-A", "tasks.worker", "worker", "-Q", queues, "-c", str(concurrency),
            "-P", pool, "-n", f"{node}@%h", "-l", "info", "--without-mingle"]
    if nice:  # a low-priority lane also yields the CPU to interactive work
        argv = ["nice", "-n", str(nice), *argv]
    return ManagedProcess(node, argv, env, log_dir, ready_marker=f"{node}@")  # "<node>@host ready."


def relay(env: dict, log_dir: Path) -> ManagedProcess:
    argv = [str(VENV_BIN / "flask"), "--app", "wsgi", "outbox-relay"]
    return ManagedProcess("relay", argv, env, log_dir, ready_marker="outbox relay running")


# --- RabbitMQ ---------------------------------------------------------------------------------

def management(method: str, path: str, **kwargs) -> requests.Response:
    response = requests.request(method, f"{MANAGEMENT_API}{path}", auth=MANAGEMENT_AUTH, timeout=10, **kwargs)
    response.raise_for_status()
    return response


def reset_vhost(vhost: str = TEST_VHOST) -> str:
    """A clean virtual host for the test run: no queues or messages from earlier runs, and no
    consumer from a developer's `make run` on the default vhost."""
    requests.delete(f"{MANAGEMENT_API}/vhosts/{vhost}", auth=MANAGEMENT_AUTH, timeout=10)
    management("PUT", f"/vhosts/{vhost}")
    management("PUT", f"/permissions/{vhost}/guest", json={"configure": ".*", "write": ".*", "read": ".*"})
    return f"amqp://guest:guest@127.0.0.1:5672/{vhost}"


@contextmanager
def celery_on_fresh_vhost(vhost: str, name: str):
    """A Celery app with the app's settings on an empty virtual host, deleted afterwards."""
    from celery import Celery

    celery = Celery(name)
    celery.config_from_object("celeryconfig")
    celery.conf.broker_url = reset_vhost(vhost)
    try:
        yield celery
    finally:
        requests.delete(f"{MANAGEMENT_API}/vhosts/{vhost}", auth=MANAGEMENT_AUTH, timeout=10)


def queue_depth(queue: str, vhost: str = TEST_VHOST) -> int:
    """Messages in ``queue`` (ready + unacked), live from the broker (the management API's
    figures lag by its statistics interval)."""
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages"],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == queue:
            return int(parts[1])
    raise AssertionError(f"queue {queue!r} does not exist in vhost {vhost!r}")


def wait_for_empty(queue: str, vhost: str = TEST_VHOST, timeout: float = 10) -> None:
    """Until ``queue`` holds no message: a quorum queue's count catches up with the last ack a
    moment after the worker's commit (its figures come from the Raft log's applied state)."""
    wait_until(lambda: queue_depth(queue, vhost) == 0, timeout=timeout, interval=0.2, what=f"{queue} to be empty")


def peek_messages(queue: str, count: int = 100, vhost: str = TEST_VHOST) -> list[dict]:
    """Read messages without consuming them (requeued at once)."""
    body = {"count": count, "ackmode": "reject_requeue_true", "encoding": "auto", "truncate": 50000}
    return management("POST", f"/queues/{vhost}/{queue}/get", data=json.dumps(body)).json()


def rabbitmq_stop_app() -> None:
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True, timeout=60)


def rabbitmq_start_app() -> None:
    subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True, timeout=120)
    subprocess.run(["rabbitmqctl", "-q", "await_startup"], check=True, capture_output=True, timeout=120)
