#!/usr/bin/env bash
# Tools the tests compare against: pdftotext (poppler-utils) gives the reference word counts;
# chromium runs the web app's browser tests;
# promtool (Debian's prometheus package) checks and unit-tests the alert rules in ops/prometheus.
set -euo pipefail

updated=""
apt_install() {
  # apt_install COMMAND PACKAGE: install PACKAGE when COMMAND is missing (root with apt only).
  local command=$1 package=$2
  command -v "$command" >/dev/null 2>&1 && return 0
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
    echo "$command is missing: install $package" >&2
    return 0
  fi
  if [ -z "$updated" ]; then
    apt-get update -qq >/dev/null
    updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
}

apt_install pdftotext poppler-utils
# The web app's browser tests drive Debian's chromium with Playwright (which never downloads a
# browser of its own: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD); axe-core comes inside the
# axe-playwright-python package (requirements.txt), never from a CDN.
[ -x /usr/bin/chromium ] || apt_install chromium chromium

# The prometheus package ships a server that its postinst starts (port 9090) and enables: we
# want only its promtool. Deny service starts during the install (invoke-rc.d and
# deb-systemd-invoke ask policy-rc.d), then make sure nothing was left running or enabled.
if ! command -v promtool >/dev/null 2>&1; then
  policy=/usr/sbin/policy-rc.d
  own_policy=""
  if [ "$(id -u)" = 0 ] && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
  fi
  apt_install promtool prometheus || status=$?
  [ -n "$own_policy" ] && rm -f "$policy"
  [ "${status:-0}" = 0 ] || exit "$status"
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi
