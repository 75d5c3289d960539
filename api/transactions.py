"""How a request uses the database: a request that only reads runs without a transaction.

Under READ COMMITTED, PostgreSQL's default and ours, every statement reads its own snapshot
whether or not it runs inside a transaction, so a GET's statements see the same data in
autocommit mode. What autocommit saves is the BEGIN psycopg2 sends before the first statement and
the ROLLBACK that ends the request: a round trip each, two of the five a read request made
(issue 18). Requests that write keep one transaction from their first statement to the commit.

The switch is psycopg2's ``autocommit`` attribute, as SQLAlchemy's own pre-ping does, and not the
AUTOCOMMIT isolation level: psycopg2 sends ``SET default_transaction_isolation`` to restore that
one when the connection goes back to the pool, a round trip again.
"""
from __future__ import annotations

from flask import Flask, has_request_context, request
from sqlalchemy import event

from models import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def read_without_transaction() -> None:
    """Before a request's first statement: a GET, HEAD or OPTIONS request's connection runs in
    autocommit mode. Called where every authenticated request begins (the login session
    lookup); once the request has run a statement, this does nothing."""
    if not (has_request_context() and request.method in READ_ONLY_METHODS):
        return
    session = db.session()
    if session.in_transaction():
        return
    dbapi_connection = session.connection().connection.dbapi_connection
    if dbapi_connection is not None:
        dbapi_connection.autocommit = True  # no statement has run: psycopg2 sends nothing


def init_read_transactions(app: Flask) -> None:
    """Every connection goes back to the pool in psycopg2's default mode, a transaction per unit
    of work, whoever borrows it next (a write request, a CLI command, a task in the same
    process)."""
    with app.app_context():
        for engine in db.engines.values():
            event.listen(engine, "checkin", _transactions_again)


def _transactions_again(dbapi_connection, _record) -> None:
    if dbapi_connection is not None and not dbapi_connection.closed:
        dbapi_connection.autocommit = False
