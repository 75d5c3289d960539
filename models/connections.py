"""The connection pool's liveness check: a pooled connection is checked before each use without a
round trip to PostgreSQL.

``pool_pre_ping`` sends ``SELECT 1`` at every checkout, one round trip of every request's three
or four (issue 18). What it catches is a connection the server has closed: a restart, a
terminated backend, an idle timeout. PostgreSQL says goodbye before it closes one (a FATAL error
message, then the TCP FIN), and an idle connection in our pools receives nothing else unasked
(none LISTENs), so the socket having anything to read is the sign. Such a connection is
discarded and the pool hands out another one, as after a failed ping. A server that vanished
without closing its sockets (a host powered off) passes this check as it would stall a ping:
the query's own timeouts handle that case, as before.
"""
from __future__ import annotations

import select

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

from models import db


def init_connection_checks(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            event.listen(engine, "checkout", _discard_if_closed_by_server)


def _discard_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    if closed_by_server(dbapi_connection):
        raise DisconnectionError("the server closed this pooled connection")  # the pool takes another


def closed_by_server(dbapi_connection) -> bool:
    """True when the driver knows the connection is closed, or when an idle connection's socket
    has input waiting: the server's farewell, or its end of file."""
    if dbapi_connection.closed:
        return True
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True
