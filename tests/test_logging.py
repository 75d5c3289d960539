"""Structured logs: a request id on every response, on every JSON log line of the request, and on
every line the extraction and analysis workers log while running the work that request queued."""
from __future__ import annotations

import io
import json
import logging
import uuid
from pathlib import Path

import pytest

from api.request_id import current_request_id
from models import BackgroundJob, db
from services.logging_setup import HANDLER_NAME, configure_logging
from tests.conftest import REALDATA, upload, wait_for_analysis, wait_for_extraction
from tests.support import stack

PDF = (REALDATA / "resumes" / "rm_latex_plain_john_doe.pdf").read_bytes()
HEX_ID_LENGTH = 32


@pytest.fixture
def json_lines(app):
    """What the app's real JSON handler writes during the test, as a list of parsed lines."""
    handler = configure_logging("INFO")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    # The session's migration ran Alembic's fileConfig(), which disables every logger that
    # existed then (the API's among them) in this process; servers never migrate.
    for name, logger in logging.root.manager.loggerDict.items():
        if name.split(".")[0] == "api" and isinstance(logger, logging.Logger):
            logger.disabled = False
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        handler.setStream(previous)


# --- the header -----------------------------------------------------------------------------

def test_every_response_carries_a_generated_request_id(client):
    first = client.get("/api/statuses").headers["X-Request-ID"]
    second = client.get("/api/statuses").headers["X-Request-ID"]
    assert len(first) == HEX_ID_LENGTH and int(first, 16) >= 0
    assert first != second


@pytest.mark.parametrize("request_id", ["abc-123", "req.2024:07_x", "a" * 64, "0"])
def test_a_well_formed_client_request_id_is_echoed(client, request_id):
    assert client.get("/api/statuses", headers={"X-Request-ID": request_id}).headers["X-Request-ID"] == request_id


@pytest.mark.parametrize("request_id", ["a" * 65, "has space", "semi;colon", "quote\"d", "é", "tab\tbed", ""])
def test_a_malformed_client_request_id_is_replaced(client, request_id):
    returned = client.get("/api/statuses", headers={"X-Request-ID": request_id}).headers["X-Request-ID"]
    assert returned != request_id and len(returned) == HEX_ID_LENGTH


@pytest.mark.parametrize("request_id", ["abc\n", "abc\r\nSet-Cookie: a=b", "x\nX-Injected: 1"])
def test_newline_injection_through_the_request_id_is_refused(client, request_id):
    # Straight into the WSGI environ: werkzeug's client refuses such a header before the app
    # sees it, a server or proxy in front of us may not.
    response = client.get("/api/statuses", environ_overrides={"HTTP_X_REQUEST_ID": request_id})
    assert response.status_code == 200 and len(response.headers["X-Request-ID"]) == HEX_ID_LENGTH
    assert "Set-Cookie" not in response.headers and "X-Injected" not in response.headers


def test_error_responses_carry_the_request_id(client, user):
    not_found = client.get(f"/api/jobs/{uuid.uuid4()}", headers={**user, "X-Request-ID": "err-404"})
    unknown_route = client.get("/api/no-such-thing", headers={"X-Request-ID": "err-404-route"})
    unauthorized = client.get("/api/user/profile", headers={"X-Request-ID": "err-401"})
    invalid = client.post("/api/auth/register", json={"email": "not-an-email", "password": "x"},
                          headers={"X-Request-ID": "err-422"})
    for response, code, request_id in ((not_found, 404, "err-404"), (unknown_route, 404, "err-404-route"),
                                       (unauthorized, 401, "err-401"), (invalid, 422, "err-422")):
        assert response.status_code == code and response.json["code"] == code
        assert response.headers["X-Request-ID"] == request_id


def test_an_unexpected_error_is_answered_and_logged_with_the_request_id(app, json_lines):
    @app.get("/api/test-only-boom")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/api/test-only-boom", headers={"X-Request-ID": "err-500"})
    assert response.status_code == 500 and response.json["code"] == 500
    assert response.headers["X-Request-ID"] == "err-500"
    lines = [line for line in json_lines() if line["request_id"] == "err-500"]
    [error] = [line for line in lines if line["logger"] == "api.errors"]
    assert error["level"] == "ERROR" and "RuntimeError: kaboom" in error["exc_info"]
    assert [line["status"] for line in lines if line["logger"] == "api.access"] == [500]


def test_the_request_id_is_stored_on_the_job_it_queues(app, client, user):
    chosen = upload(client, {**user, "X-Request-ID": "upload-chosen-1"}, PDF, "cv.pdf").json
    replaced = upload(client, {**user, "X-Request-ID": "bad id"}, PDF, "cv2.pdf")
    with app.app_context():
        assert db.session.get(BackgroundJob, uuid.UUID(chosen["extraction_job_id"])).request_id == "upload-chosen-1"
        stored = db.session.get(BackgroundJob, uuid.UUID(replaced.json["extraction_job_id"])).request_id
    assert stored == replaced.headers["X-Request-ID"] != "bad id"


def test_no_request_id_outside_a_request(client):
    client.get("/api/statuses", headers={"X-Request-ID": "gone-after"})
    assert current_request_id() is None


# --- the API's log lines ----------------------------------------------------------------------

def test_access_line_is_json_with_the_request_id_and_no_secrets(client, user, json_lines):
    client.get("/api/jobs?page=1&token=s3cret-value", headers={**user, "X-Request-ID": "access-1"})
    written = json_lines()
    [access] = [line for line in written if line["logger"] == "api.access" and line["request_id"] == "access-1"]
    assert access["method"] == "GET" and access["path"] == "/api/jobs" and access["status"] == 200
    assert access["duration_ms"] >= 0 and access["level"] == "INFO"
    assert access["timestamp"].endswith("+00:00") and "T" in access["timestamp"]
    raw = json.dumps(written)
    assert "s3cret-value" not in raw and user["Authorization"].split()[1] not in raw


def test_any_logger_in_a_request_gets_the_request_id(app, json_lines):
    # The filter sits on the handler, so a third-party logger's line is stamped like ours.
    with app.test_request_context("/api/statuses", headers={"X-Request-ID": "third-party-1"}):
        app.preprocess_request()
        logging.getLogger("some.library").warning("from a library")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("another.library").exception("with a traceback")
    library, error = [line for line in json_lines() if line["request_id"] == "third-party-1"]
    assert library["logger"] == "some.library" and library["message"] == "from a library"
    assert error["level"] == "ERROR" and "ValueError: boom" in error["exc_info"]
    assert library["task_id"] is None and library["job_id"] is None


def test_configuring_twice_adds_no_second_handler():
    root = logging.getLogger()
    handler = configure_logging("INFO")
    try:
        assert configure_logging("WARNING") is handler and root.level == logging.WARNING
        assert [h for h in root.handlers if h.name == HANDLER_NAME] == [handler]
        assert logging.getLogger("pdfminer").level == logging.ERROR
    finally:
        configure_logging("INFO")


# --- into the workers -------------------------------------------------------------------------

def task_lines(log_path: Path, task_id: str, *, attempts: int = 1, timeout: float = 30) -> list[dict]:
    """Every line of a worker's log that mentions ``task_id``, parsed as JSON, once ``attempts``
    "job finished" lines have been written (the API sees the result before the task's last
    lines are logged)."""
    def written():
        raw = [line for line in log_path.read_text(errors="replace").splitlines() if task_id in line]
        lines = [json.loads(line) for line in raw]  # a line that is not JSON fails the test here
        finished = [line for line in lines if line["message"].startswith("job finished")]
        return lines if len(finished) >= attempts else None

    return stack.wait_until(written, timeout=timeout, interval=0.2, what=f"{attempts} attempt(s) of task {task_id}")


def assert_task_lines_carry(lines: list[dict], task_id: str, request_id: str) -> list[dict]:
    """Check the lines of one task and return those logged while it ran."""
    # Lines logged while the task runs have its job id. Celery's "received" line (worker main
    # process, before the task) and its "succeeded"/"retry" lines (after the task returned) are
    # outside that context: they name the task, not the request.
    running = [line for line in lines if line["job_id"] == task_id]
    messages = [line["message"] for line in running]
    assert any(m.startswith("job started") for m in messages) and any(m.startswith("job finished") for m in messages)
    assert all(line["request_id"] == request_id and line["task_id"] == task_id for line in running), running
    celery_lines = [line for line in lines if line["logger"].startswith("celery")]
    assert any("received" in line["message"] for line in celery_lines)
    assert all(line["task_id"] == task_id for line in celery_lines), celery_lines
    assert all({"timestamp", "level", "logger", "message"} <= line.keys() for line in lines)
    return running


def test_extraction_lines_carry_the_uploads_request_id(client, user, workers):
    request_id = f"e2e-upload-{uuid.uuid4().hex[:8]}"
    response = upload(client, {**user, "X-Request-ID": request_id}, PDF, "cv.pdf")
    assert response.status_code == 201 and response.headers["X-Request-ID"] == request_id
    resume = wait_for_extraction(client, user, response.json["id"])
    assert resume["extraction_status"] == "succeeded"
    task_id = response.json["extraction_job_id"]
    assert_task_lines_carry(task_lines(workers.worker.log_path, task_id), task_id, request_id)


def test_analysis_lines_carry_the_request_id_across_a_retry(client, llm_client, user, job, workers, llm):
    resume = upload(client, {**user, "X-Request-ID": "e2e-setup"}, PDF, "cv.pdf").json
    wait_for_extraction(client, user, resume["id"])
    llm.script.control({"faults": ["500"]})  # the first attempt fails and is retried
    request_id = f"e2e-analyze-{uuid.uuid4().hex[:8]}"
    response = llm_client.post(f"/api/resumes/{resume['id']}/analyze", json={"job_id": job["id"]},
                               headers={**user, "X-Request-ID": request_id})
    assert response.status_code == 202 and response.headers["X-Request-ID"] == request_id
    analysis = wait_for_analysis(llm_client, user, response.json["id"])
    assert analysis["state"] == "succeeded" and analysis["attempts"] == 2
    task_id = analysis["background_job_id"]
    lines = task_lines(workers.analysis_worker.log_path, task_id, attempts=2)
    running = assert_task_lines_carry(lines, task_id, request_id)
    # The retried message kept the header; the openai SDK's own HTTP lines are stamped too.
    assert {line["attempt"] for line in running if "attempt" in line} == {1, 2}
    assert any(line["logger"] == "httpx" for line in running)
