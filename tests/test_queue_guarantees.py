"""What the queue promises, proven on the real broker and real worker processes: nothing
accepted is lost when RabbitMQ is down or a worker dies; transient failures are retried with
backoff; exhausted or unexpected failures end in the dead-letter queue, recorded."""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import text, update

import celeryconfig
from models import BackgroundJob, db
from models.mixins import utcnow
from tests.conftest import REALDATA, upload, wait_for_extraction, wait_for_job
from tests.support import stack
from tests.support.documents import text_pdf
from tests.support.storage import stored_file_hidden

PDF = (REALDATA / "resumes" / "rm_latex_plain_john_doe.pdf").read_bytes()
DEAD_LETTER_QUEUE = celeryconfig.DEAD_LETTER_QUEUE.name


def dead_letters_for(job_id: str) -> list[dict]:
    return [m for m in stack.peek_messages(DEAD_LETTER_QUEUE) if m["properties"].get("headers", {}).get("id") == job_id]


@pytest.fixture
def broker_restorer():
    """Whatever a test does to RabbitMQ, it is running again afterwards."""
    yield
    try:
        stack.queue_depth(DEAD_LETTER_QUEUE)
    except Exception:
        stack.rabbitmq_start_app()


def test_upload_accepted_while_rabbitmq_is_down_is_processed_when_it_returns(client, user, workers, broker_restorer):
    stack.rabbitmq_stop_app()
    try:
        started = time.monotonic()
        response = upload(client, user, PDF, "during-outage.pdf")
        assert response.status_code == 201 and time.monotonic() - started < 5  # no hang, no 500
        resume = response.json
        time.sleep(2)
        job = client.get(f"/api/background-jobs/{resume['extraction_job_id']}", headers=user).json
        assert job["state"] == "queued" and job["published_at"] is None  # waiting in the outbox
    finally:
        stack.rabbitmq_start_app()
    resume = wait_for_extraction(client, user, resume["id"], timeout=90)
    assert resume["extraction_status"] == "succeeded" and resume["word_count"] > 100
    job = client.get(f"/api/background-jobs/{resume['extraction_job_id']}", headers=user).json
    assert job["published_at"] is not None and job["state"] == "succeeded"


def _upload_slow_and_wait_running(client, user) -> dict:
    resume = upload(client, user, text_pdf(30), "long.pdf").json  # takes a few seconds to read
    wait_for_job(client, user, resume["extraction_job_id"], ("running",), timeout=30)
    return resume


def test_worker_sigkilled_mid_task_is_redelivered_and_completed_once(app, client, user, workers):
    resume = _upload_slow_and_wait_running(client, user)
    workers.worker.kill()  # the whole worker, main process and pool, like a lost host
    job = client.get(f"/api/background-jobs/{resume['extraction_job_id']}", headers=user).json
    assert job["state"] == "running" and job["attempts"] == 1
    workers.worker.start()
    resume = wait_for_extraction(client, user, resume["id"], timeout=90)
    assert resume["extraction_status"] == "succeeded" and resume["page_count"] == 30
    job = client.get(f"/api/background-jobs/{resume['extraction_job_id']}", headers=user).json
    assert job["state"] == "succeeded" and job["attempts"] == 2 and job["failures"] == []
    stack.wait_for_empty("applytrack.extraction")


def test_pool_process_sigkilled_mid_task_is_redelivered(client, user, workers):
    import os
    import signal

    resume = _upload_slow_and_wait_running(client, user)
    for child in workers.worker.children():
        os.kill(child, signal.SIGKILL)  # the main process lives and sees WorkerLostError
    resume = wait_for_extraction(client, user, resume["id"], timeout=90)
    assert resume["extraction_status"] == "succeeded"
    job = client.get(f"/api/background-jobs/{resume['extraction_job_id']}", headers=user).json
    assert job["state"] == "succeeded" and job["attempts"] == 2


def test_transient_failure_is_retried_with_backoff_then_succeeds(client, user, workers):
    resume = wait_for_extraction(client, user, upload(client, user, PDF).json["id"])
    with stored_file_hidden(client.application, resume["sha256"]):
        job_id = client.post(f"/api/resumes/{resume['id']}/extract", headers=user).json["extraction_job_id"]
        assert job_id != resume["extraction_job_id"]
        stack.wait_until(
            lambda: client.get(f"/api/background-jobs/{job_id}", headers=user).json["failures"],
            timeout=30, what="a first failed attempt",
        )
    job = wait_for_job(client, user, job_id)
    assert job["state"] == "succeeded" and job["attempts"] >= 2
    assert all(f["transient"] and f["error_class"] == "StorageUnavailable" for f in job["failures"])
    assert client.get(f"/api/resumes/{resume['id']}", headers=user).json["extraction_status"] == "succeeded"


