"""Exactly one periodic scheduler, however many are started: a PostgreSQL session lock.

The lock lives as long as its connection. The holder watches that connection and exits if it
is lost (the database restarted, the network split), because by then another copy may hold
the lock; a standby polls until it gets it.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable

import psycopg2
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

LOCK_KEY = 0x4150_5452_4245_4154 & 0x7FFF_FFFF_FFFF_FFFF  # "APTRBEAT", as a bigint
STANDBY_POLL_SECONDS = 5.0
WATCH_SECONDS = 5.0


def hold_scheduler_lock(database_url: str, *, announce: Callable[[str], None] = print,
                        poll_seconds: float = STANDBY_POLL_SECONDS) -> psycopg2.extensions.connection:
    """Block until this process holds the scheduler lock; returns the connection holding it."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    waiting_said = False
    while True:
        try:
            connection = psycopg2.connect(url, connect_timeout=5)
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
                if cursor.fetchone()[0]:
                    announce("holding the scheduler lock: this beat schedules")
                    threading.Thread(target=_watch, args=(connection,), daemon=True, name="beat-lock").start()
                    return connection
            connection.close()
        except psycopg2.Error as exc:
            log.warning("scheduler lock: database unavailable (%s)", exc)
        if not waiting_said:
            announce("another beat holds the scheduler lock: standing by")
            waiting_said = True
        time.sleep(poll_seconds)


def _watch(connection) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except psycopg2.Error:
            log.error("scheduler lock lost with its database connection; exiting so a standby takes over")
            os._exit(3)
