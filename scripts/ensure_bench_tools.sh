#!/usr/bin/env bash
# The load generator the HTTP benchmark drives the API with: wrk (Debian's package).
set -euo pipefail
if ! command -v wrk >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
  else
    echo "wrk is missing: install it (apt-get install wrk); bench.http drives the API with it" >&2
    exit 1
  fi
fi
