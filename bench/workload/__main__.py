"""python -m bench.workload: run seeded workloads against the whole system and check them.

    .venv/bin/python -m bench.workload                      # one random seed (printed), shared servers
    .venv/bin/python -m bench.workload --seed 7             # replay seed 7
    .venv/bin/python -m bench.workload --seeds 1-10 --faults  # disposable servers, faults (as root)

Exits 1 when any invariant was violated; rewrites RELIABILITY.md's workload section unless
--no-write.
"""
from __future__ import annotations

import argparse
import random
import sys

from bench.workload import report
from bench.workload.runner import Options, run


def parse_seeds(text: str) -> list[int]:
    """'1-5' or '3,8,13' (or both: '1-3,10')."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += range(int(low), int(high) + 1) if high else [int(low)]
    return seeds


def main(argv: list[str] | None = None) -> int:
    defaults = Options()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--seed", type=int, help="replay this seed")
    which.add_argument("--seeds", type=parse_seeds, help="run these seeds, e.g. 1-10 or 3,8,13")
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--duration", type=float, default=defaults.duration, help="seconds of load per seed")
    parser.add_argument("--faults", action="store_true",
                        help="inject bench.chaos's faults, on a disposable PostgreSQL and RabbitMQ (as root)")
    parser.add_argument("--analyzer", choices=("local", "llm"), default=defaults.analyzer,
                        help="llm: the test LLM server (and with --faults, its error fault)")
    parser.add_argument("--drain-timeout", type=float, default=defaults.drain_timeout)
    parser.add_argument("--api-port", type=int, default=defaults.api_port)
    parser.add_argument("--pg-port", type=int, default=defaults.pg_port)
    parser.add_argument("--amqp-port", type=int, default=defaults.amqp_port)
    parser.add_argument("--dist-port", type=int, default=defaults.dist_port)
    parser.add_argument("--node", default=defaults.node, help="name of the disposable RabbitMQ node")
    parser.add_argument("--database", default=defaults.database, help="without --faults: database on 5432")
    parser.add_argument("--vhost", default=defaults.vhost, help="without --faults: virtual host on 5672")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite RELIABILITY.md's workload section")
    args = parser.parse_args(argv)
    seeds = args.seeds or [args.seed if args.seed is not None else random.randrange(1_000_000)]
    print(f"workload: seeds {','.join(map(str, seeds))} (replay one with --seed S)", flush=True)
    options = Options(users=args.users, duration=args.duration, faults=args.faults, analyzer=args.analyzer,
                      drain_timeout=args.drain_timeout, api_port=args.api_port, pg_port=args.pg_port,
                      amqp_port=args.amqp_port, dist_port=args.dist_port, node=args.node, database=args.database,
                      vhost=args.vhost)
    results = run(seeds, options, out=lambda line: print(line, flush=True))
    print()
    print(report.table(results))
    if not args.no_write:
        report.write_reliability(results, "python -m bench.workload " + " ".join(sys.argv[1:]))
    return 1 if any(result.violations for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
