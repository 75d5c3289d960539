"""A request id for every request: accepted from the client or made here, returned in the
``X-Request-ID`` response header, stamped on every log line of the request, and stored on the
background jobs the request queues so that their log lines carry it too.

Each request also gets one JSON access line (method, path without its query string, status,
duration). Headers are never logged: the Authorization header holds a bearer token.
"""
from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass

from flask import Flask, Response, g, request

from services.logging_setup import ContextTokens, bind_context, context_value, reset_context

HEADER = "X-Request-ID"
# Safe to echo in a header and to print in a log line: no spaces, no CR/LF, bounded (the
# column that keeps it on a job is 64 characters). Used with fullmatch: "^...$" with re.match
# would let a trailing newline through.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

access_log = logging.getLogger("api.access")


def init_request_id(app: Flask) -> None:
    """Register the hooks. Call it before other ``before_request`` hooks are registered, so the
    id is in place for everything they log and for the errors they raise."""
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)


def current_request_id() -> str | None:
    """The id of the request being served (or of the request that caused the running task);
    None outside both."""
    return context_value("request_id")


def accepted_request_id(candidate: str | None) -> str:
    """The client's id when it is well-formed, else a fresh one (32 hex characters)."""
    if candidate is not None and VALID_REQUEST_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


@dataclass(frozen=True)
class _RequestLog:
    """What the hooks of one request share, kept on ``g`` under one name of our own."""

    request_id: str
    started: float
    tokens: ContextTokens


def _start() -> None:
    request_id = accepted_request_id(request.headers.get(HEADER))
    g.request_log = _RequestLog(request_id, time.perf_counter(), bind_context(request_id=request_id))


def _finish(response: Response) -> Response:
    # Runs for every response, error responses included. ``request_log`` is missing only when
    # a hook registered before ours failed; the client still gets an id to quote.
    state: _RequestLog | None = g.get("request_log")
    request_id = state.request_id if state else accepted_request_id(request.headers.get(HEADER))
    response.headers[HEADER] = request_id
    duration_ms = round((time.perf_counter() - state.started) * 1000, 2) if state else None
    access_log.info(
        "%s %s %s", request.method, request.path, response.status_code,
        extra={"request_id": request_id, "method": request.method, "path": request.path,
               "status": response.status_code, "duration_ms": duration_ms},
    )
    return response


def _forget(_error: BaseException | None) -> None:
    # A server thread serves many requests: lines logged between them must not carry this id.
    state: _RequestLog | None = g.pop("request_log", None)
    if state is not None:
        reset_context(state.tokens)
