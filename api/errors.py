"""One JSON error shape for every failure: ``{code, status, message, errors?}``.

flask-smorest produces it for ``abort()`` and validation errors; this module makes JWT errors,
database errors, oversized bodies and unexpected exceptions use it too, and hides internals.
"""
from __future__ import annotations

import http
import logging

from amqp.exceptions import ConnectionError as AMQPConnectionError
from flask import Flask, jsonify
from flask_smorest import Api as SmorestApi
from kombu.exceptions import OperationalError as BrokerOperationalError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from models import db
from services.storage import StorageUnavailable

log = logging.getLogger(__name__)

INTERNAL_ERROR_MESSAGE = "An unexpected error occurred. It has been logged; please try again later."
# Shown instead of werkzeug's default 413 text, which talks about "the server" rather than the limit.
TOO_LARGE_MESSAGE = "The request body is larger than this endpoint accepts."


FOREIGN_KEY_VIOLATION = "23503"  # PostgreSQL's SQLSTATE


def error_response(code: int, message: str, *, errors: dict | None = None, headers: dict | None = None):
    payload = {"code": code, "status": http.HTTPStatus(code).phrase, "message": message}
    if errors:
        payload["errors"] = errors
    response = jsonify(payload)
    response.status_code = code
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class Api(SmorestApi):
    """flask-smorest's Api whose error bodies always carry a human-readable ``message``."""

    def handle_http_exception(self, error: HTTPException):
        payload, code, headers = super().handle_http_exception(error)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(sorted(error.valid_methods))  # RFC 9110 requires it on a 405
        if "message" not in payload:
            if code >= 500:
                payload["message"] = INTERNAL_ERROR_MESSAGE
            elif code == 413:
                payload["message"] = TOO_LARGE_MESSAGE
            elif code == 400 and payload.get("errors") == {"json": ["Invalid JSON body."]}:
                payload["message"] = "The request body is not valid UTF-8 JSON."
            elif code in (400, 422) and "errors" in payload:
                payload["message"] = "The request has invalid fields; see errors."
            else:
                payload["message"] = error.description or payload["status"]
        return payload, code, headers


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        # Constraints in the database are the last line of defence against concurrent writes
        # (two registrations of one email at once); the client gets a conflict, not a 500.
        db.session.rollback()
        log.info("integrity error: %s", error.orig)
        if getattr(error.orig, "pgcode", None) == FOREIGN_KEY_VIOLATION:
            return error_response(409, "Something this request refers to was deleted while it was being handled.")
        return error_response(409, "The request conflicts with data already stored.")

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        discard_session()
        log.error("database unavailable: %s", error.orig)
        return error_response(
            503, "The database is unavailable; please retry shortly.", headers={"Retry-After": "5"}
        )

    @app.errorhandler(BrokerOperationalError)
    @app.errorhandler(AMQPConnectionError)
    @app.errorhandler(ConnectionError)
    @app.errorhandler(TimeoutError)  # a broker node that stopped answering mid-request (io_timeout)
    def broker_unavailable(error: Exception):
        # Only operators' DLQ actions talk to the broker during a request (everything else goes
        # through the outbox): while it is down they get a clear "not now", never a hang or a 500.
        db.session.rollback()
        log.error("message broker unavailable: %s", error)
        return error_response(
            503, "The message broker is unavailable; please retry shortly.", headers={"Retry-After": "5"}
        )

    @app.errorhandler(StorageUnavailable)
    def storage_unavailable(error: StorageUnavailable):
        log.error("storage unavailable: %s", error)
        return error_response(
            503, "The stored file cannot be read right now; please retry shortly.", headers={"Retry-After": "30"}
        )

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        db.session.rollback()
        log.exception("database error")
        return error_response(500, INTERNAL_ERROR_MESSAGE)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        log.exception("unhandled exception")
        return error_response(500, INTERNAL_ERROR_MESSAGE)


def discard_session() -> None:
    """End the request's database session even when the database has gone away under it: the
    rollback on a dead connection raises, and from a teardown that would replace the answer
    already chosen (a 503, or the 201 of work committed just before) with a bare 500."""
    try:
        db.session.remove()
    except DBAPIError as exc:  # the pool has invalidated the dead connection already
        log.warning("database session discarded: %s", exc.orig)
        db.session.registry.clear()


def init_session_teardown(app: Flask) -> None:
    """Runs before Flask-SQLAlchemy's own teardown (teardowns run in reverse order), which then
    finds no session left to remove."""
    app.teardown_appcontext(lambda _exc: discard_session())
