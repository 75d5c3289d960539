"""JSON logs for the API and the workers, stamped with the request, task and job they belong to.

Every process (gunicorn, the relay, both workers) calls ``configure_logging`` once: one stream
handler on the root logger writes one JSON object per line. The ids of the work in progress live
in context variables; a filter on that handler copies them onto every record it writes, so the
lines of third-party loggers (SQLAlchemy, Celery, pdfminer) carry them as well as our own.

Context variables rather than thread-locals: a gunicorn thread serves one request at a time, a
threads-pool worker runs one task per thread, and both reset what they set when they finish.
"""
from __future__ import annotations

import contextvars
import logging
from contextlib import contextmanager
from typing import Iterator

from pythonjsonlogger.json import JsonFormatter

# The ids stamped on every line, in this order after level, logger and message.
CONTEXT_FIELDS = ("request_id", "task_id", "job_id")
HANDLER_NAME = "applytrack-json"
# Loggers that are too chatty at the app's level; their errors still show.
QUIET_LOGGERS = {"pdfminer": logging.ERROR}

_context: dict[str, contextvars.ContextVar[str | None]] = {
    field: contextvars.ContextVar(field, default=None) for field in CONTEXT_FIELDS
}

ContextTokens = tuple[tuple[contextvars.ContextVar[str | None], contextvars.Token], ...]


def configure_logging(level: str) -> logging.Handler:
    """Send every log line to stderr as JSON at ``level`` and return the handler.

    Idempotent: a second call (a worker's ``setup_logging`` signal after ``create_app``, a test
    building many apps) changes the level but never adds a second handler. Handlers that others
    put on the root logger (pytest's capture) are left alone.
    """
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.name == HANDLER_NAME), None)
    if handler is None:
        handler = _json_handler()
        root.addHandler(handler)
    root.setLevel(level)
    for name, quiet_level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet_level)
    return handler


def _json_handler() -> logging.Handler:
    handler = logging.StreamHandler()
    handler.name = HANDLER_NAME
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter(
            ["levelname", "name", "message", *CONTEXT_FIELDS],
            rename_fields={"levelname": "level", "name": "logger"},
            # A timezone-aware UTC datetime, serialised as ISO 8601 ("...+00:00").
            timestamp=True,
        )
    )
    return handler


class ContextFilter(logging.Filter):
    """Stamps each record with the ids in context; never drops a record.

    A value passed explicitly (``extra={"job_id": ...}``) wins over the context. Celery's own
    lines about a task ("received", "succeeded", "retry") pass the task as ``extra={"data":
    {"id": ...}}`` and are logged outside the task's context ("received" in the prefork
    worker's main process before the task starts, the others after it returned), so their task
    id is taken from there; they carry no request id.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        for field, variable in _context.items():
            if getattr(record, field, None) is None:
                setattr(record, field, variable.get())
        if record.task_id is None:
            record.task_id = _celery_task_id(record)
        return True


def _celery_task_id(record: logging.LogRecord) -> str | None:
    data = getattr(record, "data", None)
    task_id = data.get("id") if isinstance(data, dict) else None
    return task_id if isinstance(task_id, str) else None


def bind_context(**ids: str | None) -> ContextTokens:
    """Set some of ``request_id``, ``task_id``, ``job_id`` for the current context and return
    what ``reset_context`` needs to put the previous values back. Unknown names are an error."""
    unknown = set(ids) - set(CONTEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown log context fields: {', '.join(sorted(unknown))}")
    return tuple((_context[field], _context[field].set(value)) for field, value in ids.items())


def reset_context(tokens: ContextTokens) -> None:
    """Undo one ``bind_context``, in the same context it was made in."""
    for variable, token in reversed(tokens):
        variable.reset(token)


@contextmanager
def log_context(**ids: str | None) -> Iterator[None]:
    """``bind_context`` for the duration of a block, reset however the block ends."""
    tokens = bind_context(**ids)
    try:
        yield
    finally:
        reset_context(tokens)


def context_value(field: str) -> str | None:
    """The current value of one of ``CONTEXT_FIELDS`` (None when unset)."""
    return _context[field].get()
