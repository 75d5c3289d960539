"""``GET /metrics`` (Prometheus text format) and request-latency measurement for every request.

Keep /metrics on the internal network: like Flower's, it has no authentication.
"""
from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST

from services.metrics import HTTP_REQUEST_SECONDS, SystemCollector, exposition


def init_metrics(app: Flask) -> None:
    app.extensions["system_metrics"] = SystemCollector(app)

    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def observe(response):
        started = g.pop("request_started", None)
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            HTTP_REQUEST_SECONDS.labels(request.method, route, str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(exposition(app), mimetype=CONTENT_TYPE_LATEST)
