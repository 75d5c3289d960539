#!/usr/bin/env bash
# Flower, the Celery monitor, for `make run` (Procfile) and docker-compose.
#
# It loads the workers' own Celery app (-A tasks.worker): with a bare broker URL Flower would not
# know our exchange and queues (flower #1008). Workers send the events it needs
# (celeryconfig.py: worker_send_task_events, task_send_sent_event).
#
# Basic auth: FLOWER_BASIC_AUTH ("user:password", several joined by commas). Flower reads that
# variable itself, so the password never shows in `ps`. Unset in development only, a random
# password is generated once into instance/flower-password. /healthcheck and /metrics answer
# without authentication (Flower's design): never expose the port beyond operators.
#
# Queue lengths come from RabbitMQ's management API at RABBITMQ_MANAGEMENT_URL, with the broker
# URL's credentials unless the URL carries its own; unset, Flower derives it from the broker host.
set -euo pipefail
cd "$(dirname "$0")/.."

PASSWORD_FILE=instance/flower-password

development_credentials() {
  if [ ! -s "$PASSWORD_FILE" ]; then
    mkdir -p "$(dirname "$PASSWORD_FILE")"
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$PASSWORD_FILE")
  fi
  echo "flower: user admin, password in $PWD/$PASSWORD_FILE" >&2
  echo "admin:$(cat "$PASSWORD_FILE")"
}

if [ -z "${FLOWER_BASIC_AUTH:-}" ]; then
  if [ "${APP_ENV:-development}" != development ]; then
    echo "flower: set FLOWER_BASIC_AUTH (user:password); a password is generated only in development" >&2
    exit 1
  fi
  FLOWER_BASIC_AUTH=$(development_credentials)
fi
export FLOWER_BASIC_AUTH

# Flower 2.2 asks for "queues/<vhost>" without escaping the vhost: for the default vhost "/" the
# URL collapses to "queues/", every vhost's queues, and same-named queues elsewhere get listed too.
case "${BROKER_URL:-amqp://guest:guest@127.0.0.1:5672/applytrack}" in
  */ | */%2F | */%2f) echo "flower: BROKER_URL uses the default vhost; queue lengths may include other vhosts' queues" >&2 ;;
esac

args=(--address="${FLOWER_ADDRESS:-127.0.0.1}" --port="${FLOWER_PORT:-5555}"
      # Bounded memory, and no state file: after a restart Flower relearns workers from events.
      --max_tasks=10000 --persistent=False)
if [ -n "${RABBITMQ_MANAGEMENT_URL:-}" ]; then
  # A cluster's list (";"-separated): Flower takes one management API, the first node's. Its
  # broker connection fails over along BROKER_URL's list by itself (kombu).
  management=${RABBITMQ_MANAGEMENT_URL%%;*}
  # Flower joins "queues/<vhost>" onto this URL, which therefore has to end in a slash.
  args+=(--broker_api="${management%/}/")
fi

python=.venv/bin/python
[ -x "$python" ] || python=python3  # the Docker image installs into the system Python

exec "$python" -m celery -A tasks.worker flower "${args[@]}"
