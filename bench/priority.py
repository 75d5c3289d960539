"""An interactive analysis while a 5,000-item bulk re-analysis runs, against the same request on
an idle system — the test LLM server answering every call after 200 ms.

    .venv/bin/python -m bench.priority [--runs 3] [--samples 20] [--bulk 5000]

Workers as in `make run`: interactive analysis (threads -c8), bulk lane (threads -c4).
"""
from __future__ import annotations

import argparse
import time
from datetime import date

from api import create_app
from bench.analysis import idle_latency, llm_bench_env, prepare, start_fake_llm
from bench.harness import REALDATA, machine_description, running_system, spread, write_section
from models import db
from tests.support import stack
from tests.support.seeding import seed_old_llm_results


def bulk_progress(system, run_id: str) -> dict:
    return system.http.get(f"{system.base_url}/api/analyses/reanalyze/{run_id}").json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--bulk", type=int, default=5000)
    args = parser.parse_args()

    llm = start_fake_llm()
    env = llm_bench_env()
    workers = [{"queues": "applytrack.extraction", "concurrency": 1, "name": "bench-extraction"},
               {"queues": "applytrack.analysis", "pool": "threads", "concurrency": 8, "name": "bench-analysis"},
               {"queues": "analysis_bulk,maintenance", "pool": "threads", "concurrency": 4, "name": "bench-bulk",
                "nice": 10}]
    figures: dict[str, list[float]] = {k: [] for k in ("idle_p50", "idle_p99", "busy_p50", "busy_p99", "bulk_rate",
                                                        "backlog")}
    app = create_app(env)
    listing = (REALDATA / "jobs" / "rm_e2e_en_ml-eng.txt").read_text()
    try:
        with running_system(env, workers=workers) as system:
            resume_id, job_id = prepare(system)
            user_id = system.http.get(f"{system.base_url}/api/user/profile").json()["id"]
            idle_latency(system, resume_id, job_id, 5)  # warm-up
            for _run in range(args.runs):
                p50, p99 = idle_latency(system, resume_id, job_id, args.samples)
                figures["idle_p50"].append(p50)
                figures["idle_p99"].append(p99)
                with app.app_context():
                    seed_old_llm_results(db.session, user_id, resume_id, args.bulk, listing[:800])
                run = system.http.post(f"{system.base_url}/api/analyses/reanalyze", json={}).json()
                stack.wait_until(lambda: bulk_progress(system, run["id"])["done"] >= 20, timeout=300,
                                 what="the bulk run to be under way")
                before, started = bulk_progress(system, run["id"]), time.monotonic()
                p50, p99 = idle_latency(system, resume_id, job_id, args.samples)
                after = bulk_progress(system, run["id"])
                figures["busy_p50"].append(p50)
                figures["busy_p99"].append(p99)
                figures["bulk_rate"].append((after["done"] - before["done"]) / (time.monotonic() - started))
                figures["backlog"].append(after["total"] - after["done"])
                system.http.post(f"{system.base_url}/api/analyses/reanalyze/{run['id']}/cancel")
                stack.wait_until(lambda: bulk_progress(system, run["id"])["pending"] == 0, timeout=300,
                                 what="the cancelled run to settle")
    finally:
        llm.terminate()

    ratio = [b / i for b, i in zip(figures["busy_p50"], figures["idle_p50"])]
    body = f"""
## Interactive work during a bulk re-analysis (issue 6)

`.venv/bin/python -m bench.priority --runs {args.runs} --samples {args.samples} --bulk {args.bulk}` on {date.today()}:
{machine_description()}. The LLM analyzer against the local OpenAI-compatible test server at 200 ms per
call; workers as in `make run`: interactive `analysis` threads -c8, bulk lane `analysis_bulk` threads -c4 at
`nice 10`. Each run
measures {args.samples} interactive analyses one at a time on an idle system, then starts a re-analysis of
{args.bulk} older results and measures {args.samples} more while it runs, then cancels it. Min / median / max
over {args.runs} runs.

| figure | value |
| --- | --- |
| interactive POST → succeeded, idle, p50 (ms) | {spread(figures['idle_p50'], "{:.0f}")} |
| interactive POST → succeeded, idle, p99 (ms) | {spread(figures['idle_p99'], "{:.0f}")} |
| interactive POST → succeeded, during the bulk run, p50 (ms) | {spread(figures['busy_p50'], "{:.0f}")} |
| interactive POST → succeeded, during the bulk run, p99 (ms) | {spread(figures['busy_p99'], "{:.0f}")} |
| during / idle, p50 | {spread(ratio)}× |
| bulk items still to do when the samples ended | {spread(figures['backlog'], "{:.0f}")} |
| bulk analyses/s meanwhile | {spread(figures['bulk_rate'], "{:.1f}")} |

The interactive lane has its own queue and workers, the relay publishes interactive jobs before
bulk ones, and the bulk workers run at a lower CPU priority, so a request never waits behind the
bulk backlog; what it still shares with the bulk run is the machine (2 cores for API, relay,
broker, database, test LLM and both worker pools), which is what the difference above measures.
Later runs' bulk backlog includes the pairs that the previous run's cancellation left unrefreshed.
"""
    write_section("priority", body)
    print(body)


if __name__ == "__main__":
    main()
