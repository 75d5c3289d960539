"""Soak: ``count`` analyses with the local analyzer through ONE analysis worker process, fed by
a steady stream of API requests; the worker's resident memory after the first 1,000 and at the
end, and a full account afterwards: every accepted analysis succeeded, once.

    .venv/bin/python -m bench.soak --count 20000
"""
from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import requests
from sqlalchemy import create_engine, text

from bench.analysis import prepare, succeeded
from bench.harness import bench_env, machine_description, now, running_system, write_section
from tests.support import stack

WORKER = {"queues": "applytrack.analysis", "pool": "threads", "concurrency": 4, "name": "soak-analysis"}


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def feed(system, resume_id: str, job_id: str, count: int, accepted: list[str], stop: threading.Event) -> None:
    """POST ``count`` analyses from 4 client threads, keeping at most ~500 ahead of the worker
    (a steady stream, not one burst: the broker's backlog is not what this measures)."""
    session_for = threading.local()

    def post(_i: int) -> None:
        while not stop.is_set() and len(accepted) - succeeded_so_far[0] > 500:
            time.sleep(0.05)
        if not hasattr(session_for, "http"):
            session_for.http = requests.Session()
            session_for.http.headers.update(system.http.headers)
        response = session_for.http.post(f"{system.base_url}/api/resumes/{resume_id}/analyze",
                                         json={"job_id": job_id, "force": True}, timeout=30)
        response.raise_for_status()
        accepted.append(response.json()["id"])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(post, range(count)))


succeeded_so_far = [0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20000)
    args = parser.parse_args()

    env = bench_env(ANALYZER="local")
    engine = create_engine(env["DATABASE_URL"])
    extraction = {"queues": "applytrack.extraction", "concurrency": 1, "name": "soak-extraction"}
    samples: list[tuple[int, float]] = []
    accepted: list[str] = []
    with running_system(env, workers=[extraction, WORKER]) as system:
        resume_id, job_id = prepare(system)
        worker_pid = system.workers[1].process.pid
        baseline = succeeded(system)
        stop = threading.Event()
        feeder = threading.Thread(target=feed, args=(system, resume_id, job_id, args.count, accepted, stop), daemon=True)
        started = now()
        feeder.start()
        next_sample = 1000
        try:
            while succeeded_so_far[0] < args.count:
                succeeded_so_far[0] = succeeded(system) - baseline
                if succeeded_so_far[0] >= next_sample:
                    samples.append((succeeded_so_far[0], rss_mb(worker_pid)))
                    print(f"{succeeded_so_far[0]:6d} succeeded, worker RSS {samples[-1][1]:.1f} MB", flush=True)
                    next_sample += 1000
                if not system.workers[1].alive:
                    raise RuntimeError("the analysis worker died:\n" + system.workers[1].tail())
                time.sleep(0.5)
        finally:
            stop.set()
        elapsed = now() - started
        feeder.join(timeout=60)
        final_rss = rss_mb(worker_pid)
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT a.id::text, j.state, j.attempts FROM analyses a JOIN background_jobs j ON j.id = a.job_id "
                "WHERE a.id = ANY(CAST(:ids AS uuid[]))"), {"ids": accepted}).all()
            created = connection.execute(text(
                "SELECT count(*) FROM analyses WHERE resume_id = :r"), {"r": resume_id}).scalar_one()
        in_queue = stack.queue_depth("applytrack.analysis", vhost="applytrack_bench")
    states = {}
    for _id, state, _attempts in rows:
        states[state] = states.get(state, 0) + 1
    lost = len(accepted) - states.get("succeeded", 0)
    ran_twice = sum(1 for _id, _state, attempts in rows if attempts != 1)
    first, last = samples[0], (succeeded_so_far[0], final_rss)
    growth = (last[1] - first[1]) / first[1]
    body = f"""
## Soak: {args.count:,} analyses through one worker (issue 7)

`.venv/bin/python -m bench.soak --count {args.count}` on {date.today()}: {machine_description()}.
One analysis worker process (threads pool, `-c{WORKER['concurrency']}`), the local analyzer, fed by 4 API
clients that keep at most 500 analyses ahead of it; {elapsed:.0f} s in all ({args.count / elapsed:.1f} analyses/s).

| figure | value |
|---|---|
| worker RSS after {first[0]:,} analyses | {first[1]:.1f} MB |
| worker RSS after {last[0]:,} analyses | {last[1]:.1f} MB |
| growth | {growth:+.1%} (limit: under 10 %) |
| accepted by the API | {len(accepted):,} |
| succeeded | {states.get("succeeded", 0):,} |
| lost (accepted, not succeeded) | {lost} |
| duplicated (a job run more than once, or an analysis row nobody asked for) | {ran_twice + (created - len(accepted))} |
| messages left in the analysis queue | {in_queue} |

RSS every 1,000 analyses (MB): {", ".join(f"{rss:.0f}" for _n, rss in samples)}.
"""
    write_section("soak", body)
    print(body)


if __name__ == "__main__":
    main()
