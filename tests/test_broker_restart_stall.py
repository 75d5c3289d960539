"""A threads-pool worker keeps consuming after RabbitMQ restarts under it (issue 14).

The stall this guards against: with tasks running at the disconnect, Celery lowers the prefetch
on reconnect and restores it from each ack's callback, which on ``-P threads`` ran on a pool
thread and sent ``basic.qos`` on the connection the event loop was reading. py-amqp is not
thread-safe: the loop wedged, no heartbeats went out, acks were lost, and the worker consumed
nothing until the broker dropped it for missed heartbeats (tasks/consumer.py has the fix).

The scene: a real analysis worker (``-P threads -c 16``) on a RabbitMQ node of the test's own,
all 16 threads busy inside an LLM call (the test LLM holds its answers until the
test releases them), the node restarted, the answers released once the worker has reconnected, then more
work published. Every job must succeed, each run to success once and paid for once, with
nothing left in any queue, within a few seconds of the broker being back: well before the
heartbeat timeout (``broker_heartbeat`` 10 s; the broker drops a silent connection after two
missed beats) could have unwedged a stalled worker.

The prefetch reduction that led to the stall is Celery's for classic queues only: on quorum
queues (per-consumer QoS) it skips it, and all 16 redelivered messages come back at once. The
test checks the same outcome either way; with quorum queues it also catches a redelivered
message re-running a job whose first attempt is still in flight on another thread.

Isolation: its own RabbitMQ node (``stall-test@localhost``, ports 5693/25693, a temporary data
directory) and its own database on the shared PostgreSQL, dropped at the end; the shared
RabbitMQ on 5672 is never touched.
"""
from __future__ import annotations

import collections
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

import celeryconfig
from bench.chaos import DisposableRabbit, system_env
from services.database_admin import ensure_database
from tests.support import stack
from tests.support.scenes import Scene, drop_database, held_llm

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("rabbitmq-server"),
    reason="needs root and rabbitmq-server to start a disposable RabbitMQ node",
)

NODE = "stall-test@localhost"
AMQP_PORT = 5693  # 5680-5682 belong to the chaos suites
DIST_PORT = 25693
DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/applytrack_broker_stall_test"
BUSY = 16  # the worker's threads, each inside an LLM call when the broker goes
AFTER = 8  # analyses asked for once the broker is back
# From the broker being back to every job done and every queue empty. A wedged worker stays
# wedged until the broker drops it for missed heartbeats, 20 s or more after the restart.
RESUMED_WITHIN = 10.0
# The worker's log is kept after the run (the last run's only), for reading what happened.
LOG_DIR = Path(__file__).resolve().parents[1] / "var" / "broker-stall-logs"


def successful_runs(worker: stack.ManagedProcess) -> collections.Counter:
    """How many times each job's work ran to success, from the worker's JSON log."""
    runs: collections.Counter = collections.Counter()
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if '"outcome": "ok"' in line:
            record = json.loads(line)
            if record.get("message", "").startswith("job finished"):
                runs[record["job_id"]] += 1
    return runs


def log_count(worker: stack.ManagedProcess, marker: str) -> int:
    return worker.log_path.read_text(errors="replace").count(marker)


def test_threads_worker_resumes_at_once_after_a_broker_restart_with_every_thread_busy():
    base = Path(tempfile.mkdtemp(prefix="applytrack-stall-"))
    base.chmod(0o755)  # the rabbitmq user reaches its directory inside
    rabbit = DisposableRabbit(base, AMQP_PORT, DIST_PORT, NODE)
    llm = held_llm()
    worker = scene = None
    try:
        drop_database(DATABASE_URL)  # what a killed earlier run may have left
        ensure_database(DATABASE_URL)
        rabbit.create()
        llm.start()
        env = {**system_env(DATABASE_URL, rabbit.url, llm.base_url, base / "storage"),
               "LLM_TIMEOUT": "120", "LLM_MAX_CONCURRENCY": str(BUSY), "LOG_LEVEL": "INFO"}
        scene = Scene(env, rabbit)
        scene.migrate()
        headers, resume_id, listing_id = scene.user_with_resume_and_listing()
        shutil.rmtree(LOG_DIR, ignore_errors=True)
        LOG_DIR.mkdir(parents=True)
        worker = stack.worker(env, LOG_DIR, queues=celeryconfig.task_routes["analysis.*"]["queue"], pool="threads",
                              concurrency=BUSY, name="stall-analysis").start(timeout=60)

        busy = scene.ask_for_analyses(BUSY, headers, resume_id, listing_id)
        # Every thread busy inside an LLM call (an analysis holds no database connection during
        # the call, so the engine's pool of 5 + 10 does not cap them at 15).
        stack.wait_until(lambda: llm.script.requests == BUSY and log_count(worker, "] received") == BUSY,
                         timeout=30, what=f"{BUSY} tasks received, {BUSY} LLM calls in flight")

        connected = log_count(worker, "Connected to amqp")
        rabbit.stop()
        rabbit.start()
        back = time.monotonic()
        stack.wait_until(lambda: log_count(worker, "Connected to amqp") > connected, timeout=RESUMED_WITHIN,
                         interval=0.1, what="the worker to reconnect")
        time.sleep(1)  # the reconnected consumer receives redeliveries while every thread is still busy
        llm.script.release.set()
        after = scene.ask_for_analyses(AFTER, headers, resume_id, listing_id)
        every = busy + after

        def all_done() -> bool:
            jobs = scene.jobs(every)
            return all(state == "succeeded" for state, _ in jobs.values()) and scene.messages_left() == 0

        try:
            stack.wait_until(all_done, timeout=RESUMED_WITHIN, interval=0.2,
                             what="every job done and every queue empty after the restart")
        except AssertionError:
            states = collections.Counter(state for state, _ in scene.jobs(every).values())
            raise AssertionError(f"not resumed {RESUMED_WITHIN} s after the broker was back: jobs {dict(states)}, "
                                 f"queues {rabbit.queue_counts()}\n{worker.tail(30)}") from None
        resumed = time.monotonic() - back
        print(f"\nbroker back -> every job done and queues empty: {resumed:.1f} s")

        # Exactly once in effect: one stored result each, no job's work run to success twice
        # (a redelivered message of a finished job is dropped by its claim), one LLM call each.
        assert scene.analyses_with_results(every) == len(every)
        runs = successful_runs(worker)
        assert [runs[job_id] for job_id in every] == [1] * len(every), runs
        assert llm.script.requests == len(every), "an LLM call was paid twice"
        assert scene.messages_left() == 0
    finally:
        llm.script.release.set()
        try:
            if worker is not None:
                worker.stop(timeout=20)
            llm.stop()
            if scene is not None:
                scene.close()
        finally:
            try:
                rabbit.destroy()
            finally:
                drop_database(DATABASE_URL)
                shutil.rmtree(base, ignore_errors=True)
