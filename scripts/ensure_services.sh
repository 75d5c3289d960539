#!/usr/bin/env bash
# Start the local PostgreSQL and RabbitMQ if they are installed but down, and wait until both
# accept connections. Safe to run any number of times.
set -euo pipefail

PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}

if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "starting PostgreSQL"
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  for _ in $(seq 1 60); do pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break; sleep 0.5; done
  pg_isready -h "$PG_HOST" -p "$PG_PORT" || { echo "PostgreSQL is not reachable on $PG_HOST:$PG_PORT" >&2; exit 1; }
fi

# Redis keeps the rate-limit counters every API process shares.
if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/applytrack.log || true
  fi
fi

if command -v rabbitmqctl >/dev/null 2>&1; then
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    echo "starting RabbitMQ"
    rabbitmq-server -detached || true
  fi
  # await_startup can exit before the node has registered; retry it.
  for _ in $(seq 1 60); do
    rabbitmqctl -q await_startup >/dev/null 2>&1 && break
    sleep 1
  done
  rabbitmqctl -q await_startup >/dev/null 2>&1 || { echo "RabbitMQ did not start" >&2; exit 1; }
  # Queue lengths for Flower and our metrics come from the management API.
  if ! rabbitmq-plugins -q is_enabled rabbitmq_management >/dev/null 2>&1; then
    rabbitmq-plugins -q enable rabbitmq_management >/dev/null
  fi
  # A freshly enabled plugin takes a few seconds to listen; the tests use it at once.
  for _ in $(seq 1 60); do
    # Any HTTP answer (a 401 without credentials too) means it listens.
    python3 -c "
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen('http://127.0.0.1:15672/api/overview', timeout=2)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)" && break
    sleep 1
  done
  # The application's own virtual host (the default BROKER_URL names it): Flower 2.2 cannot
  # read queue lengths of the default vhost "/" correctly.
  if ! rabbitmqctl -q list_vhosts | grep -qx applytrack; then
    rabbitmqctl -q add_vhost applytrack >/dev/null
  fi
  rabbitmqctl -q set_permissions -p applytrack guest ".*" ".*" ".*" >/dev/null
fi
