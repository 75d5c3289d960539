"""An analysis worker's threads all work (issue 18), on a real worker: with no
``LLM_MAX_CONCURRENCY`` set, every pool thread can be inside an LLM call at once. The former
default of 8 calls per process left half of the Procfile's ``-c 16`` threads waiting for a slot,
each holding a claimed job and its unacked message.

Isolation: its own database on the shared PostgreSQL and its own vhost on the shared RabbitMQ,
both removed at the end.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import requests

import celeryconfig
from bench.chaos import system_env
from services.database_admin import ensure_database
from tests.support import stack
from tests.support.scenes import Scene, drop_database, held_llm

DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/applytrack_throughput_test"
VHOST = "applytrack_throughput_test"
QUEUE = celeryconfig.task_routes["analysis.*"]["queue"]


class Setting:
    """A database, a vhost and a held test LLM of the test's own, and what it started."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.base = Path(tempfile.mkdtemp(prefix="applytrack-throughput-"))
        self.llm = held_llm()
        self.workers: list[stack.ManagedProcess] = []
        self.scene: Scene | None = None

    def __enter__(self) -> "Setting":
        drop_database(DATABASE_URL)  # what a killed earlier run may have left
        ensure_database(DATABASE_URL)
        broker_url = stack.reset_vhost(VHOST)
        self.llm.start()
        # No LLM_MAX_CONCURRENCY: system_env drops the LLM_* of the environment it runs in.
        self.env = {**system_env(DATABASE_URL, broker_url, self.llm.base_url, self.base / "storage"),
                    "LLM_TIMEOUT": "120"}
        self.scene = Scene(self.env)
        self.scene.migrate()
        self.headers, self.resume_id, self.listing_id = self.scene.user_with_resume_and_listing()
        return self

    def worker(self, name: str, concurrency: int) -> stack.ManagedProcess:
        worker = stack.worker(self.env, self.tmp_path, queues=QUEUE, pool="threads", concurrency=concurrency,
                              name=name)
        self.workers.append(worker)
        return worker.start(timeout=60)

    def ask(self, count: int) -> list[str]:
        return self.scene.ask_for_analyses(count, self.headers, self.resume_id, self.listing_id)

    def wait_until_all_succeeded(self, job_ids: list[str]) -> dict[str, tuple[str, int]]:
        stack.wait_until(lambda: all(state == "succeeded" for state, _ in self.scene.jobs(job_ids).values()),
                         timeout=60, what="every job to succeed")
        return self.scene.jobs(job_ids)

    def __exit__(self, *_exc) -> None:
        self.llm.script.release.set()
        for worker in self.workers:
            worker.stop(timeout=20)
        self.llm.stop()
        if self.scene is not None:
            self.scene.close()
        requests.delete(f"{stack.MANAGEMENT_API}/vhosts/{VHOST}", auth=stack.MANAGEMENT_AUTH, timeout=10)
        drop_database(DATABASE_URL)


def test_every_thread_of_an_analysis_worker_is_inside_an_llm_call_at_once_by_default(tmp_path: Path):
    threads = 10  # more than the former default of 8 calls per process
    with Setting(tmp_path) as setting:
        setting.worker("throughput-slots", concurrency=threads)
        job_ids = setting.ask(threads)
        # Answers are held: every call the worker makes stays in flight until released.
        stack.wait_until(lambda: setting.llm.script.requests == threads, timeout=30,
                         what=f"{threads} LLM calls in flight at once")
        setting.llm.script.release.set()
        assert [state for state, _ in setting.wait_until_all_succeeded(job_ids).values()] == ["succeeded"] * threads
