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
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from bench.harness import (REALDATA, ROOT, bench_env, database_now, machine_description, now, percentile,
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
                     LLM_MAX_CONCURRENCY="256", **overrides)


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


def drain_rate(system, resume_id: str, job_id: str, count: int) -> float:
    """Analyses/s of the worker pool: ``count`` analyses are accepted while the relay is held,
    then released at once; the clock runs from the relay's first publish to the last success."""
    system.relay.stop()
    since = database_now()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda _i: post_analysis(system, resume_id, job_id), range(count)))
    before = succeeded(system)
    system.relay.start()
    while succeeded(system) < before + count:
        time.sleep(0.05)
    return pipeline_rate("analysis", since)


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
    worker = {"queues": "analysis", "pool": "threads", "concurrency": args.concurrency}
    ceiling = args.concurrency / LLM_LATENCY
    results = {}
    try:
        for workers in (1, 2):
            figures = []
            # One extraction process reads the resume once, then idles.
            extraction = {"queues": "extraction", "concurrency": 1, "name": "bench-extraction"}
            analysis_workers = [{**worker, "name": f"bench-analysis-{i}"} for i in range(workers)]
            with running_system(env, workers=[extraction, *analysis_workers]) as system:
                resume_id, job_id = prepare(system)
                drain_rate(system, resume_id, job_id, 50)  # warm-up: connections, caches
                for _run in range(args.runs):
                    p50, p99 = idle_latency(system, resume_id, job_id)
                    figures.append({"rate": drain_rate(system, resume_id, job_id, args.count), "p50": p50, "p99": p99})
            results[workers] = figures
    finally:
        llm.terminate()

    def column(workers: int, key: str) -> list[float]:
        return [f[key] for f in results[workers]]

    one, two = column(1, "rate"), column(2, "rate")
    scaling = [b / a for a, b in zip(one, two)]
    body = f"""
## Analysis throughput (issue 4)

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

Two workers over one: {spread(scaling)}× (median of per-run ratios {statistics.median(scaling):.2f}).
The idle latency is the LLM's 200 ms plus the API write, the relay's NOTIFY wake-up and
confirmed publish, delivery, two commits in the worker and this client's 5 ms polling.

What bounds it: CPU, not the pool. Under load each analysis costs the worker about 10 ms of
Python (three ORM transactions, Celery's task events and acks, the openai client) plus the
test LLM server, PostgreSQL, RabbitMQ and the relay on the same 2 cores; at `-c16` one worker
process is pinned at 100 % of a core (`--concurrency 16`, one run: 52/s, 65 % of its 80/s ceiling). The 90 % aim
is not met yet on this machine; profiling and trimming the per-task cost is issue 7's work.
"""
    write_section("analysis", body)
    print(body)


if __name__ == "__main__":
    main()
