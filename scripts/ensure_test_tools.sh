#!/usr/bin/env bash
# Tools the tests compare against: pdftotext (poppler-utils) gives the reference word counts.
set -euo pipefail
if ! command -v pdftotext >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && apt-get install -y -qq poppler-utils >/dev/null
  else
    echo "pdftotext is missing: install poppler-utils (the extraction tests compare against it)" >&2
  fi
fi
