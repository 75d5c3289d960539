"""Analysis throughput and POST → succeeded latency against the local OpenAI-compatible test
server at 200 ms per call, beside the ceiling of the worker pool (concurrency ÷ latency).

    .venv/bin/python -m bench.analysis [--runs 3] [--count 800] [--concurrency 16]

One run = ``count`` forced analyses of one real resume against one real listing, accepted by the
API while the outbox relay is held, then released at once and drained by (a) one threads-pool
worker of ``concurrency`` threads and (b) two such workers; plus 30 analyses one at a time for
the POST → succeeded latency on an idle system.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from sqlalchemy import create_engine, text

from bench.harness import (BENCH_DB, REALDATA, ROOT, bench_env, database_now, machine_description, now, percentile,
                           pipeline_rate, running_system, spread, write_section)
from tests.support import stack

LLM_PORT = 8099
LLM_LATENCY = 0.2


def start_fake_llm() -> subprocess.Popen:
    """The local OpenAI-compatible test server, answering after LLM_LATENCY."""
    return subprocess.Popen([sys.executable, "-m", "tests.support.fake_llm", "--port", str(LLM_PORT),
                             "--latency", str(LLM_LATENCY)], cwd=ROOT, stdout=subprocess.DEVNULL)


def llm_bench_env(**overrides: str) -> dict:
    return bench_env(LLM_BASE_URL=f"http://127.0.0.1:{LLM_PORT}/v1", LLM_API_KEY="bench", LLM_MODEL="fake-model",
                     **overrides)


def succeeded(system) -> int:
    response = system.http.get(f"{system.base_url}/api/background-jobs",
                               params={"kind": "analysis", "state": "succeeded", "page_size": 1})
    return json.loads(response.headers["X-Pagination"])["total"]


def prepare(system) -> tuple[str, str]:
    path = REALDATA / "resumes" / "rm_latex_moderncv_harvey_dent_mle.pdf"
    with open(path, "rb") as handle:
        resume = system.http.post(f"{system.base_url}/api/resumes", files={"file": (path.name, handle)}).json()
    stack.wait_until(lambda: system.http.get(f"{system.base_url}/api/resumes/{resume['id']}").json()
                     ["extraction_status"] == "succeeded", timeout=60, what="extraction")
    listing = system.http.post(f"{system.base_url}/api/jobs", json={
        "company": "Acme", "title": "ML Engineer", "description": (REALDATA / "jobs" / "rm_e2e_en_ml-eng.txt").read_text(),
    }).json()
    return resume["id"], listing["id"]


def post_analysis(system, resume_id: str, job_id: str) -> str:
    response = system.http.post(f"{system.base_url}/api/resumes/{resume_id}/analyze",
                                json={"job_id": job_id, "force": True})
    response.raise_for_status()
    return response.json()["id"]


def worker_cpu_seconds(system) -> float:
    """User + system CPU time of the analysis worker processes so far."""
    total = 0.0
    for worker in system.workers:
        if worker.name.startswith("bench-analysis"):
            fields = open(f"/proc/{worker.process.pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def task_breakdown(since) -> dict[str, float]:
    """Where one analysis's time went, averaged, from the job rows (the database's clock): the
    task from claim to success, and the LLM call inside it as the worker's client timed it."""
    engine = create_engine(BENCH_DB)
    try:
        with engine.connect() as connection:
            task_ms, llm_ms = connection.execute(text(
                "SELECT avg(extract(epoch FROM j.finished_at - j.started_at)) * 1000, avg(a.latency_ms) "
                "FROM background_jobs j JOIN analyses a ON a.job_id = j.id "
                "WHERE j.kind = 'analysis' AND j.created_at >= :since AND j.state = 'succeeded'"),
                {"since": since}).one()
    finally:
        engine.dispose()
    return {"task_ms": float(task_ms), "llm_ms": float(llm_ms)}


