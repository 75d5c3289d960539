"""Each user's daily LLM budget (``LLM_DAILY_BUDGET_USD`` per UTC day; 0 = unlimited).

Spend is counted in the worker, once per LLM call, as soon as the endpoint has answered — the
moment the money is spent — into one shared counter per user and UTC day (micro-dollars, in the
rate-limit Redis, kept two days). Counting calls rather than stored results means:

- a task retried after a 429, 5xx or timeout counts only the calls that were answered (an error
  is not billed), and its retry counts the calls it makes again;
- an answer thrown away as invalid and asked for again counts both calls (both were billed),
  also when the analysis then fails;
- a worker killed between the call and the commit is redelivered and calls again: both count;
- a redelivered message whose job already succeeded does not run, so nothing counts twice.

The request path reads the counter once (one Redis GET) and only for an LLM analysis with a
budget set; the worker reads it again before calling the LLM, so work queued before the budget
was reached stops there too. Overshoot is bounded by the calls in flight when it is reached.
If Redis is down, analyses are let through and their spend is logged as not counted.
"""
from __future__ import annotations

import logging
import math
import uuid
from datetime import datetime, time, timedelta, timezone
from decimal import ROUND_CEILING, Decimal
from functools import partial
from typing import Callable

from flask import current_app

from services import shared_store
from services.jobs import PermanentFailure

log = logging.getLogger(__name__)

MICROS = Decimal(1_000_000)
KEEP_SECONDS = 2 * 24 * 3600
BUDGET_SPENT = "daily_budget_spent"


def budget() -> Decimal | None:
    """Today's budget per user in USD, or None when unlimited."""
    value = Decimal(str(current_app.config["LLM_DAILY_BUDGET_USD"]))
    return value if value > 0 else None


def resets_at(now: datetime | None = None) -> datetime:
    now = now or datetime.now(timezone.utc)
    return datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=timezone.utc)


def _counter(user_id: uuid.UUID, now: datetime | None = None) -> str:
    day = (now or datetime.now(timezone.utc)).date().isoformat()
    return shared_store.key("llm-spend", day, user_id)


def spent_today(user_id: uuid.UUID) -> Decimal:
    """USD counted today; raises shared_store.Unavailable."""
    micros = shared_store.call(shared_store.storage().get, _counter(user_id))
    return Decimal(micros) / MICROS


def refusal(user_id: uuid.UUID, analyzer: str) -> tuple[str, int] | None:
    """``(message, retry_after_seconds)`` when a new ``analyzer`` analysis must wait for
    tomorrow's budget, else None. Costs one GET, only for the LLM with a budget set."""
    limit = budget()
    if analyzer != "llm" or limit is None:
        return None
    try:
        spent = spent_today(user_id)
    except shared_store.Unavailable:
        return None  # cannot tell: let it through (logged by the store)
    if spent < limit:
        return None
    now = datetime.now(timezone.utc)
    reset = resets_at(now)
    return (f"Your daily analysis budget of {usd(limit)} is spent ({usd(spent)} today); it resets at "
            f"{reset:%Y-%m-%d %H:%M} UTC.", max(1, math.ceil((reset - now).total_seconds())))


def meter(user_id: uuid.UUID, analyzer: str) -> Callable[[Decimal], None] | None:
    """For the worker, just before it calls the LLM: PermanentFailure when the user's budget is
    already spent today, else the callback that counts each answered call's cost (None for
    analyzers that cost nothing)."""
    if analyzer != "llm":
        return None
    refused = refusal(user_id, analyzer)
    if refused is not None:
        raise PermanentFailure(BUDGET_SPENT, f"{refused[0]} Ask for this analysis again after the reset.")
    return partial(record, user_id)


def record(user_id: uuid.UUID, cost_usd: Decimal) -> None:
    """Add one LLM call's cost to the user's spend today (rounded up to a micro-dollar)."""
    micros = int((cost_usd * MICROS).to_integral_value(ROUND_CEILING))
    if micros <= 0:
        return
    try:
        shared_store.call(shared_store.storage().incr, _counter(user_id), KEEP_SECONDS, micros)
    except shared_store.Unavailable:
        log.error("LLM spend of %s USD for user %s not counted: the shared store is down", cost_usd, user_id)


def status(user_id: uuid.UUID) -> dict:
    """What the user can see: budget (None = unlimited), spent today (None if unknown now), reset."""
    try:
        spent = spent_today(user_id)
    except shared_store.Unavailable:
        spent = None
    return {"budget_usd": budget(), "spent_usd": spent, "resets_at": resets_at()}


def usd(value: Decimal) -> str:
    return f"${value:.2f}" if value >= Decimal("0.01") else f"${value.normalize():f}"
