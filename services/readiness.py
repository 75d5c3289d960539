"""Can this process serve? Each dependency checked on its own, with a short timeout."""
from __future__ import annotations

import time
from typing import Callable

from flask import current_app
from sqlalchemy import text

from models import db

CHECK_TIMEOUT_SECONDS = 3


def _timed(check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # a readiness probe reports failures, it does not raise them
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}",
                "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def _database() -> None:
    with db.engine.connect() as connection:
        connection.execute(text(f"SET LOCAL statement_timeout = {CHECK_TIMEOUT_SECONDS * 1000}"))
        connection.execute(text("SELECT 1"))


def _broker() -> None:
    celery = current_app.extensions["celery"]
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)


def _llm() -> None:
    from services.analysis.llm import LLMAnalyzer, LLMSettings

    analyzer = LLMAnalyzer(LLMSettings.from_config(current_app.config))
    analyzer.client.with_options(timeout=CHECK_TIMEOUT_SECONDS).models.list()


def readiness() -> tuple[bool, dict]:
    """``(ready, checks)``: the database and the broker always, the LLM endpoint when configured."""
    from services.analysis.analyzers import configured_analyzer_name

    checks = {"database": _timed(_database), "broker": _timed(_broker)}
    if configured_analyzer_name(current_app.config) == "llm":
        checks["llm"] = _timed(_llm)
    return all(check["ok"] for check in checks.values()), checks
