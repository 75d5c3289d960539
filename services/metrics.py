"""Prometheus metrics for the API and the workers.

Process-local figures (request latency, task durations, retries, dead-letters, LLM tokens and
cost) are prometheus_client metrics; with several processes (gunicorn workers, a prefork pool)
set ``PROMETHEUS_MULTIPROC_DIR`` and they are summed across processes on scrape. System-wide
figures — jobs by kind and state, outbox lag, jobs running past their time limit, and for every
queue including the dead-letter queue its depth, consumers, acks and the dead letters a quorum
queue holds back (Flower's metrics have none of these), with the age of the oldest dead letter —
are read at scrape time from PostgreSQL and the RabbitMQ management API, cached for a few
seconds. ops/prometheus has the alert rules over them, ops/grafana the dashboard.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from services import broker

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
SUPERSEDED_OUTCOMES = Counter(
    "applytrack_job_outcomes_superseded_total",
    "Attempts whose outcome was discarded because the job was claimed again since (fencing token): a worker "
    "cut off from the broker whose message ran elsewhere meanwhile", ["kind"])
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
        from models import db

        families = []
        with self.app.app_context():
            for part in (self._jobs, self._lag):
                try:
                    families.extend(part())
                except Exception as exc:
                    log.warning("metrics: %s unavailable: %s", part.__name__.strip("_"), exc)
                finally:
                    db.session.remove()
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
        return [gauge, rescues]

    def _lag(self) -> list:
        from models import BackgroundJob, JobState, Lane, db
        from services.maintenance import stuck_cutoff
        from services.outbox import _unpublished

        # Publishable since its last change (created, released from waiting, requeued,
        # replayed) or since its retry fell due, whichever is later.
        since = func.greatest(BackgroundJob.updated_at, BackgroundJob.next_attempt_at)
        outbox = GaugeMetricFamily(
            "applytrack_outbox_oldest_unpublished_age_seconds",
            "Seconds the oldest job the relay should publish now has waited (0 when none); bulk jobs "
            "wait here by design while their queue is full", labels=["lane"])
        for lane in Lane:
            age = db.session.scalar(select(func.extract("epoch", func.now() - func.min(since)))
                                    .where(*_unpublished(lane.value)))
            outbox.add_metric([lane.value], max(0.0, float(age or 0)))
        past_limit = GaugeMetricFamily(
            "applytrack_jobs_running_past_limit",
            "Jobs running longer than any task may (the cutoff of the stuck-jobs sweep)")
        past_limit.add_metric([], db.session.scalar(
            select(func.count()).select_from(BackgroundJob)
            .where(BackgroundJob.state == JobState.RUNNING.value,
                   BackgroundJob.started_at < stuck_cutoff(self.app.config))))
        return [outbox, past_limit]

    def _queues(self) -> list:
        import celeryconfig

        families = {
            "messages": GaugeMetricFamily("applytrack_queue_messages", "Messages in a queue (ready + unacknowledged)",
                                          labels=["queue"]),
            "ready": GaugeMetricFamily("applytrack_queue_messages_ready", "Messages waiting for a consumer",
                                       labels=["queue"]),
            "dlx": GaugeMetricFamily(
                "applytrack_queue_messages_dlx", "Dead letters a quorum queue holds because their dead-letter "
                "target did not route them (0 for a classic queue): stuck until the target routes", labels=["queue"]),
            "consumers": GaugeMetricFamily("applytrack_queue_consumers", "Consumers of a queue", labels=["queue"]),
            "acks": CounterMetricFamily("applytrack_queue_acks", "Messages acknowledged by a queue's consumers "
                                        "(RabbitMQ's count: restarts at 0 with the broker)", labels=["queue"]),
        }
        replicas = {
            "members": GaugeMetricFamily(
                "applytrack_queue_members", "Nodes holding a replica of a quorum queue (below min(3, cluster "
                "nodes): a lost node can lose its messages)", labels=["queue"]),
            "online": GaugeMetricFamily("applytrack_queue_members_online", "Replicas of a quorum queue reachable now "
                                        "(a majority of the members serves the queue)", labels=["queue"]),
        }
        leader = GaugeMetricFamily("applytrack_queue_leader", "1 for the node that leads a quorum queue",
                                   labels=["queue", "node"])
        for queue in queue_stats(self.app.config):
            if queue.declared:
                for field, family in families.items():
                    family.add_metric([queue.name], getattr(queue, field))
                if queue.members:
                    for field, family in replicas.items():
                        family.add_metric([queue.name], len(getattr(queue, field)))
                if queue.leader:
                    leader.add_metric([queue.name, queue.leader], 1)
        nodes = cluster_nodes(self.app.config)
        cluster = GaugeMetricFamily("applytrack_broker_cluster_nodes", "Nodes of the RabbitMQ cluster, by whether "
                                    "they run (as the first node that answers sees them)", labels=["running"])
        for running in (True, False):
            cluster.add_metric([str(running).lower()], sum(1 for node in nodes if bool(node.get("running")) is running))
        partitions = GaugeMetricFamily("applytrack_broker_partitioned_nodes",
                                       "Nodes that see a network partition (RabbitMQ's own detection)")
        partitions.add_metric([], sum(1 for node in nodes if node.get("partitions")))
        oldest = GaugeMetricFamily("applytrack_dead_letter_oldest_age_seconds",
                                   "Age of the oldest message in the dead-letter queue (0 when empty)")
        oldest.add_metric([], _oldest_dead_letter_age(self.app.config, celeryconfig.DEAD_LETTER_QUEUE.name))
        return [*families.values(), *replicas.values(), leader, cluster, partitions, oldest]


@dataclass(frozen=True)
class QueueStats:
    name: str
    declared: bool  # False: the broker has no such queue (not declared yet, or deleted)
    ready: int = 0
    unacked: int = 0
    dlx: int = 0
    consumers: int = 0
    acks: int = 0
    members: tuple[str, ...] = ()  # quorum queues: the nodes holding a replica
    online: tuple[str, ...] = ()  # ... of which these are reachable now
    leader: str | None = None

    @property
    def messages(self) -> int:
        return self.ready + self.unacked


def app_queues() -> list[str]:
    """The work queues and the dead-letter queue, as celeryconfig names them."""
    import celeryconfig

    return [*(q.name for q in celeryconfig.task_queues), celeryconfig.DEAD_LETTER_QUEUE.name]


def queue_stats(config) -> list[QueueStats]:
    """Every queue of the app as RabbitMQ's management API counts it (one request, to the first
    node that answers). Its figures lag the broker by up to the management stats interval (5 s)."""
    _endpoint, response = broker.management_request(config, "GET", "/queues/{vhost}", params={
        "columns": "name,type,messages_ready,messages_unacknowledged,messages_dlx,consumers,message_stats.ack,"
                   "members,online,leader"})
    found = {queue["name"]: queue for queue in response.json()}
    stats = []
    for name in app_queues():
        queue = found.get(name)
        if queue is None:
            stats.append(QueueStats(name, declared=False))
            continue
        # A field is absent until the broker first reports it (and messages_dlx on classic queues).
        stats.append(QueueStats(name, declared=True, ready=queue.get("messages_ready") or 0,
                                unacked=queue.get("messages_unacknowledged") or 0,
                                dlx=queue.get("messages_dlx") or 0, consumers=queue.get("consumers") or 0,
                                acks=(queue.get("message_stats") or {}).get("ack") or 0,
                                members=tuple(queue.get("members") or ()), online=tuple(queue.get("online") or ()),
                                leader=queue.get("leader")))
    return stats


def cluster_nodes(config) -> list[dict]:
    """The broker's nodes as the first answering node sees them: name, running, partitions."""
    _endpoint, response = broker.management_request(config, "GET", "/nodes",
                                                    params={"columns": "name,running,partitions"})
    return response.json()


def _oldest_dead_letter_age(config, queue: str) -> float:
    # The head of the queue is its oldest message; peek at it and put it straight back.
    body = {"count": 1, "ackmode": "reject_requeue_true", "encoding": "auto", "truncate": 1000}
    _endpoint, response = broker.management_request(config, "POST", f"/queues/{{vhost}}/{quote(queue, safe='')}/get",
                                                     json=body)
    messages = response.json()
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
