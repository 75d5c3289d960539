"""Saying "not now" before queueing work nobody will see for an hour, or paying for it.

Limits on new analyses: the system's backlog (messages waiting in the broker's ``analysis``
queue, read with a passive declare and cached for a couple of seconds, so a request never scans
job rows for it), each user's own backlog (their unfinished analysis jobs: one indexed count),
each user's daily LLM budget (services/llm_budget.py: one GET, LLM only) and each user's rate of
new analyses (``ANALYSIS_RATE_LIMIT_PER_USER``, counted with flask-limiter in the shared Redis,
per process in memory while Redis is down). Only an analysis that would be created passes here:
asking again for an existing one is free. CRUD never waits on these limits: an application whose
analysis is refused is saved without it.
"""
from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import bindparam, func, select

import celeryconfig
from models import BackgroundJob, JobKind, JobState, Lane, db
from services import broker, llm_budget, shared_store

log = logging.getLogger(__name__)

UNFINISHED = (JobState.WAITING.value, JobState.QUEUED.value, JobState.RUNNING.value)


class Overloaded(Exception):
    def __init__(self, status: int, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class _DepthCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[str, tuple[float, int | None]] = {}

    def get(self, queue: str, ttl: float) -> int | None:
        with self.lock:
            stamp, depth = self.values.get(queue, (0.0, None))
            if time.monotonic() - stamp < ttl:
                return depth
            depth = _broker_depth(queue)
            self.values[queue] = (time.monotonic(), depth)
            return depth


_CACHE = _DepthCache()


def _broker_depth(queue: str) -> int | None:
    """Messages ready in ``queue``, or None when the broker cannot say (the outbox then keeps
    accepting work: a broker outage is not a reason to turn users away)."""
    try:
        with broker.connection_to_any_node(current_app.extensions["celery"], timeout=2) as connection:
            _name, messages, _consumers = connection.default_channel.queue_declare(queue=queue, passive=True)
            return messages
    except Exception as exc:
        log.warning("backlog of %s unknown: %s", queue, exc)
        return None


def queue_depth(queue: str) -> int | None:
    return _CACHE.get(queue, current_app.config["BACKLOG_CACHE_SECONDS"])


# Built once: every new analysis runs it (building a statement costs as much CPU as running it).
# The count stops at the limit: past it the answer is the same, and counting a big backlog row
# by row cost PostgreSQL 1.5 ms per request at a thousand unfinished jobs.
_USER_BACKLOG = select(func.count()).select_from(
    select(BackgroundJob.id).where(
        BackgroundJob.user_id == bindparam("user_id"), BackgroundJob.kind == JobKind.ANALYSIS.value,
        BackgroundJob.lane == Lane.INTERACTIVE.value,  # bulk has its own pace
        BackgroundJob.state.in_(UNFINISHED),
    ).limit(bindparam("limit")).subquery()
)


def check_analysis_capacity(user_id: uuid.UUID, analyzer: str) -> None:
    """Raise Overloaded (429 for the user's own backlog, budget or rate, 503 for the system's
    backlog) or return, having counted the new analysis against the user's rate limit."""
    config = current_app.config
    mine = db.session.scalar(_USER_BACKLOG, {"user_id": user_id, "limit": config["USER_MAX_ANALYSIS_BACKLOG"]})
    if mine >= config["USER_MAX_ANALYSIS_BACKLOG"]:
        raise Overloaded(
            429, f"You have {mine} analyses still waiting or running (the limit is "
                 f"{config['USER_MAX_ANALYSIS_BACKLOG']}); try again when some have finished.", retry_after=30)
    depth = queue_depth(celeryconfig.ANALYSIS_QUEUE)
    limit = config["ANALYSIS_MAX_BACKLOG"]
    if depth is not None and depth >= limit:
        # Rough time to drain: the waiting messages at the rate the pool usually manages.
        retry_after = max(5, math.ceil(depth / max(1.0, config["ANALYSIS_DRAIN_RATE"])))
        raise Overloaded(
            503, f"The analysis queue is full ({depth} waiting); your request was not queued. "
                 f"Try again in about {retry_after} seconds.", retry_after=retry_after)
    _check_budget(user_id, analyzer)
    count_against_rate_limit(user_id)  # last: a request refused for another reason is not counted


def admit_bulk_run(user_id: uuid.UUID, analyzer: str) -> None:
    """A bulk re-analysis run counts as one request against the user's rate limit and is refused
    once their LLM budget is spent (its analyses then stop at the worker's budget check)."""
    _check_budget(user_id, analyzer)
    count_against_rate_limit(user_id)


def _check_budget(user_id: uuid.UUID, analyzer: str) -> None:
    refused = llm_budget.refusal(user_id, analyzer)
    if refused is not None:
        raise Overloaded(429, *refused)


@lru_cache(maxsize=8)
def _rate_limits(text: str) -> list[RateLimitItem]:
    return parse_many(text)


# Used by this process alone while the shared store is down (as the login limits do).
_LOCAL_LIMITER = FixedWindowRateLimiter(MemoryStorage())


def count_against_rate_limit(user_id: uuid.UUID) -> None:
    """One more new analysis for ``user_id``; Overloaded (429 + Retry-After) past the limit."""
    config = current_app.config
    identifiers = (config["RATELIMIT_KEY_PREFIX"], f"user:{user_id}", "analysis")
    for item in _rate_limits(config["ANALYSIS_RATE_LIMIT_PER_USER"]):
        try:
            strategy = shared_store.limiter().limiter
            allowed = shared_store.call(strategy.hit, item, *identifiers)
        except shared_store.Unavailable:
            strategy = _LOCAL_LIMITER
            allowed = strategy.hit(item, *identifiers)
        if not allowed:
            retry_after = _seconds_to_reset(strategy, item, identifiers)
            raise Overloaded(
                429, f"Too many new analyses: the limit is {item.amount} per {_window(item)}. "
                     f"Try again in {retry_after} seconds.", retry_after=retry_after)


def _seconds_to_reset(strategy, item: RateLimitItem, identifiers: tuple[str, ...]) -> int:
    try:
        reset_time = shared_store.call(strategy.get_window_stats, item, *identifiers).reset_time
    except shared_store.Unavailable:
        return item.get_expiry()
    return max(1, math.ceil(reset_time - time.time()))


def _window(item: RateLimitItem) -> str:
    return item.GRANULARITY.name if item.multiples == 1 else f"{item.multiples} {item.GRANULARITY.name}s"


def bulk_allowance() -> int:
    """How many more bulk jobs the outbox may publish now: enough to keep the bulk queue at
    BULK_QUEUE_TARGET messages (0 when the broker cannot say: they wait, nothing is lost)."""
    depth = _broker_depth(celeryconfig.BULK_ANALYSIS_QUEUE)
    if depth is None:
        return 0
    return max(0, current_app.config["BULK_QUEUE_TARGET"] - depth)
