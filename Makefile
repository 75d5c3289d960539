# Two commands do all set-up on a fresh machine:  make run  |  make test
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export FLASK_APP := wsgi
# pip install playwright must never fetch browsers: the tests use Debian's chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench chaos services db venv clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

venv: $(VENV)/.installed

services:
	bash scripts/ensure_services.sh

db: venv services
	$(VENV)/bin/flask create-db
	$(VENV)/bin/flask db upgrade

## make run: install, start PostgreSQL/RabbitMQ if down, migrate, serve everything until Ctrl-C
run: db
	$(VENV)/bin/honcho start -f Procfile

## make test: the whole suite against real PostgreSQL, RabbitMQ and Celery workers
test: venv services
	bash scripts/ensure_test_tools.sh
	bash scripts/ensure_cluster_tools.sh || echo "tests/test_cluster.py will skip: no nftables"
	$(VENV)/bin/pytest -q

## make bench: every benchmark; each brings up its own API, relay and workers like make run
## (database and vhost applytrack_bench) and rewrites its section of BENCHMARKS.md (~45 min)
bench: venv services
	bash scripts/ensure_bench_tools.sh
	$(PY) -m bench.http --runs 3 --duration 10
	$(PY) -m bench.extraction --runs 3 --copies 2
	$(PY) -m bench.analysis --runs 3 --count 600 --concurrency 8
	$(PY) -m bench.priority --runs 3 --samples 20 --bulk 5000
	$(PY) -m bench.soak --count 20000
	$(PY) -m bench.growth --samples 15 --write
	$(PY) -m bench.retention --samples 9 --write
	$(PY) -m bench.steady --duration 8 --rates 25 50 100 150 200 300 --write

## make chaos: faults under load (bench/chaos.py). Starts its own PostgreSQL (port 5440) and
## RabbitMQ node chaos@localhost (port 5680) and restarts only those; rewrites RELIABILITY.md's table.
## Then seeded random workloads with faults, checked against every invariant (bench/workload/;
## its own PostgreSQL on 5442, RabbitMQ workload@localhost on 5682); rewrites its section too.
## Then the five faults across simulated hosts (bench/cluster: network namespaces atc-*, three
## RabbitMQ nodes of its own, PostgreSQL on 5444; ~13 min); rewrites RELIABILITY.md's cluster table
chaos: venv
	bash scripts/ensure_cluster_tools.sh
	$(PY) -m bench.chaos --profile full
	$(PY) -m bench.workload --seeds 1-6 --users 8 --duration 45 --faults
	$(PY) -m bench.cluster

clean:
	rm -rf $(VENV) var/
