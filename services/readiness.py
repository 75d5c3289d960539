"""Can this process serve? Each dependency checked on its own, with a short timeout."""
from __future__ import annotations

import time
from typing import Callable

from flask import current_app
from sqlalchemy import text

from models import db
from services import broker

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


def _broker() -> dict:
    """Every node of the cluster at once; ready while any accepts a connection (the app fails
    over to it), and each node's answer shown, so a node down is visible before the last one."""
    nodes = broker.reachable_nodes(current_app.config, CHECK_TIMEOUT_SECONDS)
    latencies = [node["latency_ms"] for node in nodes.values() if node["ok"]]
    if not latencies:
        errors = "; ".join(f"{name}: {node['error']}" for name, node in nodes.items())
        return {"ok": False, "error": f"no broker node answered ({errors})"[:500], "nodes": nodes}
    return {"ok": True, "latency_ms": min(latencies), "nodes": nodes}


def _llm() -> None:
    from services.analysis.llm import LLMAnalyzer, LLMSettings

    analyzer = LLMAnalyzer(LLMSettings.from_config(current_app.config))
    analyzer.client.with_options(timeout=CHECK_TIMEOUT_SECONDS).models.list()


def readiness() -> tuple[bool, dict]:
    """``(ready, checks)``: the database and the broker always, the LLM endpoint when configured."""
    from services.analysis.analyzers import configured_analyzer_name

    checks = {"database": _timed(_database), "broker": _broker()}
    if configured_analyzer_name(current_app.config) == "llm":
        checks["llm"] = _timed(_llm)
    return all(check["ok"] for check in checks.values()), checks