def drain_rate(system, resume_id: str, job_id: str, count: int) -> dict[str, float]:
    """Analyses/s of the worker pool: ``count`` analyses are accepted while the relay is held,
    then released at once; the clock runs from the relay's first publish to the last success.
    Also the average task breakdown and the workers' CPU time per analysis."""
    system.relay.stop()
    since = database_now()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda _i: post_analysis(system, resume_id, job_id), range(count)))
    before = succeeded(system)
    cpu_before = worker_cpu_seconds(system)
    system.relay.start()
    while succeeded(system) < before + count:
        time.sleep(0.05)
    cpu_ms = (worker_cpu_seconds(system) - cpu_before) * 1000 / count
    return {"rate": pipeline_rate("analysis", since), "cpu_ms": cpu_ms, **task_breakdown(since)}


def idle_latency(system, resume_id: str, job_id: str, count: int = 30) -> tuple[float, float]:
    """POST → succeeded, one analysis at a time on an otherwise idle system (client clock)."""
    latencies = []
    for _i in range(count):
        start = now()
        analysis_id = post_analysis(system, resume_id, job_id)
        while system.http.get(f"{system.base_url}/api/analyses/{analysis_id}").json()["state"] != "succeeded":
            time.sleep(0.005)
        latencies.append((now() - start) * 1000)
    return percentile(latencies, 0.5), percentile(latencies, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=800)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    llm = start_fake_llm()
    env = llm_bench_env()
    worker = {"queues": "applytrack.analysis", "pool": "threads", "concurrency": args.concurrency}
    ceiling = args.concurrency / LLM_LATENCY
    results = {}
    try:
        for workers in (1, 2):
            figures = []
            # One extraction process reads the resume once, then idles.
            extraction = {"queues": "applytrack.extraction", "concurrency": 1, "name": "bench-extraction"}
            analysis_workers = [{**worker, "name": f"bench-analysis-{i}"} for i in range(workers)]
            with running_system(env, workers=[extraction, *analysis_workers]) as system:
                resume_id, job_id = prepare(system)
                drain_rate(system, resume_id, job_id, 50)  # warm-up: connections, caches
                for _run in range(args.runs):
                    p50, p99 = idle_latency(system, resume_id, job_id)
                    figures.append({**drain_rate(system, resume_id, job_id, args.count), "p50": p50, "p99": p99})
            results[workers] = figures
    finally:
        llm.terminate()

    def column(workers: int, key: str) -> list[float]:
        return [f[key] for f in results[workers]]

    one, two = column(1, "rate"), column(2, "rate")
    scaling = [b / a for a, b in zip(one, two)]
    body = f"""
## Analysis throughput (issues 4, 7 and 18)

`.venv/bin/python -m bench.analysis --runs {args.runs} --count {args.count} --concurrency {args.concurrency}`
on {date.today()}: {machine_description()}. The LLM analyzer through the real `openai` client against
the local OpenAI-compatible test server (`tests/support/fake_llm.py`) answering every call after
{int(LLM_LATENCY * 1000)} ms. Each run: {args.count} forced analyses accepted, then released to the workers; API, relay,
broker, database, test LLM and workers share the 2 cores. Min / median / max over {args.runs} runs.

| figure | 1 worker (threads -c{args.concurrency}) | 2 workers (threads -c{args.concurrency} each) |
| --- | --- | --- |
| ceiling: concurrency ÷ latency (analyses/s) | {ceiling:.0f} | {2 * ceiling:.0f} |
| analyses/s, first publish → last succeeded | {spread(one, "{:.1f}")} | {spread(two, "{:.1f}")} |
| share of the ceiling | {spread([r / ceiling * 100 for r in one], "{:.0f}")} % | {spread([r / (2 * ceiling) * 100 for r in two], "{:.0f}")} % |
| POST → succeeded one at a time, p50 (ms) | {spread(column(1, "p50"), "{:.0f}")} | {spread(column(2, "p50"), "{:.0f}")} |
| POST → succeeded one at a time, p99 (ms) | {spread(column(1, "p99"), "{:.0f}")} | {spread(column(2, "p99"), "{:.0f}")} |
| per analysis under load: the task, claim → success (ms) | {spread(column(1, "task_ms"), "{:.0f}")} | {spread(column(2, "task_ms"), "{:.0f}")} |
| … of which the LLM call as the worker's client timed it (ms) | {spread(column(1, "llm_ms"), "{:.0f}")} | {spread(column(2, "llm_ms"), "{:.0f}")} |
| … and between tasks, per thread: concurrency ÷ rate − task (ms) | {spread([args.concurrency * 1000 / f["rate"] - f["task_ms"] for f in results[1]], "{:.0f}")} | {spread([2 * args.concurrency * 1000 / f["rate"] - f["task_ms"] for f in results[2]], "{:.0f}")} |
| worker CPU time per analysis (ms, all worker processes) | {spread(column(1, "cpu_ms"), "{:.1f}")} | {spread(column(2, "cpu_ms"), "{:.1f}")} |

Two workers over one: {spread(scaling)}× (median of per-run ratios {statistics.median(scaling):.2f}).

What bounds it. Each thread's cycle is the test LLM's {int(LLM_LATENCY * 1000)} ms plus three costs, all in the table:
the LLM call's own overhead (the openai client building and parsing the request and response,
HTTP, and the test server's Python, which shares the cores: the "LLM call" row minus
{int(LLM_LATENCY * 1000)} ms), storing the result (the task row minus the LLM row: one query for the analysis,
resume and listing, one transaction for the result and the job), and the gap between tasks
(acknowledging the message, RabbitMQ delivering the next one, Celery handing it to a thread,
the claim's lock and update). With every process of the system on 2 cores, each of these is
stretched by waiting for a core and, inside the worker, for the GIL among the pool's threads.
Cut so far: the claim commits without waiting for the WAL flush (3.5 ms per commit here),
the task loads its three rows in one query, the relay confirms publishes by the batch, and the
test server sets TCP_NODELAY (it wrote headers and body apart, and each call waited 40 ms for
a delayed ACK: 248 ms per 200 ms call, on an idle machine too).

Issue 18, traced phase by phase inside a worker (each thread's wall clock and CPU time around
the claim, the reads, the LLM call, the store, and Celery's ack and next delivery): every phase
waited several times its CPU time. The drain keeps the 2 cores 70–90 % busy (run queue 3–17),
so a database round trip took 2–3 ms of wall time for ~0.3 ms of CPU, and a task made 15 of
them. It now makes 12: the claim keeps the row it wrote instead of reading it back (BEGIN +
SELECT), the result is stored by one UPDATE that also tells a deleted analysis (no SELECT …
FOR NO KEY UPDATE first), and the job's success is one UPDATE conditional on the claim's
fencing token and state (no SELECT … FOR UPDATE first: the UPDATE takes the same row lock and
re-checks a row changed meanwhile). The evidence check normalises the resume once per answer,
not once per quote. Tried and not kept: two reserved messages per thread
(`--prefetch-multiplier 2`), meant to hide the ~7 ms from one task's end to the next one's
start (the ack, the broker's next delivery, the hand-over to the thread), did not raise the
rate on these saturated cores (77 % of the ceiling with it, 77 % without, four drains each,
alternated), so the analysis worker keeps one message per thread (fairness, and fewer
redeliveries when a worker dies); a 0.5 ms GIL switch interval did not help either. What remains per analysis: the openai
client's ~2.7 ms of CPU per call (a third of it converting the request's TypedDicts), the test
server's own Python on the same cores, and the 12 round trips. 95 % of the ceiling means a
cycle of at most 210.5 ms per thread; under this drain the LLM call alone, as the worker's
client times it, takes 209–218 ms, so the goal is out of reach while the test server, the
client and everything else share these 2 cores.
"""
    write_section("analysis", body)
    print(body)


if __name__ == "__main__":
    main()
