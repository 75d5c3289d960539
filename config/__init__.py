"""Settings, read from the environment only.

Every variable, its type and its default (the defaults work against this machine's local
PostgreSQL and RabbitMQ; production refuses to start without a real JWT secret):

==========================  ========  =====================================================
Variable                    Type      Default / meaning
==========================  ========  =====================================================
APP_ENV                     choice    ``development`` | ``production`` | ``testing``
DATABASE_URL                url       postgresql+psycopg2://postgres@127.0.0.1:5432/applytrack
BROKER_URL                  url list  amqp://guest:guest@127.0.0.1:5672/applytrack (its own vhost,
                                      created by scripts/ensure_services.sh). A RabbitMQ cluster:
                                      one URL per node, ";"-separated; every process fails over
                                      to the next node when one is down (README, "A RabbitMQ
                                      cluster")
RABBITMQ_MANAGEMENT_URL     url list  http://<each BROKER_URL host>:15672/api — queue figures for
                                      /metrics and GET /api/dlq/queues (BROKER_URL's login),
                                      from the first node that answers; ";"-separated
JWT_SECRET_KEY              str       required (>= 32 chars) in production; development keeps
                                      a random one in ``instance/dev-jwt-secret``
JWT_ACCESS_TOKEN_MINUTES    int       15
JWT_REFRESH_TOKEN_DAYS      int       30
MAX_JSON_BODY_BYTES         int       1048576 (1 MiB) — larger JSON bodies get 413
JOB_DESCRIPTION_MAX_CHARS   int       50000
PASSWORD_HASH_TIME_COST     int       3 (argon2id iterations)
PASSWORD_HASH_MEMORY_KIB    int       65536 (argon2id memory)
LOG_LEVEL                   choice    INFO
RATE_LIMIT_STORAGE_URL      url       redis://127.0.0.1:6379/0 — shared by every API process (rate
                                      limits) and worker (daily LLM spend)
RATE_LIMIT_KEY_PREFIX       str       applytrack-<APP_ENV> — namespace of the counters
LOGIN_RATE_LIMIT_PER_ADDRESS    str   20 per minute (flask-limiter syntax)
LOGIN_RATE_LIMIT_PER_ACCOUNT    str   5 per minute
REGISTER_RATE_LIMIT_PER_ADDRESS str   10 per hour
ANALYSIS_RATE_LIMIT_PER_USER    str   60 per minute — new analyses a user may ask for (POST
                                      analyze, a bulk run start, an application's automatic
                                      analysis), counted in RATE_LIMIT_STORAGE_URL; past it
                                      429 + Retry-After (an application is still saved)
LLM_DAILY_BUDGET_USD        float     1.00 — a user's LLM spend per UTC day; once reached, new
                                      LLM analyses get 429 + Retry-After until midnight UTC and
                                      queued ones fail as daily_budget_spent. 0 = unlimited.
                                      Counted in RATE_LIMIT_STORAGE_URL from each call's tokens
CORS_ALLOWED_ORIGINS        list      (none) — comma-separated origins of the web app, e.g.
                                      https://app.example.com; others get no CORS headers
TRUSTED_PROXY_COUNT         int       0 — reverse proxies in front of the API whose
                                      X-Forwarded-For/-Proto/-Host to believe (the nearest N
                                      hops); 0 trusts nothing: the socket's address is the
                                      client (login and registration limits key on it)
STORAGE_BACKEND             choice    database | filesystem — where uploaded originals live
                                      (README, "Where uploads live"). database: in PostgreSQL,
                                      committed with the resume row, readable from every host,
                                      backed up with the database, no extra service (files are
                                      capped by RESUME_MAX_BYTES). filesystem: under STORAGE_DIR,
                                      for one host or hosts sharing a volume
STORAGE_DIR                 path      var/storage — the filesystem backend's files
                                      (content-addressed; outside any web root), and where
                                      `flask storage migrate` copies them from
RESUME_MAX_BYTES            int       5242880 (5 MiB) — larger uploads get 413
RESUME_MAX_PAGES            int       20 — longer documents fail extraction as too_many_pages
EXTRACTION_TIME_LIMIT       float     60 seconds per extraction before it is classified too large
WORKER_MEMORY_LIMIT_MB      int       0 (off) — address-space cap per pool process; the
                                      extraction worker in the Procfile sets 1536
WORKER_METRICS_PORT         int       0 (off) — a worker serves Prometheus /metrics on it; with
                                      a prefork pool also set PROMETHEUS_MULTIPROC_DIR
WORKER_METRICS_BIND         str       127.0.0.1
TASK_MAX_RETRIES            int       5 retries of a transient failure before dead-lettering
TASK_RETRY_BACKOFF          float     2.0 seconds: first retry delay, doubled each time, jittered
TASK_RETRY_BACKOFF_MAX      float     300 seconds: longest retry delay
OUTBOX_POLL_SECONDS         float     2.0 — the relay also wakes on NOTIFY at once
OUTBOX_LINGER_MS            int       50 — under load (NOTIFYs under 100 ms apart) the relay
                                      waits this long after one, so that one confirmed batch
                                      carries many jobs; a lone request is published at once
RECONNECT_MAX_SECONDS       float     2.0 — longest pause between two attempts of the relay and
                                      of a worker's consumer to reach a broker (or database)
                                      that is down: bounds how long they stay idle after it
                                      is back
ANALYSIS_MAX_BACKLOG        int       2000 messages waiting in the analysis queue: above it a
                                      new analysis is refused with 503 + Retry-After
ANALYSIS_DRAIN_RATE         float     20 analyses/s, to estimate Retry-After
USER_MAX_ANALYSIS_BACKLOG   int       100 unfinished analyses per user: above it, 429
BACKLOG_CACHE_SECONDS       float     2 — how long a broker queue depth is reused
BULK_QUEUE_TARGET           int       100 — the relay keeps at most this many bulk messages in
                                      the broker; the rest wait in the outbox
FOLLOW_UP_DAYS              int       14 — open applications with no stage change for this long
                                      are flagged needs_follow_up (periodic task)
RETENTION_FINISHED_JOBS_DAYS int      30 — finished jobs (not analyses') and failure records of
                                      finished jobs are removed after this (services/retention.py)
RETENTION_SUPERSEDED_ANALYSES_DAYS int 90 — an analysis with a newer one of the same resume and
                                      listing is removed this long after it was made (the latest,
                                      and the latest successful, always stay)
RETENTION_DEAD_LETTER_ACTIONS_DAYS int 365 — the operators' replay/discard log, and discarded
                                      dead jobs (dead jobs not discarded always stay)
RETENTION_IDEMPOTENCY_KEY_HOURS int   48 — how long an Idempotency-Key answers a retried POST
RETENTION_BATCH             int       5000 rows deleted per transaction
RETENTION_MAX_BATCHES       int       20 batches per kind of row per run (a backlog drains over runs)
ANALYZER                    choice    auto | local | llm — auto uses the LLM when LLM_API_KEY
                                      or LLM_BASE_URL is set, else the built-in local analyzer
LLM_BASE_URL                url       (OpenAI) — e.g. https://openrouter.ai/api/v1,
                                      http://127.0.0.1:11434/v1 (Ollama), a vLLM server
LLM_API_KEY                 secret    (none) — local servers need none
LLM_MODEL                   str       gpt-4o-mini
LLM_TIMEOUT                 float     30 seconds per call
LLM_MAX_CONCURRENCY         int       0 — LLM calls in flight per worker process; 0: as many as the
                                      worker has pool threads (-c), one call each. Set it below
                                      -c only to cap calls to the endpoint: the other threads idle
LLM_MAX_OUTPUT_TOKENS       int       2000
LLM_INVALID_OUTPUT_RETRIES  int       2 — asks again when the answer is not a valid result
LLM_PRICE_INPUT_PER_MTOK    float     0.15 USD per million input tokens (cost estimate)
LLM_PRICE_OUTPUT_PER_MTOK   float     0.60 USD per million output tokens
==========================  ========  =====================================================

Parsing is strict: ``APP_ENV=prod`` or ``JWT_ACCESS_TOKEN_MINUTES=ten`` is an error at start-up,
not a silent default.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Mapping

ENVIRONMENTS = ("development", "production", "testing")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """The environment holds a value the application cannot run with."""


def _env_str(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def _env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _env_float(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value >= minimum:  # also rejects nan
        raise ConfigError(f"{name} must be >= {minimum}, got {raw}")
    return value


def _env_limit(env: Mapping[str, str], name: str, default: str) -> str:
    from limits import parse_many

    value = _env_str(env, name, default)
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name} must be a rate like '5 per minute', got {value!r}") from None
    return value


def _env_origins(env: Mapping[str, str], name: str) -> list[str]:
    origins = [o.strip().rstrip("/") for o in env.get(name, "").split(",") if o.strip()]
    for origin in origins:
        if origin == "*" or not origin.startswith(("http://", "https://")):
            raise ConfigError(f"{name} takes exact origins like https://app.example.com, got {origin!r}")
    return origins


def _env_broker_urls(env: Mapping[str, str], name: str, default: str) -> str:
    """One AMQP URL per broker node, ";"-separated (kombu's failover list), checked here so that
    a typo fails at start-up rather than at the first failover."""
    value = _env_str(env, name, default)
    urls = [url.strip() for url in value.split(";") if url.strip()]
    for url in urls:
        if not url.startswith(("amqp://", "amqps://", "pyamqp://")):
            raise ConfigError(f"{name} takes amqp:// URLs separated by ';', got {url!r}")
    vhosts = {url.split("/", 3)[3] if url.count("/") >= 3 else "" for url in urls}
    if len(vhosts) > 1:
        raise ConfigError(f"{name}: every node's URL must name the same vhost, got {sorted(vhosts)}")
    return ";".join(urls)


def _env_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _env_str(env, name, default)
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _development_secret(instance_path: Path) -> str:
    """A per-checkout random secret, so development needs no configuration and no secret is
    ever in code; kept on disk so every API process and restart shares it."""
    secret_file = instance_path / "dev-jwt-secret"
    if secret_file.exists():
        return secret_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def load_settings(env: Mapping[str, str] | None = None, *, instance_path: Path) -> dict:
    """Build the Flask config mapping from ``env`` (``os.environ`` by default)."""
    env = os.environ if env is None else env
    app_env = _env_choice(env, "APP_ENV", "development", ENVIRONMENTS)

    jwt_secret = env.get("JWT_SECRET_KEY", "").strip()
    if not jwt_secret:
        if app_env == "production":
            raise ConfigError("JWT_SECRET_KEY is required in production (at least 32 characters)")
        jwt_secret = _development_secret(instance_path)
    elif app_env == "production" and len(jwt_secret) < MIN_SECRET_LENGTH:
        raise ConfigError(f"JWT_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters in production")

    default_db = "applytrack_test" if app_env == "testing" else "applytrack"
    return {
        "APP_ENV": app_env,
        "TESTING": app_env == "testing",
        "SQLALCHEMY_DATABASE_URI": _env_str(
            env, "DATABASE_URL", f"postgresql+psycopg2://postgres@127.0.0.1:5432/{default_db}"
        ),
        # No pool_pre_ping: models/connections.py checks a pooled connection without a round trip.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "BROKER_URL": _env_broker_urls(env, "BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/applytrack"),
        "RABBITMQ_MANAGEMENT_URL": _env_str(env, "RABBITMQ_MANAGEMENT_URL", ""),
        "JWT_SECRET_KEY": jwt_secret,
        "JWT_ACCESS_TOKEN_MINUTES": _env_int(env, "JWT_ACCESS_TOKEN_MINUTES", 15, minimum=1),
        "JWT_REFRESH_TOKEN_DAYS": _env_int(env, "JWT_REFRESH_TOKEN_DAYS", 30, minimum=1),
        "MAX_JSON_BODY_BYTES": _env_int(env, "MAX_JSON_BODY_BYTES", 1024 * 1024, minimum=1024),
        "JOB_DESCRIPTION_MAX_CHARS": _env_int(env, "JOB_DESCRIPTION_MAX_CHARS", 50_000, minimum=100),
        "PASSWORD_HASH_TIME_COST": _env_int(env, "PASSWORD_HASH_TIME_COST", 3, minimum=1),
        "PASSWORD_HASH_MEMORY_KIB": _env_int(env, "PASSWORD_HASH_MEMORY_KIB", 65536, minimum=8),
        "LOG_LEVEL": _env_choice(env, "LOG_LEVEL", "INFO", LOG_LEVELS),
        "CORS_ALLOWED_ORIGINS": _env_origins(env, "CORS_ALLOWED_ORIGINS"),
        "TRUSTED_PROXY_COUNT": _env_int(env, "TRUSTED_PROXY_COUNT", 0, minimum=0),
        "RATE_LIMIT_STORAGE_URL": _env_str(env, "RATE_LIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0"),
        "RATE_LIMIT_KEY_PREFIX": _env_str(env, "RATE_LIMIT_KEY_PREFIX", ""),
        "LOGIN_RATE_LIMIT_PER_ADDRESS": _env_limit(env, "LOGIN_RATE_LIMIT_PER_ADDRESS", "20 per minute"),
        "LOGIN_RATE_LIMIT_PER_ACCOUNT": _env_limit(env, "LOGIN_RATE_LIMIT_PER_ACCOUNT", "5 per minute"),
        "REGISTER_RATE_LIMIT_PER_ADDRESS": _env_limit(env, "REGISTER_RATE_LIMIT_PER_ADDRESS", "10 per hour"),
        "ANALYSIS_RATE_LIMIT_PER_USER": _env_limit(env, "ANALYSIS_RATE_LIMIT_PER_USER", "60 per minute"),
        "LLM_DAILY_BUDGET_USD": _env_float(env, "LLM_DAILY_BUDGET_USD", 1.0),
        "STORAGE_BACKEND": _env_choice(env, "STORAGE_BACKEND", "database", ("database", "filesystem")),
        "STORAGE_DIR": _env_str(env, "STORAGE_DIR", str(instance_path.parent / "var" / "storage")),
        "RESUME_MAX_BYTES": _env_int(env, "RESUME_MAX_BYTES", 5 * 1024 * 1024, minimum=1024),
        "RESUME_MAX_PAGES": _env_int(env, "RESUME_MAX_PAGES", 20, minimum=1),
        "EXTRACTION_TIME_LIMIT": _env_float(env, "EXTRACTION_TIME_LIMIT", 60.0, minimum=1.0),
        "WORKER_MEMORY_LIMIT_MB": _env_int(env, "WORKER_MEMORY_LIMIT_MB", 0, minimum=0),
        "WORKER_METRICS_PORT": _env_int(env, "WORKER_METRICS_PORT", 0, minimum=0),
        "WORKER_METRICS_BIND": _env_str(env, "WORKER_METRICS_BIND", "127.0.0.1"),
        "TASK_MAX_RETRIES": _env_int(env, "TASK_MAX_RETRIES", 5, minimum=0),
        "TASK_RETRY_BACKOFF": _env_float(env, "TASK_RETRY_BACKOFF", 2.0, minimum=0.01),
        "TASK_RETRY_BACKOFF_MAX": _env_float(env, "TASK_RETRY_BACKOFF_MAX", 300.0, minimum=0.01),
        "OUTBOX_POLL_SECONDS": _env_float(env, "OUTBOX_POLL_SECONDS", 2.0, minimum=0.05),
        "OUTBOX_LINGER_MS": _env_int(env, "OUTBOX_LINGER_MS", 50),
        "RECONNECT_MAX_SECONDS": _env_float(env, "RECONNECT_MAX_SECONDS", 2.0, minimum=0.1),
        "ANALYSIS_MAX_BACKLOG": _env_int(env, "ANALYSIS_MAX_BACKLOG", 2000, minimum=1),
        "ANALYSIS_DRAIN_RATE": _env_float(env, "ANALYSIS_DRAIN_RATE", 20.0, minimum=0.01),
        "USER_MAX_ANALYSIS_BACKLOG": _env_int(env, "USER_MAX_ANALYSIS_BACKLOG", 100, minimum=1),
        "BULK_QUEUE_TARGET": _env_int(env, "BULK_QUEUE_TARGET", 100, minimum=1),
        "BACKLOG_CACHE_SECONDS": _env_float(env, "BACKLOG_CACHE_SECONDS", 2.0, minimum=0.0),
        "FOLLOW_UP_DAYS": _env_int(env, "FOLLOW_UP_DAYS", 14, minimum=1),
        "RETENTION_FINISHED_JOBS_DAYS": _env_int(env, "RETENTION_FINISHED_JOBS_DAYS", 30, minimum=1),
        "RETENTION_SUPERSEDED_ANALYSES_DAYS": _env_int(env, "RETENTION_SUPERSEDED_ANALYSES_DAYS", 90, minimum=1),
        "RETENTION_DEAD_LETTER_ACTIONS_DAYS": _env_int(env, "RETENTION_DEAD_LETTER_ACTIONS_DAYS", 365, minimum=1),
        "RETENTION_IDEMPOTENCY_KEY_HOURS": _env_int(env, "RETENTION_IDEMPOTENCY_KEY_HOURS", 48, minimum=1),
        "RETENTION_BATCH": _env_int(env, "RETENTION_BATCH", 5000, minimum=1),
        "RETENTION_MAX_BATCHES": _env_int(env, "RETENTION_MAX_BATCHES", 20, minimum=1),
        "ANALYZER": _env_choice(env, "ANALYZER", "auto", ("auto", "local", "llm")),
        "LLM_BASE_URL": _env_str(env, "LLM_BASE_URL", ""),
        "LLM_API_KEY": _env_str(env, "LLM_API_KEY", ""),
        "LLM_MODEL": _env_str(env, "LLM_MODEL", "gpt-4o-mini"),
        "LLM_TIMEOUT": _env_float(env, "LLM_TIMEOUT", 30.0, minimum=0.1),
        "LLM_MAX_CONCURRENCY": _env_int(env, "LLM_MAX_CONCURRENCY", 0, minimum=0),
        "LLM_MAX_OUTPUT_TOKENS": _env_int(env, "LLM_MAX_OUTPUT_TOKENS", 2000, minimum=100),
        "LLM_INVALID_OUTPUT_RETRIES": _env_int(env, "LLM_INVALID_OUTPUT_RETRIES", 2, minimum=0),
        "LLM_PRICE_INPUT_PER_MTOK": _env_float(env, "LLM_PRICE_INPUT_PER_MTOK", 0.15),
        "LLM_PRICE_OUTPUT_PER_MTOK": _env_float(env, "LLM_PRICE_OUTPUT_PER_MTOK", 0.60),
        "PROPAGATE_EXCEPTIONS": False,
    }


