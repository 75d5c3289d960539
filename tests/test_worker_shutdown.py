"""Workers stopped during a burst lose nothing. Two worker nodes share the extraction queue; one
gets SIGTERM (a warm shutdown: it finishes what it started, then exits by itself), the other
SIGKILL (its unacknowledged messages go back to the queue). A fresh worker takes over, and every
job ends succeeded, exactly once."""
from __future__ import annotations

import os
import signal

from tests.conftest import REALDATA, upload, wait_for_extraction
from tests.support import stack
from tests.support.documents import text_pdf

# Real resumes with a text layer (the scanned one would fail as no_text_layer, by design).
REAL_PDFS = [path for path in sorted((REALDATA / "resumes").glob("*.pdf")) if "rasterized" not in path.name]
# Generated documents long enough (2-4 s each) to be mid-extraction when the signals arrive; as
# many as the two workers run at once, so each is busy with two of them.
SLOW_PAGES = (16, 17, 18, 19)
BURST = 30
CONCURRENCY = 2
# What Docker's stop_grace_period gives a worker before SIGKILL (docker-compose.yml: 120 s);
# here a warm shutdown only has to finish one slow document.
GRACE_SECONDS = 30


def burst() -> list[tuple[str, bytes]]:
    """The slow documents first, so that they are the ones in flight, then real resumes."""
    documents = [(f"long-{pages}.pdf", text_pdf(pages)) for pages in SLOW_PAGES]
    while len(documents) < BURST:
        path = REAL_PDFS[len(documents) % len(REAL_PDFS)]
        documents.append((path.name, path.read_bytes()))
    return documents


def both_workers_full(client, user) -> list[dict] | None:
    """The running jobs, once both workers run as many as they can (two each)."""
    jobs = client.get("/api/background-jobs?page_size=100", headers=user).json
    running = [job for job in jobs if job["state"] == "running"]
    return running if len(running) == 2 * CONCURRENCY else None


def start_consuming(worker: stack.ManagedProcess) -> None:
    """Start the worker and wait until it consumes (its banner, the start marker, comes earlier)."""
    worker.start()
    stack.wait_until(lambda: " ready." in worker.log_path.read_text(errors="replace"), timeout=30,
                     what=f"{worker.name} to consume")


def warm_shutdown(worker: stack.ManagedProcess) -> None:
    """SIGTERM to the main process only, as `docker stop` and systemd send it. A signal to the
    whole process group (ManagedProcess.stop, honcho) also reaches the prefork pool children,
    which die of it at once: their tasks are redelivered rather than finished."""
    os.kill(worker.process.pid, signal.SIGTERM)


def test_sigterm_and_sigkill_during_a_burst_lose_nothing_and_duplicate_nothing(client, user, workers):
    workers.worker.stop()  # only the workers below consume "extraction" during this test
    terminated = stack.worker(workers.env, workers.log_dir, name="extraction-sigterm", concurrency=CONCURRENCY)
    killed = stack.worker(workers.env, workers.log_dir, name="extraction-sigkill", concurrency=CONCURRENCY)
    fresh = stack.worker(workers.env, workers.log_dir, name="extraction-fresh", concurrency=CONCURRENCY)
    try:
        start_consuming(terminated)
        start_consuming(killed)
        documents = burst()
        resumes = [upload(client, user, data, name).json for name, data in documents]
        # Both workers busy with two slow documents each: the signals land mid-task.
        in_flight = stack.wait_until(lambda: both_workers_full(client, user), timeout=30, interval=0.1,
                                     what="both workers to run two extractions each")
        warm_shutdown(terminated)
        killed.kill()

        assert terminated.process.wait(GRACE_SECONDS) == 0  # exited by itself, cleanly
        log = terminated.log_path.read_text(errors="replace")
        assert "Warm shutdown" in log
        fresh.start()

        finished = [wait_for_extraction(client, user, resume["id"], timeout=90) for resume in resumes]
        assert [resume["extraction_status"] for resume in finished] == ["succeeded"] * BURST
        _assert_each_job_succeeded_once(client, user, resumes, in_flight)
        stack.wait_until(lambda: stack.queue_depth("applytrack.extraction") == 0, timeout=15, what="the queue to drain")
    finally:
        for process in (terminated, killed, fresh):
            process.stop()


def _assert_each_job_succeeded_once(client, user, resumes: list[dict], in_flight: list[dict]) -> None:
    jobs = {job["id"]: job for job in client.get("/api/background-jobs?page_size=100", headers=user).json}
    # One job per upload, none created twice, each succeeded without a recorded failure.
    assert sorted(jobs) == sorted(resume["extraction_job_id"] for resume in resumes)
    assert all(job["state"] == "succeeded" and job["failures"] == [] for job in jobs.values())
    # Attempts are counted at each start. The SIGTERMed worker finished its two in-flight jobs
    # (one attempt); the SIGKILLed worker's two ran again elsewhere (two attempts); nothing else
    # ran twice.
    attempts_in_flight = sorted(jobs[job["id"]]["attempts"] for job in in_flight)
    assert attempts_in_flight == [1, 1, 2, 2]
    in_flight_ids = {job["id"] for job in in_flight}
    assert all(job["attempts"] == 1 for job_id, job in jobs.items() if job_id not in in_flight_ids)
