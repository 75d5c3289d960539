"""Every Celery setting, shared by the API (which publishes) and the workers (which consume).

Reliability choices, with the reasons in ../shared/QUEUE.md:
- publisher confirms on every publish (``confirm_publish``): a publish returns only once the
  broker has the message;
- late acks + reject (not ack) on failure: a message leaves the queue only when its work is
  done, and a final failure is dead-lettered by the broker, not dropped;
- a lost worker's message is redelivered (``task_reject_on_worker_lost``); the job record counts
  attempts in the database and dead-letters a message that keeps killing workers;
- prefetch 1: a worker reserves one message per process, so a slow task never holds others;
- classic durable queues with a dead-letter exchange, declared in code (tasks/topology.py);
  retries use per-message countdowns, which quorum queues would need a topic exchange for.
"""
import os

from kombu import Exchange, Queue

broker_url = os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
broker_transport_options = {"confirm_publish": True}
broker_connection_retry_on_startup = True
broker_connection_timeout = 4
broker_heartbeat = 30
# A publish while the broker is down fails fast instead of hanging the caller; the outbox keeps
# the work and publishes it when the broker is back.
task_publish_retry = True
task_publish_retry_policy = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}
broker_pool_limit = 4

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
# Job state lives in PostgreSQL (models/background_job.py); no result backend.
task_ignore_result = True
result_backend = None

task_acks_late = True
task_acks_on_failure_or_timeout = False
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
worker_cancel_long_running_tasks_on_connection_loss = True
worker_send_task_events = True
task_send_sent_event = True
worker_hijack_root_logger = False

EXCHANGE = Exchange("applytrack", type="direct", durable=True)
DEAD_LETTER_EXCHANGE = Exchange("applytrack.dlx", type="fanout", durable=True)
DEAD_LETTER_QUEUE = Queue(
    "applytrack.dead-letter", DEAD_LETTER_EXCHANGE, routing_key="", durable=True
)


def _work_queue(name: str) -> Queue:
    return Queue(
        name,
        EXCHANGE,
        routing_key=name,
        durable=True,
        queue_arguments={"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name},
    )


# One queue per kind of work, so CPU-bound parsing and IO-bound LLM calls scale separately.
# The dead-letter queue is deliberately absent: no worker consumes it.
task_queues = (_work_queue("extraction"), _work_queue("analysis"))
task_default_queue = "extraction"
task_default_exchange = EXCHANGE.name
task_default_routing_key = "extraction"
task_create_missing_queues = False
task_routes = {
    "resumes.*": {"queue": "extraction", "routing_key": "extraction"},
    "analysis.*": {"queue": "analysis", "routing_key": "analysis"},
}

# Extraction runs hostile files through a PDF parser: bound time and memory per child.
worker_max_memory_per_child = int(os.environ.get("WORKER_MAX_MEMORY_KIB", 512 * 1024))
