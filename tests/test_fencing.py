"""A worker cut off mid-task keeps running and comes back after its message was redelivered and
finished elsewhere: its late outcome must change nothing (issue 15's fencing token).

The scene, on real workers: worker A (a threads pool, one process) is inside the LLM call of an
analysis when it freezes (SIGSTOP: a host gone quiet) and the broker drops its connection (as
it would after two missed heartbeats; closed here through the management API so the test need
not wait 20 s). The message goes back to the queue; worker B takes it as a redelivery, claims
the job again and finishes it. Then A thaws, its LLM call returns, and it tries to record its
result. Without fencing it overwrote B's (a second completion, a second paid call stored as the
result); with it, A's outcome is discarded and says so in A's log.

Isolation: its own database on the shared PostgreSQL and its own vhost on the shared RabbitMQ,
both removed at the end.
"""
from __future__ import annotations

import json
import os
import signal
import tempfile
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

import celeryconfig
from bench.chaos import system_env
from models import BackgroundJob, db
from services import jobs
from services.database_admin import ensure_database
from tests.support import stack
from tests.test_races import resume_awaiting_extraction, user_id
from tests.support.scenes import Scene, drop_database, held_llm

DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/applytrack_fencing_test"
VHOST = "applytrack_fencing_test"
QUEUE = celeryconfig.task_routes["analysis.*"]["queue"]


def close_connections_of(vhost: str) -> int:
    # The management API lists a connection a moment after it opens (its statistics interval).
    connections = stack.wait_until(lambda: stack.management("GET", f"/vhosts/{vhost}/connections").json(),
                                   timeout=20, interval=0.5, what=f"the connections of {vhost} to be listed")
    for connection in connections:
        requests.delete(f"{stack.MANAGEMENT_API}/connections/{connection['name']}", auth=stack.MANAGEMENT_AUTH,
                        timeout=10)
    return len(connections)


def job_row(scene: Scene, job_id: str) -> dict:
    with scene.engine.connect() as connection:
        row = connection.execute(text(
            "SELECT j.state, j.attempts, j.fencing_token, a.completed_at, a.cost_usd, a.tokens_in, "
            "(SELECT count(*) FROM job_failures f WHERE f.job_id = j.id) AS failures "
            "FROM background_jobs j JOIN analyses a ON a.job_id = j.id WHERE j.id = :id"), {"id": job_id}).one()
    return dict(row._mapping)