def test_exhausted_retries_dead_letter_the_message_and_record_every_failure(client, user, workers):
    resume = wait_for_extraction(client, user, upload(client, user, PDF).json["id"])
    with stored_file_hidden(client.application, resume["sha256"]):
        job_id = client.post(f"/api/resumes/{resume['id']}/extract", headers=user).json["extraction_job_id"]
        job = wait_for_job(client, user, job_id, timeout=60)
    assert job["state"] == "dead" and job["attempts"] == 4  # first try + TASK_MAX_RETRIES=3
    assert [f["attempt"] for f in job["failures"]] == [1, 2, 3, 4]
    assert job["last_error_class"] == "StorageUnavailable"
    # On the broker: the message sits in the dead-letter queue, rejected from "applytrack.extraction".
    letters = stack.wait_until(lambda: dead_letters_for(job_id), timeout=10, what="the dead letter")
    death = letters[0]["properties"]["headers"]["x-death"][0]
    assert death["queue"] == "applytrack.extraction" and death["reason"] == "rejected"
    # The user sees a failure they can understand, and keeps the text extracted before.
    resume_now = client.get(f"/api/resumes/{resume['id']}", headers=user).json
    assert resume_now["extraction_status"] == "failed" and resume_now["failure_reason"] == "processing_error"
    assert resume_now["text"] == resume["text"]


def test_a_message_that_keeps_coming_back_is_dead_lettered_not_looped(app, client, user, workers):
    workers.relay.stop()  # hold the job in the outbox while we age it
    resume = upload(client, user, PDF).json
    job_id = resume["extraction_job_id"]
    with app.app_context():
        # As if workers had died on it 6 times already (max attempts = retries 3 + 3).
        db.session.execute(update(BackgroundJob).where(BackgroundJob.id == uuid.UUID(job_id)).values(attempts=6))
        db.session.commit()
    workers.relay.start()
    job = wait_for_job(client, user, job_id)
    assert job["state"] == "dead" and job["last_error_class"] == "TooManyAttempts"
    stack.wait_until(lambda: dead_letters_for(job_id), timeout=10, what="the dead letter")


def test_permanent_failures_fail_at_once_without_retrying(client, user, workers):
    encrypted = (REALDATA / "badpdfs" / "pdfminer_rc4_40_user_foo.pdf").read_bytes()
    resume = wait_for_extraction(client, user, upload(client, user, encrypted).json["id"])
    assert resume["failure_reason"] == "encrypted" and "password" in resume["failure_message"].lower()
    job = client.get(f"/api/background-jobs/{resume['extraction_job_id']}", headers=user).json
    assert job["state"] == "failed" and job["attempts"] == 1 and len(job["failures"]) == 1
    assert not job["failures"][0]["transient"]
    assert dead_letters_for(job["id"]) == []


def test_extraction_over_its_time_limit_is_a_classified_failure_and_the_worker_lives(client, user, workers, tmp_path):
    workers.worker.stop()  # only the strict worker below consumes during this test
    strict = stack.worker({**workers.env, "EXTRACTION_TIME_LIMIT": "1"}, workers.log_dir, name="extraction-strict")
    strict.start()
    try:
        slow = upload(client, user, text_pdf(30), "long.pdf").json
        quick = upload(client, user, PDF, "quick.pdf").json
        slow = wait_for_extraction(client, user, slow["id"], timeout=60)
        assert slow["extraction_status"] == "failed" and slow["failure_reason"] == "too_large"
        assert "too long" in slow["failure_message"]
        assert wait_for_extraction(client, user, quick["id"])["extraction_status"] == "succeeded"
        assert strict.alive
    finally:
        strict.stop()


def test_a_retry_waits_in_the_outbox_not_in_a_worker_or_the_broker(app, client, user, workers):
    workers.worker.stop()  # only the patient worker below consumes during this test
    patient = stack.worker({**workers.env, "TASK_RETRY_BACKOFF": "60", "TASK_RETRY_BACKOFF_MAX": "60"},
                           workers.log_dir, name="extraction-patient")
    patient.start()
    try:
        resume = wait_for_extraction(client, user, upload(client, user, PDF).json["id"])
        with stored_file_hidden(client.application, resume["sha256"]):
            job_id = client.post(f"/api/resumes/{resume['id']}/extract", headers=user).json["extraction_job_id"]
            job = stack.wait_until(lambda: (j := client.get(f"/api/background-jobs/{job_id}", headers=user).json)
                                   ["failures"] and j["state"] == "queued" and j, timeout=30, what="a retry")
        # Due in 30-60 s: the job says when, and no message for it waits in a queue or a worker
        # (a worker restart or a broker restart cannot lose or delay it; no prefetch slot held).
        assert job["next_attempt_at"] and job["published_at"] is None
        stack.wait_for_empty("applytrack.extraction")
        with app.app_context():  # as if the backoff had passed
            db.session.execute(update(BackgroundJob).where(BackgroundJob.id == uuid.UUID(job_id))
                               .values(next_attempt_at=utcnow()))
            db.session.execute(text("NOTIFY applytrack_outbox"))
            db.session.commit()
        job = wait_for_job(client, user, job_id)
        assert job["state"] == "succeeded" and job["attempts"] == 2
    finally:
        patient.stop()
        workers.worker.start()
