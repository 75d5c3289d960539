"""The connection pool's liveness check: a pooled connection is checked before each use, without
a round trip to PostgreSQL unless something looks wrong.

``pool_pre_ping`` sends ``SELECT 1`` at every checkout, one round trip of every request's three
or four (issue 18). What it catches is a connection the server has closed: a restart, a
terminated backend, an idle timeout. PostgreSQL says goodbye before it closes one (a FATAL error
message, then the TCP FIN), and an idle connection in our pools is sent nothing unasked (none
LISTENs), so the socket having something to read is the sign. Only then is the connection
pinged as pool_pre_ping would, which tells a dead one (discarded: the pool hands out a fresh
one) from one that merely had something waiting (a notice, a TLS message: kept). A server that
vanished without closing its sockets (a host powered off) passes the check just as it would
stall a ping: nothing changes for that case.
"""
from __future__ import annotations

import select

import psycopg2
from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

from models import db


def init_connection_checks(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            event.listen(engine, "checkout", _discard_if_closed_by_server)


def _discard_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    if dbapi_connection.closed or (has_input_waiting(dbapi_connection) and not answers(dbapi_connection)):
        raise DisconnectionError("the server closed this pooled connection")  # the pool takes another


def has_input_waiting(dbapi_connection) -> bool:
    """True when an idle connection's socket has something to read: most often the server's
    farewell, or its end of file."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def answers(dbapi_connection) -> bool:
    """pool_pre_ping's ping: ``SELECT 1`` in autocommit mode, so that no transaction is left open."""
    autocommit = dbapi_connection.autocommit
    try:
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except psycopg2.Error:
        return False
    finally:
        if not dbapi_connection.closed:
            dbapi_connection.autocommit = autocommit
