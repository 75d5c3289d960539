"""Counters that every API and worker process shares: flask-limiter's storage (Redis at
``RATE_LIMIT_STORAGE_URL``), reused for the per-user analysis rate limit and the daily LLM spend.

Redis being down must not turn users away or stop workers: a call that fails marks the store
down for a few seconds (so a request does not wait on a dead socket each time) and the caller
gets ``Unavailable`` and decides how to carry on (count in memory, or let the work through).
"""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app
from flask_limiter import Limiter
from limits.storage import Storage

log = logging.getLogger(__name__)

RETRY_DOWN_STORE_SECONDS = 5.0

_down_until = 0.0
_down_lock = threading.Lock()


class Unavailable(Exception):
    """The shared store cannot answer now."""


def limiter() -> Limiter:
    (the_limiter,) = current_app.extensions["limiter"]
    return the_limiter


def storage() -> Storage:
    return limiter().storage


def key(*parts: object) -> str:
    """A key in this deployment's namespace (the prefix the rate limits use)."""
    return "/".join((current_app.config["RATELIMIT_KEY_PREFIX"], *map(str, parts)))


def call(function, *args, **kwargs):
    """``function(*args, **kwargs)`` against the store, or Unavailable while it is down."""
    global _down_until
    if time.monotonic() < _down_until:
        raise Unavailable("shared counter store marked down")
    try:
        return function(*args, **kwargs)
    except Exception as exc:  # redis raises its own ConnectionError/TimeoutError family
        with _down_lock:
            _down_until = time.monotonic() + RETRY_DOWN_STORE_SECONDS
        log.warning("shared counter store unavailable: %s: %s", type(exc).__name__, exc)
        raise Unavailable(str(exc)) from exc
