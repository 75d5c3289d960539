"""How requests use their database connections (issue 18: fewer round trips, no guarantee lost).
Read requests run without a transaction; write requests, and whatever borrows a connection after
a read, keep theirs. A pooled connection the server has closed is replaced without a ping."""
from __future__ import annotations

import time

import psycopg2
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

from api import create_app
from models import JobListing, User, connections, db
from models.connections import answers as real_answers
from tests.conftest import Auth, make_test_env


@pytest.fixture
def one_connection_app(migrated_database):
    """An app whose pool holds a single connection: every request and every unit of work
    borrows the connection the one before it used."""
    app = create_app(make_test_env(), SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    yield app
    with app.app_context():
        db.session.remove()
        db.session.execute(db.text("DELETE FROM job_listings WHERE company = 'Rolled Back Ltd'"))
        db.session.commit()
        db.engine.dispose()


def _statements_with_their_mode(app):
    seen: list[tuple[str, bool]] = []

    def record(conn, _cursor, statement, *_args):
        seen.append((statement.split()[0].upper(), conn.connection.dbapi_connection.autocommit))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
    return seen


def test_a_read_runs_without_a_transaction_and_a_write_in_one(one_connection_app):
    client = one_connection_app.test_client()
    headers = Auth(client).headers()
    created = client.post("/api/jobs", json={"company": "Acme", "title": "Engineer", "description": "Python"},
                          headers=headers)
    assert created.status_code == 201
    seen = _statements_with_their_mode(one_connection_app)

    listed = client.get("/api/jobs", headers=headers)
    assert listed.status_code == 200 and listed.json[0]["company"] == "Acme"
    reads = list(seen)
    assert reads and all(autocommit for _, autocommit in reads), reads

    seen.clear()
    edited = client.patch(f"/api/jobs/{created.json['id']}", json={"title": "Staff Engineer"}, headers=headers)
    assert edited.status_code == 200
    assert any(kind == "UPDATE" for kind, _ in seen) and not any(autocommit for _, autocommit in seen), seen
    assert client.get(f"/api/jobs/{created.json['id']}", headers=headers).json["title"] == "Staff Engineer"


def test_work_after_a_read_on_the_same_connection_is_still_one_transaction(one_connection_app):
    """The connection a GET used in autocommit mode goes back to the pool in transaction mode:
    otherwise the next unit of work on it would commit each statement as it ran, and a rollback
    would undo nothing."""
    client = one_connection_app.test_client()
    headers = Auth(client).headers()
    assert client.get("/api/jobs", headers=headers).status_code == 200

    with one_connection_app.app_context():
        owner = db.session.scalar(select(User.id).limit(1))
        db.session.add(JobListing(user_id=owner, company="Rolled Back Ltd", title="Ghost", description="x"))
        db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(func.count()).where(JobListing.company == "Rolled Back Ltd")) == 0


def test_a_failed_read_leaves_no_transaction_open(one_connection_app):
    """A GET that ends in an error (another user's id, 404) hands back a clean connection: the
    next request on it works."""
    client = one_connection_app.test_client()
    alice, bob = Auth(client).headers(), Auth(client).headers()
    listing = client.post("/api/jobs", json={"company": "Acme", "title": "Engineer", "description": "Python"},
                          headers=alice).json
    assert client.get(f"/api/jobs/{listing['id']}", headers=bob).status_code == 404
    assert client.get(f"/api/jobs/{listing['id']}", headers=alice).status_code == 200
    assert client.post("/api/jobs", json={"company": "Beta", "title": "SRE", "description": "Go"},
                       headers=bob).status_code == 201


def _terminate(database_url: str, backend_pid: int) -> None:
    """What a PostgreSQL restart does to each connection: the server ends its backend."""
    url = make_url(database_url)
    killer = psycopg2.connect(host=url.host, port=url.port, user=url.username, dbname=url.database)
    killer.autocommit = True
    cursor = killer.cursor()
    cursor.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
    # pg_terminate_backend only signals: wait until the backend has exited (and so closed its
    # socket), as a restart has by the time the server accepts connections again.
    for _ in range(100):
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (backend_pid,))
        if cursor.fetchone()[0] == 0:
            break
        time.sleep(0.05)
    killer.close()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_pooled_connection_the_server_closed_is_replaced_before_a_request_uses_it(
        one_connection_app, migrated_database, method):
    """No ping is sent at checkout (one round trip per request saved); the connection's socket
    tells that the server closed it, and the request gets a fresh one instead of an error."""
    client = one_connection_app.test_client()
    headers = Auth(client).headers()
    with one_connection_app.app_context():
        backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()
    _terminate(migrated_database, backend)

    if method == "GET":
        response = client.get("/api/jobs", headers=headers)
        assert response.status_code == 200, response.json
    else:
        response = client.post("/api/jobs", json={"company": "Acme", "title": "Engineer", "description": "Python"},
                               headers=headers)
        assert response.status_code == 201, response.json
        assert client.get(f"/api/jobs/{response.json['id']}", headers=headers).status_code == 200
    with one_connection_app.app_context():
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar_one() != backend


def test_a_pooled_connection_with_input_waiting_but_alive_is_kept(one_connection_app, migrated_database, monkeypatch):
    """Something to read is not always a farewell (here a notification; with TLS, a session
    ticket): such a connection answers the ping and stays in the pool, no reconnect."""
    client = one_connection_app.test_client()
    headers = Auth(client).headers()
    with one_connection_app.app_context():
        backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        db.session.execute(text("LISTEN applytrack_test_wakeup"))
        db.session.commit()
        db.session.remove()
    url = make_url(migrated_database)
    notifier = psycopg2.connect(host=url.host, port=url.port, user=url.username, dbname=url.database)
    notifier.autocommit = True
    notifier.cursor().execute("NOTIFY applytrack_test_wakeup")
    notifier.close()
    time.sleep(0.2)  # the notification reaches the idle connection's socket
    pings = []
    monkeypatch.setattr(connections, "answers", lambda conn: pings.append(conn) or real_answers(conn))

    assert client.get("/api/jobs", headers=headers).status_code == 200
    with one_connection_app.app_context():
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar_one() == backend
        assert len(pings) == 1  # pinged once, because something was waiting; then kept
        db.session.execute(text("UNLISTEN *"))
        db.session.commit()
