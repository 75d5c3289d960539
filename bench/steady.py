"""Latency at a steady arrival rate: an open-loop client (each request starts on its schedule
whether or not earlier ones have finished, and its latency counts from that scheduled instant,
so a stalled server shows as the queue it causes — wrk's closed loop would slow down with it).

A realistic mix against the API as `make run` serves it (gunicorn 2 × 8 and the outbox relay;
``--worker`` adds an extraction + analysis worker with the local analyzer on the same cores,
otherwise the queued work waits in RabbitMQ), 64 seeded users: in every
20 requests, 6 list pages, 5 analysis reads, 4 listing reads, 2 forced analysis requests, 2
writes (a stage change, a new application) and 1 resume upload. Each rate runs ``--duration``
seconds; p50 / p95 / p99 per endpoint, and the highest rate at which every endpoint's p99
stays under 100 ms.

    python -m bench.steady [--rates 50 100 150 200 250 300] [--duration 10] [--write]
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import statistics
import time
import uuid
from pathlib import Path

import aiohttp

from bench import harness
from bench.http import STAGES, seed_users

MIX = ("list",) * 6 + ("analysis",) * 5 + ("listing",) * 4 + ("analyze",) * 2 + ("move", "create") + ("upload",)
LABELS = {
    "list": "GET /api/applications (page of 20)",
    "analysis": "GET /api/analyses/{id}",
    "listing": "GET /api/jobs/{id}",
    "analyze": "POST /api/resumes/{id}/analyze (force)",
    "move": "PATCH /api/applications/{id} (stage)",
    "create": "POST /api/applications",
    "upload": "POST /api/resumes (text file)",
}
# At most this many requests in flight (connections), as the 96 threads of the former client had.
CLIENT_CONNECTIONS = 96
RESUME_TEXT = (harness.REALDATA / "jobs" / "en_servicenow_senior_swe.txt").read_bytes()[:4000]


class Client:
    """The users' requests, each kind built from the seeded data. One asyncio loop and aiohttp's
    C parser: the client shares the server's two cores, and the former one (requests, 96
    threads) spent about 2.4 ms of CPU per request, a quarter of what the server spent."""

    def __init__(self, base_url: str, users: list[dict], applications: dict[str, list[str]]) -> None:
        self.base_url = base_url
        self.users = users
        self.applications = applications

    async def send(self, http: aiohttp.ClientSession, kind: str, user: dict) -> int:
        base = self.base_url
        headers = {"Authorization": f"Bearer {user['token']}"}
        if kind == "list":
            request = http.get(f"{base}/api/applications?page_size=20", headers=headers)
        elif kind == "analysis":
            request = http.get(f"{base}/api/analyses/{user['analysis_id']}", headers=headers)
        elif kind == "listing":
            request = http.get(f"{base}/api/jobs/{user['job_id']}", headers=headers)
        elif kind == "analyze":
            request = http.post(f"{base}/api/resumes/{user['resume_id']}/analyze", headers=headers,
                                json={"job_id": user["job_id"], "force": True})
        elif kind == "move":
            application = random.choice(self.applications[user["token"]])
            request = http.patch(f"{base}/api/applications/{application}", headers=headers,
                                 json={"status": random.choice(STAGES)})
        elif kind == "create":
            request = http.post(f"{base}/api/applications", headers=headers, json={"job_id": user["job_id"]})
        else:
            form = aiohttp.FormData()
            form.add_field("file", RESUME_TEXT, filename="resume.txt", content_type="text/plain")
            request = http.post(f"{base}/api/resumes", headers=headers, data=form)
        async with request as response:
            await response.read()
            return response.status


def own_cpu_seconds(system, database: str) -> dict[str, float]:
    """CPU seconds used so far by this run's own processes: the API (gunicorn and its workers),
    the relay, and the PostgreSQL backends connected to the bench database. Other sessions'
    processes on the machine are not in these, unlike harness.cpu_seconds_by_group."""
    from sqlalchemy import create_engine, text

    ticks = os.sysconf("SC_CLK_TCK")
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(stat.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)  # ppid, cpu

    def tree(root: int) -> float:
        pids, total = {root}, 0.0
        for _ in range(3):  # gunicorn master -> workers (and the relay's own children, if any)
            pids |= {pid for pid, (ppid, _cpu) in stats.items() if ppid in pids}
        return sum(stats[pid][1] for pid in pids if pid in stats)

    engine = create_engine(harness.BENCH_DB.rsplit("/", 1)[0] + "/postgres")
    try:
        with engine.connect() as connection:
            backends = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                          {"d": database}).scalars().all()
    finally:
        engine.dispose()
    return {"API": tree(system.api.process.pid), "relay": tree(system.relay.process.pid),
            # per backend: one may end, or start, between two samples
            "PostgreSQL (this database)": {pid: stats[pid][1] for pid in backends if pid in stats}}


def own_cpu_delta(before: dict, after: dict) -> dict[str, float]:
    delta = {name: after[name] - before[name] for name in ("API", "relay")}
    key = "PostgreSQL (this database)"
    delta[key] = sum(cpu - before[key].get(pid, 0.0) for pid, cpu in after[key].items())
    return delta


def run_rate(client: Client, rate: float, duration: float) -> dict:
    """Requests at ``rate`` per second for ``duration`` seconds; latency (ms) per kind, from
    each request's scheduled start. Failed answers are recorded as errors; the client's own CPU
    seconds as ``_client_cpu``."""
    started_cpu = time.process_time()
    result = asyncio.run(_run_rate(client, rate, duration))
    result["_client_cpu"] = time.process_time() - started_cpu
    return result


async def _run_rate(client: Client, rate: float, duration: float) -> dict:
    latencies: dict = {kind: [] for kind in LABELS}
    errors: dict[str, int] = {kind: 0 for kind in LABELS}
    codes: dict = {}
    loop = asyncio.get_running_loop()

    async def one(http: aiohttp.ClientSession, scheduled: float, kind: str, user: dict) -> None:
        try:
            status = await client.send(http, kind, user)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            status = type(exc).__name__
        ok = isinstance(status, int) and status < 400
        latencies[kind].append((loop.time() - scheduled) * 1000)
        errors[kind] += not ok
        if not ok:
            codes[status] = codes.get(status, 0) + 1

    kinds = itertools.cycle(random.Random(7).sample(MIX, len(MIX)))
    users = itertools.cycle(client.users)
    connector = aiohttp.TCPConnector(limit=CLIENT_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        requests_in_flight = []
        start = loop.time() + 0.05
        for n in range(int(rate * duration)):
            scheduled = start + n / rate
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            requests_in_flight.append(asyncio.create_task(one(http, scheduled, next(kinds), next(users))))
        await asyncio.gather(*requests_in_flight)
    latencies["_errors"] = errors
    latencies["_codes"] = codes
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", type=float, nargs="+", default=[50, 100, 150, 200, 250, 300])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--worker", action="store_true",
                        help="also run an extraction + analysis worker (local analyzer) on the same cores")
    args = parser.parse_args()

    env = harness.bench_env(ANALYZER="local")
    workers = [{"queues": "applytrack.extraction,applytrack.analysis"}] if args.worker else []
    with harness.running_system(env, workers=[], gunicorn_workers=2, gunicorn_threads=8) as system:
        os.environ.update(env)
        from api import create_app
        from models import Application, db
        from sqlalchemy import select

        seed_app = create_app()
        users = seed_users(seed_app, count=64, applications=60)
        with seed_app.app_context():
            applications = {user["token"]: [str(i) for i in db.session.scalars(
                select(Application.id).where(Application.resume_id == uuid.UUID(user["resume_id"])).limit(20))]
                for user in users}
        for worker_options in workers:
            system.add_worker(**worker_options).start()
        client = Client(system.base_url, users, applications)
        run_rate(client, 20, 3)  # warm: connections, caches, every statement compiled
        results = {}
        database = env["DATABASE_URL"].rsplit("/", 1)[1]
        load = os.getloadavg()[0]
        for rate in args.rates:
            cpu_before, own_before = harness.cpu_seconds_by_group(), own_cpu_seconds(system, database)
            results[rate] = run_rate(client, rate, args.duration)
            cpu = harness.cpu_delta(cpu_before, harness.cpu_seconds_by_group())
            own = own_cpu_delta(own_before, own_cpu_seconds(system, database))
            sent = int(rate * args.duration)
            results[rate]["_own_ms"] = {name: 1000 * seconds / sent for name, seconds in own.items()}
            results[rate]["_client_ms"] = 1000 * results[rate]["_client_cpu"] / sent
            results[rate]["_busy"] = cpu["machine busy"] / (cpu["machine busy"] + cpu["idle"] + cpu["iowait"])
            results[rate]["_cpu"] = {group: seconds / args.duration for group, seconds in cpu.items()
                                     if group not in ("idle", "iowait", "machine busy") and seconds > 0.02 * args.duration}
            _print_rate(rate, results[rate])
    table, best = _table(results)
    print(table)
    print(f"highest rate with every endpoint's p99 under 100 ms: {best}")
    if args.write:
        harness.write_section("steady", SECTION.format(
            date=time.strftime("%Y-%m-%d"), machine=harness.machine_description(), duration=args.duration,
            rates=" ".join(f"{r:g}" for r in args.rates), table=table, best=best, load=load,
            caveat=CAVEAT if load > 2 else "",
            worker=" --worker" if args.worker else "",
            cpu="\n".join(f"- {rate:g} req/s: " + ", ".join(
                f"{group} {cores:.2f}" for group, cores in sorted(r["_cpu"].items(), key=lambda x: -x[1]))
                for rate, r in results.items()),
            own="\n".join(f"- {rate:g} req/s: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in r["_own_ms"].items())
                           + f" (total {sum(r['_own_ms'].values()):.1f} ms); the client {r['_client_ms']:.1f} ms"
                           for rate, r in results.items()),
            capacity=_capacity(results)))


def _capacity(results: dict) -> str:
    """What two idle cores could serve at the median CPU per request of this run's own processes
    (RabbitMQ and the client left out: RabbitMQ is shared with other sessions here)."""
    per_request = statistics.median(sum(r["_own_ms"].values()) for r in results.values())
    return f"{per_request:.1f} ms per request, so at most about {2000 / per_request:.0f} req/s on 2 idle cores"


def _p(values: list[float], fraction: float) -> float:
    return harness.percentile(values, fraction) if values else float("nan")


def _print_rate(rate: float, result: dict) -> None:
    print(f"-- {rate:g} req/s (machine {100 * result['_busy']:.0f} % busy; cores used: "
          + ", ".join(f"{group} {cores:.2f}" for group, cores in sorted(result["_cpu"].items(), key=lambda x: -x[1]))
          + ")", flush=True)
    if result["_codes"]:
        print(f"   failed answers: {result['_codes']}", flush=True)
    print("   CPU per request, this run's processes: " + ", ".join(
        f"{name} {ms:.1f} ms" for name, ms in result["_own_ms"].items())
        + f"; the client {result['_client_ms']:.1f} ms", flush=True)
    for kind, label in LABELS.items():
        values = result[kind]
        print(f"   {label:42} n={len(values):5} p50 {_p(values, .5):7.1f}  p95 {_p(values, .95):7.1f}  "
              f"p99 {_p(values, .99):7.1f} ms  errors {result['_errors'][kind]}", flush=True)


def _table(results: dict) -> tuple[str, str]:
    lines = ["| offered rate | endpoint | p50 | p95 | p99 | errors |", "|---|---|---|---|---|---|"]
    best = "none of the rates measured"
    for rate, result in results.items():
        overall = [v for kind in LABELS for v in result[kind]]
        lines.append(f"| **{rate:g} req/s** (machine {100 * result['_busy']:.0f} % busy) | all | "
                     f"{_p(overall, .5):.0f} ms | {_p(overall, .95):.0f} ms | {_p(overall, .99):.0f} ms | "
                     f"{sum(result['_errors'].values())} |")
        for kind, label in LABELS.items():
            values = result[kind]
            lines.append(f"| | `{label}` | {_p(values, .5):.0f} ms | {_p(values, .95):.0f} ms | "
                         f"{_p(values, .99):.0f} ms | {result['_errors'][kind]} |")
        if all(_p(result[kind], .99) < 100 for kind in LABELS) and not sum(result["_errors"].values()):
            best = f"{rate:g} req/s"
    return "\n".join(lines), best


CAVEAT = """ **With that load these figures measure the shared machine more than the
system** (at 25 req/s it was already 79 % busy): rerun on a quiet machine before comparing them
with the issue's table (100 req/s: p99 16 ms, measured when the machine was quiet)."""

SECTION = """
## Latency at a steady load (issue 18)

`.venv/bin/python -m bench.steady --rates {rates} --duration {duration:g}{worker}` on {date}: {machine}.
An open-loop client (requests start on their schedule; latency counts from the scheduled
instant) on the same 2 cores as gunicorn (2 × 8), the relay, PostgreSQL, RabbitMQ and Redis;
64 users. The machine's load average when the run began: {load:.1f} (other sessions' test
suites and workers share these 2 cores).{caveat} In every 20 requests: 6 list pages,
5 analysis reads, 4 listing reads, 2 forced analyses, a stage change, a new application and a
resume upload.

{table}

Highest offered rate at which every endpoint's p99 stayed under 100 ms: **{best}**.

Cores in use during each rate, by kind of process (every process on the machine, so other
sessions' gunicorn, workers and PostgreSQL backends are in these too; "workers" are theirs unless
`--worker` was given):
{cpu}

CPU per request of this run's own processes only (the API's gunicorn tree, the relay, the
PostgreSQL backends of the bench database; one that opened and closed between two samples is
missed), which the other sessions do not inflate except through contention:
{own}

What that CPU allows: {capacity} (RabbitMQ and the client not counted).
"""


if __name__ == "__main__":
    main()
