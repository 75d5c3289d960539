"""Celery wiring: one Celery app per Flask app, configured from celeryconfig.py.

Tasks run inside the Flask app context (so they use the same config and database session as the
API); forked worker children drop the parent's connection pool; the queues, the dead-letter
exchange and the dead-letter queue are declared before any worker consumes. Workers log through
the same JSON handler as the API (services/logging_setup.py) instead of Celery's own handlers.
"""
from __future__ import annotations

import logging

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_process_init, worker_ready
from flask import Flask

from models import db
from services.logging_setup import configure_logging
from tasks.base import AppContextTask

log = logging.getLogger(__name__)

TASK_MODULES = ["tasks.resumes", "tasks.analysis", "tasks.bulk", "tasks.maintenance"]


def celery_init_app(app: Flask) -> Celery:
    celery = Celery(app.import_name, task_cls=AppContextTask, include=TASK_MODULES)
    celery.config_from_object("celeryconfig")
    celery.conf.broker_url = app.config["BROKER_URL"]
    extraction_limit = app.config["EXTRACTION_TIME_LIMIT"]
    celery.conf.task_annotations = {
        # The soft limit becomes a classified "too large" failure; the hard limit (for a parser
        # stuck in C code) kills the child, and the attempt count bounds the redeliveries.
        "resumes.extract": {"soft_time_limit": extraction_limit, "time_limit": extraction_limit + 30},
    }
    celery.flask_app = app
    app.extensions["celery"] = celery
    _connect_worker_signals(celery)
    return celery


def _connect_worker_signals(celery: Celery) -> None:
    app = celery.flask_app

    @setup_logging.connect(weak=False)
    def json_logging(**_kwargs) -> None:
        # Having a receiver at all stops Celery from installing its own handlers and formats
        # (and the worker's -l option): its lines then go through our JSON handler, at the
        # app's LOG_LEVEL, like every other process's.
        configure_logging(app.config["LOG_LEVEL"])

    @worker_init.connect(weak=False)
    def declare_before_consuming(sender=None, **_kwargs) -> None:
        from tasks.topology import declare_topology

        declare_topology(celery)

    @worker_ready.connect(weak=False)
    def serve_metrics(**_kwargs) -> None:
        # The main process serves every pool process's metrics (PROMETHEUS_MULTIPROC_DIR).
        port = app.config["WORKER_METRICS_PORT"]
        if port:
            from prometheus_client import start_http_server

            from services.metrics import registry_for_scrape

            start_http_server(port, addr=app.config["WORKER_METRICS_BIND"], registry=registry_for_scrape())
            log.info("worker metrics on %s:%d/metrics", app.config["WORKER_METRICS_BIND"], port)

    @worker_process_init.connect(weak=False)
    def fresh_pool_in_child(**_kwargs) -> None:
        # A forked child must never reuse the parent's sockets to PostgreSQL.
        with app.app_context():
            db.engine.dispose(close=False)
        _limit_child_memory(app.config["WORKER_MEMORY_LIMIT_MB"])


def _limit_child_memory(limit_mb: int) -> None:
    """Cap a pool child's address space, so a hostile file makes the parser raise MemoryError
    (a classified failure) instead of exhausting the host."""
    if limit_mb:
        import resource

        limit = limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
