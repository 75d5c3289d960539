"""Every Celery setting, shared by the API (which publishes) and the workers (which consume).

Reliability choices, with the reasons in ../shared/QUEUE.md:
- publisher confirms on every publish (``confirm_publish``): a publish returns only once the
  broker has the message;
- late acks + reject (not ack) on failure: a message leaves the queue only when its work is
  done, and a final failure is dead-lettered by the broker, not dropped;
- a lost worker's message is redelivered (``task_reject_on_worker_lost``); the job record counts
  attempts in the database and dead-letters a message that keeps killing workers;
- prefetch 1: a worker reserves one message per process, so a slow task never holds others;
- quorum queues with at-least-once dead-lettering and a delivery limit, declared in code
  (tasks/topology.py) from the one definition below, by publishers and workers alike;
- no countdowns: a retry waits in the outbox until due (tasks/base.py), so no message is held
  in a worker or a delayed exchange.
"""
import os

from kombu import Exchange, Queue

broker_url = os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/applytrack")
broker_transport_options = {"confirm_publish": True}
broker_connection_retry_on_startup = True
broker_connection_timeout = 4
# Short heartbeats bound how long a dead or wedged connection goes unnoticed (a cut-off worker's
# messages move to another in ~30 s). The stall the chaos suite once saw after a broker restart
# had another cause, fixed in tasks/consumer.py.
broker_heartbeat = 10
# A publish while the broker is down fails fast instead of hanging the caller; the outbox keeps
# the work and publishes it when the broker is back.
task_publish_retry = True
task_publish_retry_policy = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}
# Flower's inspect calls each hold a pooled connection while taking another from the same pool,
# up to 8 at once: a small pool deadlocks them (no worker ever shows up in Flower).
broker_pool_limit = 16

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
# Job state lives in PostgreSQL (models/background_job.py); no result backend.
task_ignore_result = True
result_backend = None

task_acks_late = True
task_acks_on_failure = False  # a failed task is rejected, so the broker dead-letters it
task_acks_on_timeout = False  # a hard time limit requeues; the job's attempt count bounds the loop
task_reject_on_worker_lost = True
# One message per pool process or thread. Two per thread for the analysis worker (so that a
# thread's next message waits for it instead of the ack's round trip) did not raise its rate:
# BENCHMARKS.md, "Analysis throughput", issue 18.
worker_prefetch_multiplier = 1
worker_cancel_long_running_tasks_on_connection_loss = True
worker_send_task_events = True
task_send_sent_event = True
worker_hijack_root_logger = False
# Reconnects to a broker that went away at most RECONNECT_MAX_SECONDS apart (Celery's own
# consumer waits 2, 4, 6 … up to 30 s, idling that long after the broker is back).
worker_consumer = "tasks.consumer:Consumer"
# ... and never gives up: at 2 s apart, Celery's default of 100 attempts would stop a worker
# after a broker outage of three minutes.
broker_connection_max_retries = None

EXCHANGE = Exchange("applytrack", type="direct", durable=True)

# Quorum queues (Raft-replicated; ../shared/QUEUE.md): every work queue dead-letters
# at-least-once, which RabbitMQ honours only with reject-publish overflow (any other overflow
# silently falls back to at-most-once), and bounds a poison message at the broker after
# DELIVERY_LIMIT redeliveries (3.10 has no default); the job's attempt count in the database
# (max TASK_MAX_RETRIES + 3) is the first bound, so the broker's must stay above it. A queue's
# type cannot change in place, so this generation has names of its own; the classic one it
# replaces is LegacyTopology below (`flask queues migrate` moves what it still holds).
DELIVERY_LIMIT = 20
EXTRACTION_QUEUE = "applytrack.extraction"
ANALYSIS_QUEUE = "applytrack.analysis"
BULK_ANALYSIS_QUEUE = "applytrack.analysis_bulk"
MAINTENANCE_QUEUE = "applytrack.maintenance"
DEAD_LETTER_EXCHANGE = Exchange("applytrack.dead-letters", type="fanout", durable=True)
DEAD_LETTER_QUEUE = Queue("applytrack.dead-letters", DEAD_LETTER_EXCHANGE, routing_key="", durable=True,
                          queue_arguments={"x-queue-type": "quorum"})


def _work_queue(name: str) -> Queue:
    return Queue(
        name,
        EXCHANGE,
        routing_key=name,
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",  # Celery must see it too, or it asks for a global QoS (540)
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
            "x-delivery-limit": DELIVERY_LIMIT,
        },
    )


