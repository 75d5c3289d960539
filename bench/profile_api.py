"""Where an API request's time goes, in process (no HTTP, no load generator): SQL statements
per request and a cProfile of the hot path. The figures that explain bench.http's results.

    python -m bench.profile_api --requests 500 [--endpoint analyze|applications|analysis]
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections import Counter

from sqlalchemy import event

from bench.harness import BENCH_DB, bench_env
from bench.http import seed_users
from services.database_admin import ensure_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--endpoint", choices=["analyze", "applications", "analysis"], default="analyze")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key: cumulative or tottime")
    args = parser.parse_args()

    os.environ.update(bench_env())
    ensure_database(BENCH_DB)
    from flask_migrate import upgrade

    from api import create_app
    from models import db

    app = create_app()
    with app.app_context():
        upgrade()
    users = seed_users(app, count=1)
    user = users[0]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {user['token']}"}
    paths = {
        "analyze": ("POST", f"/api/resumes/{user['resume_id']}/analyze", {"job_id": user["job_id"], "force": True}),
        "applications": ("GET", "/api/applications?status=applied&status=interview&sort=-applied_at&page_size=20", None),
        "analysis": ("GET", f"/api/analyses/{user['analysis_id']}", None),
    }
    method, path, body = paths[args.endpoint]

    def call():
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code < 300, (response.status_code, response.get_data(as_text=True))

    statements: Counter = Counter()
    with app.app_context():
        engine = db.engine

    def count(_conn, _cursor, statement, *_args):
        statements[statement.split()[0].upper() if statement.strip() else "?"] += 1

    for _ in range(20):  # warm up pools and caches
        call()
    event.listen(engine, "before_cursor_execute", count)
    call()
    event.remove(engine, "before_cursor_execute", count)
    print(f"{method} {path}: {sum(statements.values())} SQL statements per request {dict(statements)}")

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.requests):
        call()
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"{args.requests / elapsed:.0f} req/s in process under cProfile ({1000 * elapsed / args.requests:.2f} ms each)")
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    started = time.perf_counter()
    for _ in range(args.requests):
        call()
    elapsed = time.perf_counter() - started
    print(f"{args.requests / elapsed:.0f} req/s in process without the profiler ({1000 * elapsed / args.requests:.2f} ms each)")


if __name__ == "__main__":
    main()