def outcomes(worker: stack.ManagedProcess, job_id: str) -> list[str]:
    found = []
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{") and job_id in line:
            record = json.loads(line)
            if record.get("message", "").startswith("job finished"):
                found.append(record["outcome"])
    return found


def test_a_late_worker_cannot_overwrite_the_result_of_the_claim_that_replaced_it(tmp_path: Path):
    base = Path(tempfile.mkdtemp(prefix="applytrack-fencing-"))
    llm = held_llm()
    worker_a = worker_b = scene = None
    try:
        drop_database(DATABASE_URL)
        ensure_database(DATABASE_URL)
        broker_url = stack.reset_vhost(VHOST)
        llm.start()
        env = {**system_env(DATABASE_URL, broker_url, llm.base_url, base / "storage"),
               "LLM_TIMEOUT": "120", "LOG_LEVEL": "INFO"}
        scene = Scene(env)
        scene.migrate()
        headers, resume_id, listing_id = scene.user_with_resume_and_listing()
        worker_a = stack.worker(env, tmp_path, queues=QUEUE, pool="threads", concurrency=2,
                                name="fencing-a").start(timeout=60)
        (job_id,) = scene.ask_for_analyses(1, headers, resume_id, listing_id)
        stack.wait_until(lambda: llm.script.requests == 1, timeout=30, what="worker A inside the LLM call")

        os.kill(worker_a.process.pid, signal.SIGSTOP)  # A's host goes quiet mid-task...
        assert close_connections_of(VHOST) >= 1  # ... and the broker gives up on it
        worker_b = stack.worker(env, tmp_path, queues=QUEUE, pool="threads", concurrency=2,
                                name="fencing-b").start(timeout=60)
        stack.wait_until(lambda: llm.script.requests == 2, timeout=30,
                         what="worker B to take the redelivered message into its own LLM call")
        llm.script.release.set()
        stack.wait_until(lambda: job_row(scene, job_id)["state"] == "succeeded", timeout=30,
                         what="worker B to finish the job")
        finished_by_b = job_row(scene, job_id)
        assert (finished_by_b["attempts"], finished_by_b["fencing_token"]) == (2, 2)

        os.kill(worker_a.process.pid, signal.SIGCONT)  # A comes back, its LLM call answered
        stack.wait_until(lambda: outcomes(worker_a, job_id), timeout=30, what="worker A to end its late attempt")

        assert outcomes(worker_a, job_id) == ["superseded"], worker_a.tail(30)
        assert outcomes(worker_b, job_id) == ["ok"], worker_b.tail(30)
        # B's result stands, untouched: one completion, one paid call recorded as the result,
        # no failure recorded by A's late attempt.
        assert job_row(scene, job_id) == finished_by_b
        assert finished_by_b["failures"] == 0
        assert llm.script.requests == 2  # both calls were made (and A's is counted in the budget)
        stack.wait_for_empty(QUEUE, VHOST, timeout=20)
    finally:
        llm.script.release.set()
        if worker_a is not None and worker_a.alive:
            os.kill(worker_a.process.pid, signal.SIGCONT)
        for worker in (worker_a, worker_b):
            if worker is not None:
                worker.stop(timeout=20)
        llm.stop()
        if scene is not None:
            scene.close()
        requests.delete(f"{stack.MANAGEMENT_API}/vhosts/{VHOST}", auth=stack.MANAGEMENT_AUTH, timeout=10)
        drop_database(DATABASE_URL)


# --- Every way of recording an attempt's outcome is fenced (database level) -------------------


def stale_and_current_claims(app, user_id):
    """An extraction job claimed by a first worker, then again by a second one (the message
    redelivered after the first was cut off); returns (job id, first fence, second fence)."""
    _resume_id, job_id = resume_awaiting_extraction(app, user_id)
    with app.app_context():
        first = jobs.claim(job_id, redelivered=False, max_attempts=5).held_fence
        db.session.remove()
        second = jobs.claim(job_id, redelivered=True, max_attempts=5).held_fence
        db.session.remove()
    return job_id, first, second


@pytest.mark.parametrize("outcome", ["succeed", "fail", "retry", "bury"])
def test_a_stale_claim_cannot_record_any_outcome(app, client, user, outcome):
    job_id, first, second = stale_and_current_claims(app, user_id(client, user))
    assert second == first + 1
    record = {
        "succeed": lambda fence: jobs.succeed(_held(job_id, fence)),
        "fail": lambda fence: jobs.fail(job_id, jobs.PermanentFailure("corrupt", "no"), fence=fence),
        "retry": lambda fence: jobs.schedule_retry(job_id, RuntimeError("flaky"), 1.0, fence=fence),
        "bury": lambda fence: jobs.bury(job_id, RuntimeError("bug"), fence=fence),
    }[outcome]
    with app.app_context():
        with pytest.raises(jobs.ClaimSuperseded):
            record(first)
        db.session.rollback()
        record(second)  # the current claim records its outcome as before
        db.session.commit()
        job = db.session.get(BackgroundJob, job_id)
        assert job.state == {"succeed": "succeeded", "fail": "failed", "retry": "queued", "bury": "dead"}[outcome]
        assert [failure.attempt for failure in job.failures] == ([] if outcome == "succeed" else [2])


def test_the_broker_dead_lettering_a_job_buries_it_whichever_claim_is_current(app, client, user):
    job_id, _first, _second = stale_and_current_claims(app, user_id(client, user))
    with app.app_context():
        job = jobs.bury(job_id, RuntimeError("delivery limit"), fence=None, states=jobs.NOT_ENDED)
        db.session.commit()
        assert job.state == "dead"
        with pytest.raises(jobs.ClaimSuperseded):  # but never one that has ended
            jobs.bury(job_id, RuntimeError("again"), fence=None, states=jobs.NOT_ENDED)


def _held(job_id, fence) -> BackgroundJob:
    job = db.session.get(BackgroundJob, job_id)
    job.held_fence = fence
    return job


@pytest.mark.parametrize("error", [jobs.TooManyAttempts("delivered 7 times", 7),
                                   jobs.PermanentFailure("encrypted", "The PDF is password-protected."),
                                   jobs.ClaimSuperseded("claimed again")])
def test_job_errors_cross_from_a_prefork_child_to_the_worker_intact(error):
    """Celery pickles a task's exception (inside Reject) to send it from the pool process to the
    worker; one that does not unpickle kills the worker (a TooManyAttempts with its fence did)."""
    import pickle

    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error) and vars(copy) == vars(error)
