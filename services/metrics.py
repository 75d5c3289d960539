"""Prometheus metrics for the API and the workers.

Process-local figures (request latency, task durations, retries, dead-letters, LLM tokens and
cost) are prometheus_client metrics; with several processes (gunicorn workers, a prefork pool)
set ``PROMETHEUS_MULTIPROC_DIR`` and they are summed across processes on scrape. System-wide
figures — jobs by kind and state, and the depth of every queue including the dead-letter queue
with the age of its oldest message (Flower's metrics have no queue depth) — are read at scrape
time from PostgreSQL and the RabbitMQ management API, cached for a few seconds.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from urllib.parse import quote, urlsplit

import requests
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

log = logging.getLogger(__name__)

HTTP_REQUEST_SECONDS = Histogram(
    "applytrack_http_request_duration_seconds", "API request latency", ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASK_SECONDS = Histogram(
    "applytrack_task_duration_seconds", "Time a task ran in a worker", ["task", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
)
TASK_RETRIES = Counter("applytrack_task_retries_total", "Transient failures scheduled for a retry", ["task"])
TASK_DEAD_LETTERS = Counter("applytrack_task_dead_letters_total", "Tasks rejected into the dead-letter queue",
                            ["task"])
LLM_TOKENS = Counter("applytrack_llm_tokens_total", "LLM tokens used", ["direction", "model"])
LLM_COST = Counter("applytrack_llm_cost_usd_total", "Estimated LLM cost in USD", ["model"])

CACHE_SECONDS = 5.0


def registry_for_scrape() -> CollectorRegistry:
    """This process's metrics, or every process's when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


class SystemCollector:
    """Jobs by kind and state, and queue depths, computed on scrape (cached briefly)."""

    def __init__(self, app) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._cached: tuple[float, list] = (0.0, [])

    def collect(self):
        with self._lock:
            stamp, families = self._cached
            if time.monotonic() - stamp > CACHE_SECONDS:
                families = self._gather()
                self._cached = (time.monotonic(), families)
        return iter(families)

    def _gather(self) -> list:
        families = []
        with self.app.app_context():
            try:
                families.extend(self._jobs())
            except Exception as exc:
                log.warning("metrics: jobs unavailable: %s", exc)
        try:
            families.extend(self._queues())
        except Exception as exc:
            log.warning("metrics: queue depths unavailable: %s", exc)
        return families

    def _jobs(self) -> list:
        from models import BackgroundJob, JobRescue, db

        gauge = GaugeMetricFamily("applytrack_jobs", "Background jobs by kind and state", labels=["kind", "state"])
        rows = db.session.execute(
            select(BackgroundJob.kind, BackgroundJob.state, func.count()).group_by(BackgroundJob.kind, BackgroundJob.state)
        )
        for kind, state, count in rows:
            gauge.add_metric([kind, state], count)
        # Every rescue is a bug (services/maintenance.rescue_stranded_jobs): alert on any increase.
        rescues = CounterMetricFamily("applytrack_job_rescues", "Stranded jobs the safety-net sweep settled",
                                      labels=["kind", "action"])
        for kind, action, count in db.session.execute(
            select(JobRescue.kind, JobRescue.action, func.count()).group_by(JobRescue.kind, JobRescue.action)
        ):
            rescues.add_metric([kind, action], count)
        db.session.remove()
        return [gauge, rescues]

    def _queues(self) -> list:
        import celeryconfig

        api, vhost, auth = management_api(self.app.config)
        depth = GaugeMetricFamily("applytrack_queue_messages", "Messages in a queue (ready + unacknowledged)",
                                  labels=["queue"])
        ready = GaugeMetricFamily("applytrack_queue_messages_ready", "Messages waiting for a consumer",
                                  labels=["queue"])
        consumers = GaugeMetricFamily("applytrack_queue_consumers", "Consumers of a queue", labels=["queue"])
        names = {celeryconfig.DEAD_LETTER_QUEUE.name, *(q.name for q in celeryconfig.task_queues)}
        for queue in requests.get(f"{api}/queues/{quote(vhost, safe='')}", auth=auth, timeout=3).json():
            if queue["name"] in names:
                depth.add_metric([queue["name"]], queue.get("messages", 0))
                ready.add_metric([queue["name"]], queue.get("messages_ready", 0))
                consumers.add_metric([queue["name"]], queue.get("consumers", 0))
        oldest = GaugeMetricFamily("applytrack_dead_letter_oldest_age_seconds",
                                   "Age of the oldest message in the dead-letter queue (0 when empty)")
        oldest.add_metric([], _oldest_dead_letter_age(api, vhost, auth, celeryconfig.DEAD_LETTER_QUEUE.name))
        return [depth, ready, consumers, oldest]


def management_api(config) -> tuple[str, str, tuple[str, str]]:
    """The management API URL, vhost and credentials matching BROKER_URL."""
    broker = urlsplit(config["BROKER_URL"])
    vhost = broker.path[1:] or "/"
    api = config.get("RABBITMQ_MANAGEMENT_URL") or f"http://{broker.hostname or '127.0.0.1'}:15672/api"
    return api.rstrip("/"), vhost, (broker.username or "guest", broker.password or "guest")


def _oldest_dead_letter_age(api: str, vhost: str, auth, queue: str) -> float:
    # The head of the queue is its oldest message; peek at it and put it straight back.
    body = {"count": 1, "ackmode": "reject_requeue_true", "encoding": "auto", "truncate": 1000}
    messages = requests.post(f"{api}/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}/get",
                             json=body, auth=auth, timeout=3).json()
    if not messages:
        return 0.0
    deaths = (messages[0].get("properties", {}).get("headers") or {}).get("x-death") or []
    moment = deaths[0].get("time") if deaths else None
    if not moment:
        return 0.0
    return max(0.0, time.time() - float(moment))


def exposition(app) -> bytes:
    registry = registry_for_scrape()
    collector = app.extensions.get("system_metrics")
    payload = generate_latest(registry)
    if collector is not None:
        extra = CollectorRegistry()
        extra.register(collector)
        payload += generate_latest(extra)
    return payload