# One queue per kind of work, so CPU-bound parsing and IO-bound LLM calls scale separately, and
# bulk re-analysis has a lane of its own (its own workers) so it never delays a user waiting on
# "analysis". The dead-letter queue is deliberately absent: no worker consumes it.
task_queues = (
    _work_queue(EXTRACTION_QUEUE),
    _work_queue(ANALYSIS_QUEUE),
    _work_queue(BULK_ANALYSIS_QUEUE),
    _work_queue(MAINTENANCE_QUEUE),
)
task_default_queue = EXTRACTION_QUEUE
task_default_exchange = EXCHANGE.name
task_default_routing_key = EXTRACTION_QUEUE
task_create_missing_queues = False
task_routes = {
    "resumes.*": {"queue": EXTRACTION_QUEUE, "routing_key": EXTRACTION_QUEUE},
    "analysis.*": {"queue": ANALYSIS_QUEUE, "routing_key": ANALYSIS_QUEUE},  # bulk jobs name their own
    "bulk.*": {"queue": BULK_ANALYSIS_QUEUE, "routing_key": BULK_ANALYSIS_QUEUE},
    "maintenance.*": {"queue": MAINTENANCE_QUEUE, "routing_key": MAINTENANCE_QUEUE},
}


_SUCCESSOR_DEAD_LETTER_QUEUE = DEAD_LETTER_QUEUE.name


class LegacyTopology:
    """The classic queues of the release before quorum queues, exactly as it declared them (a
    redeclaration with other arguments is refused), and where each one's messages go now."""

    DEAD_LETTER_EXCHANGE = Exchange("applytrack.dlx", type="fanout", durable=True)
    DEAD_LETTER_QUEUE = Queue("applytrack.dead-letter", DEAD_LETTER_EXCHANGE, routing_key="", durable=True)
    WORK_QUEUES = {
        legacy: Queue(legacy, EXCHANGE, routing_key=legacy, durable=True,
                      queue_arguments={"x-dead-letter-exchange": "applytrack.dlx"})
        for legacy in ("extraction", "analysis", "analysis_bulk", "maintenance")
    }
    SUCCESSORS = {"extraction": EXTRACTION_QUEUE, "analysis": ANALYSIS_QUEUE, "analysis_bulk": BULK_ANALYSIS_QUEUE,
                  "maintenance": MAINTENANCE_QUEUE, "applytrack.dead-letter": _SUCCESSOR_DEAD_LETTER_QUEUE}


# During the switch from the classic queues, workers also consume them (README, "Moving to
# quorum queues"): LEGACY_QUEUES=consume, then e.g. -Q applytrack.analysis,analysis.
if os.environ.get("LEGACY_QUEUES") == "consume":
    task_queues = (*task_queues, *LegacyTopology.WORK_QUEUES.values())


def _every(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        seconds = float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if seconds <= 0:
        raise ValueError(f"{name} must be > 0")
    return seconds


# Periodic maintenance (run by `flask beat`, which holds a database lock so that exactly one
# scheduler runs however many are started). Each run is recorded as a maintenance job.
beat_schedule = {
    name: {"task": "maintenance.run", "schedule": _every(variable, default), "kwargs": {"name": name}}
    for name, variable, default in (
        ("republish_unpublished", "SCHEDULE_REPUBLISH_SECONDS", 60),
        ("requeue_stuck_jobs", "SCHEDULE_STUCK_JOBS_SECONDS", 300),
        ("rescue_stranded_jobs", "SCHEDULE_RESCUE_SECONDS", 120),
        ("reconcile_dead_letters", "SCHEDULE_RECONCILE_DLQ_SECONDS", 300),
        ("purge_expired_sessions", "SCHEDULE_PURGE_SESSIONS_SECONDS", 3600),
        ("remove_orphan_files", "SCHEDULE_ORPHAN_FILES_SECONDS", 3600),
        ("flag_follow_ups", "SCHEDULE_FOLLOW_UPS_SECONDS", 3600),
        ("apply_retention", "SCHEDULE_RETENTION_SECONDS", 3600),
    )
}

# Extraction runs hostile files through a PDF parser: bound time and memory per child.
worker_max_memory_per_child = int(os.environ.get("WORKER_MAX_MEMORY_KIB", 512 * 1024))
