"""python -m bench.cluster: the faults across simulated hosts (bench/cluster/scenario.py), as root.

    .venv/bin/python -m bench.cluster                   # all five faults (make chaos)
    .venv/bin/python -m bench.cluster --faults 1,3 --short

Rewrites RELIABILITY.md's cluster table unless --no-write; exits 1 when any check failed.
"""
from __future__ import annotations

import argparse
import sys
import time

from bench.cluster.scenario import FAULTS, PROFILES, Scenario, table, write_reliability


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", default=",".join(map(str, FAULTS)),
                        type=lambda text: [int(part) for part in text.split(",")],
                        help="which faults, in this order (default: %(default)s): " +
                             "; ".join(f"{n} {f.name}" for n, f in FAULTS.items()))
    parser.add_argument("--short", action="store_true", help="shorter load and outages (the test suite's profile)")
    parser.add_argument("--seed", type=int, default=1, help="the workload's seed")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite RELIABILITY.md's cluster table")
    args = parser.parse_args(argv)
    unknown = [n for n in args.faults if n not in FAULTS]
    if unknown:
        parser.error(f"no fault {unknown}: choose among {sorted(FAULTS)}")
    started = time.monotonic()
    rows = Scenario(PROFILES["short" if args.short else "full"], args.faults, seed=args.seed,
                    out=lambda line: print(line, flush=True)).run()
    print()
    print(table(rows))
    if not args.no_write:
        command = " ".join(["python -m bench.cluster", *(sys.argv[1:] if argv is None else argv)])
        write_reliability(rows, command, time.monotonic() - started)
    failing = [row for row in rows if row.problems]
    for row in failing:
        print(f"FAILED fault {row.number} ({row.fault}): " + "; ".join(row.problems))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
