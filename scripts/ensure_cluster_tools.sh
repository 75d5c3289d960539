#!/usr/bin/env bash
# Tools the cluster scenario (bench/cluster, tests/test_cluster.py) needs: iproute2 for network
# namespaces, nftables to cut a simulated host off (tc netem is not available on this kernel).
# Installs from Debian when missing (root with apt only); waits for another apt run to finish.
set -euo pipefail

missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v nft >/dev/null 2>&1 || missing+=(nftables)
[ ${#missing[@]} = 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "missing: ${missing[*]} (install them as root)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
for attempt in $(seq 1 60); do
  if apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    exit 0
  fi
  # Another apt/dpkg run holds the lock, or the lists are stale: update once, then retry.
  [ "$attempt" = 1 ] && apt-get update -qq >/dev/null 2>&1 || true
  sleep 5
done
echo "could not install ${missing[*]}" >&2
exit 1
