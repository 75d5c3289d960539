"""One simulated user's HTTP client: every call goes through ``request``, which records it in
the history with the ids it named and the ids the answer returned."""
from __future__ import annotations

import time
from typing import Any

import requests
import urllib3

from bench.chaos import CLIENT_TIMEOUT
from bench.workload.history import Event, History

# Path parameters and request-body fields, by the kind of object they name.
ID_PARAMS = {"resume_id": "resume", "job_id": "listing", "application_id": "application",
             "bulk_run_id": "bulk_run", "analysis_id": "analysis"}
# The ids each kind of answer carries: field -> kind.
ANSWER_IDS = {
    "resume": {"id": "resume", "extraction_job_id": "job"},
    "analysis": {"id": "analysis", "background_job_id": "job", "resume_id": "resume", "job_id": "listing"},
    "listing": {"id": "listing"},
    "application": {"id": "application", "resume_id": "resume", "job_id": "listing"},
    "bulk_run": {"id": "bulk_run"},
    "dead_job": {"id": "job", "subject_id": "subject"},
}
ANSWER_STATE = {"resume": "extraction_status", "analysis": "state", "bulk_run": "state"}
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# What the DLQ replay answers: lists of job ids.
OUTCOME_LISTS = ("requeued", "discarded", "stale_messages_removed", "replayed_without_broker_message")


class ApiClient:
    def __init__(self, base_url: str, user: str, history: History) -> None:
        self.base_url = base_url
        self.user = user
        self.history = history
        self.session = requests.Session()
        self.op = "setup"  # the operation the next requests belong to
        self.op_number = 0

    def begin(self, op: str) -> None:
        """The requests from now on belong to a new operation called ``op``."""
        self.op = op
        self.op_number += 1

    def login(self, email: str, password: str, *, register: bool) -> None:
        if register:
            self.request("POST", "/api/auth/register", json={"email": email, "password": password})
        answer = self.request("POST", "/api/auth/login", json={"email": email, "password": password})
        if answer is None or answer.status_code != 200:
            raise RuntimeError(f"{self.user} could not log in: {answer and answer.text[:300]}")
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def request(self, method: str, route: str, *, returns: str | None = None, json: Any = None,
                files: dict | None = None, headers: dict | None = None, **params: str) -> requests.Response | None:
        """Send one request to ``route`` (an OpenAPI path template filled from ``params``);
        None when no answer came (a timeout or a connection error, recorded as such)."""
        path = route.format(**params)
        event = Event(user=self.user, op=self.op, op_number=self.op_number, method=method, path=path, route=route,
                      started=time.time())
        for name, value in {**params, **(json if isinstance(json, dict) else {})}.items():
            if name in ID_PARAMS:
                event.add_id(ID_PARAMS[name], value)
        answer = None
        for attempt in (1, 2):
            try:
                answer = self.session.request(method, self.base_url + path, json=json, files=files,
                                              headers=headers, timeout=CLIENT_TIMEOUT)
                break
            except requests.Timeout:
                event.error = "timeout"
                break
            except requests.ConnectionError as error:
                event.error, event.error_detail = "connection", _describe(error)
                if attempt == 2 or not _may_resend(method, error):
                    break
                event.resent = True
                event.error = event.error_detail = None
        event.ended = time.time()
        if answer is not None:
            event.status = answer.status_code
            event.retry_after = answer.headers.get("Retry-After")
            if answer.ok and returns:
                _note_answer(event, answer, returns)
        self.history.record(event)
        return answer


def _may_resend(method: str, error: requests.ConnectionError) -> bool:
    """Whether to send the request again, once, as a browser or urllib3's retry policy would: an
    idempotent request whose connection closed before any answer came (RFC 9112 section 9.3.1).
    A server closes a kept-alive connection once it has idled for its keep-alive timeout (gunicorn: 2 s);
    a request sent on that connection at the same moment meets a reset. A refused connection (the
    server is down) and a timeout (it hung) are not resent: those are the server's to answer for."""
    if method.upper() not in IDEMPOTENT_METHODS:
        return False
    cause = error.args[0] if error.args else None
    return isinstance(cause, urllib3.exceptions.ProtocolError)


def _describe(error: requests.ConnectionError) -> str:
    cause = error.args[0] if error.args else error
    while isinstance(cause, Exception) and cause.args and isinstance(cause.args[-1], Exception):
        cause = cause.args[-1]
    return f"{type(cause).__name__}: {cause}"[:200]


def _note_answer(event: Event, answer: requests.Response, returns: str) -> None:
    try:
        body = answer.json()
    except ValueError:
        return
    if returns == "dlq_outcome":
        for name in OUTCOME_LISTS:
            for job_id in body.get(name, ()):
                event.add_id("job", job_id)
        return
    for item in body if isinstance(body, list) else [body]:
        for field, kind in ANSWER_IDS[returns].items():
            event.add_id(kind, item.get(field))
        if returns in ANSWER_STATE and not isinstance(body, list):
            event.state = item.get(ANSWER_STATE[returns])
