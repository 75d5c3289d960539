"""Celery wiring: one Celery app per Flask app, configured from celeryconfig.py.

Tasks run inside the Flask app context (so they use the same config and database session as the
API); forked worker children drop the parent's connection pool; the queues, the dead-letter
exchange and the dead-letter queue are declared before any worker consumes.
"""
from __future__ import annotations

import logging

from celery import Celery
from celery.signals import worker_init, worker_process_init
from flask import Flask

from models import db
from tasks.base import AppContextTask

log = logging.getLogger(__name__)

TASK_MODULES = ["tasks.resumes", "tasks.analysis"]


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

    @worker_init.connect(weak=False)
    def declare_before_consuming(sender=None, **_kwargs) -> None:
        from tasks.topology import declare_topology

        declare_topology(celery)

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
