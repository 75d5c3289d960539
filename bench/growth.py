"""Does a request cost more as its user's data grows? On one database holding 200,000
applications of 1,000 other users, the same requests for a user with 20 applications and for
one with 20,000, median of 15 sequential requests each, both users in the same run.

The data is built in the database (INSERT … SELECT generate_series), not through the API: a
listing per application, 1–2 stage changes each, tags, notes, a few deleted. It is built once
per database and reused (``--rebuild`` starts again); ``--write`` puts the table in BENCHMARKS.md;
``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of every SELECT each request runs for the
large user (in process, after the measured run).

    python -m bench.growth [--samples 15] [--rebuild] [--write] [--explain]
"""
from __future__ import annotations

import argparse
import statistics
import time

import requests
from sqlalchemy import create_engine, event, text

from bench import harness

GROWTH_DB = "postgresql+psycopg2://postgres@127.0.0.1:5432/applytrack_bench_growth"
OTHER_USERS, OTHER_APPLICATIONS = 1_000, 200_000
SMALL, LARGE = 20, 20_000
PASSWORD = "growth-bench-password"
STAGES = ("wishlist", "applied", "screening", "interview", "offer", "accepted", "rejected", "withdrawn", "ghosted")
TAGS = ("remote", "referral", "dream", "startup", "fintech", "urgent", "contract", "backend")

# (label, path): what the table measures.
REQUESTS = (
    ("GET /api/applications", "/api/applications"),
    ("GET /api/applications?tag=…&company=…", "/api/applications?tag=remote&company=acme"),
    ("GET /api/applications?q=…", "/api/applications?q=kubernetes"),
    ("GET /api/applications/stats", "/api/applications/stats"),
    ("GET /api/jobs", "/api/jobs"),
)

GOALS = dict(zip((label for label, _ in REQUESTS), (2, 2, 3, 3, 2)))

# One user's data: a listing per application (companies and titles from small pools, so
# filters match a share of rows as they would in life), then the application, then its history.
_BUILD = """
CREATE TEMP TABLE seed ON COMMIT DROP AS
SELECT g, gen_random_uuid() AS job_id, gen_random_uuid() AS app_id, u.id AS user_id,
       now() - make_interval(days => ((g * 7919) % 900)::int, secs => ((g * 104729) % 86400)::double precision) AS at
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM users WHERE email LIKE :emails) u
JOIN generate_series(0, :per_user - 1) s(i) ON true
CROSS JOIN LATERAL (SELECT u.n * :per_user + s.i AS g) x;

INSERT INTO job_listings (id, user_id, company, title, description, created_at, updated_at)
SELECT job_id, user_id,
       (ARRAY['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Wonka'])[1 + g % 8]
         || ' ' || (g % 97),
       (ARRAY['Backend engineer', 'Data analyst', 'Nurse', 'Accountant', 'Site reliability engineer',
              'Product manager', 'Chef', 'Sales lead'])[1 + (g / 8) % 8] || ' ' || (g % 13),
       'A listing.', at, at
FROM seed;

INSERT INTO applications (id, user_id, job_id, status, applied_at, status_changed_at, notes, source, tags,
                          deleted_at, needs_follow_up, created_at, updated_at)
SELECT app_id, user_id, job_id, ((:stages)::text[])[1 + g % 9],
       CASE WHEN g % 9 = 0 THEN NULL ELSE at END, at + interval '3 days',
       CASE WHEN g % 50 = 0 THEN 'Asked about kubernetes and on-call.' ELSE 'Sent the usual letter.' END,
       NULL,
       CASE WHEN g % 3 = 0 THEN ARRAY[((:tags)::text[])[1 + g % 8]]::varchar(50)[] ELSE '{}' END,
       CASE WHEN g % 40 = 0 THEN at + interval '5 days' END, false, at, at
FROM seed;

INSERT INTO application_status_changes (application_id, from_status, to_status, changed_at)
SELECT app_id, NULL, CASE WHEN g % 9 = 0 THEN 'wishlist' ELSE 'applied' END, at FROM seed;
INSERT INTO application_status_changes (application_id, from_status, to_status, changed_at)
SELECT app_id, 'applied', ((:stages)::text[])[1 + g % 9], at + interval '3 days' FROM seed WHERE g % 9 > 1;
"""


def _register(base_url: str, email: str) -> str:
    http = requests.Session()
    response = http.post(f"{base_url}/api/auth/register", json={"email": email, "password": PASSWORD})
    if response.status_code not in (201, 409):
        response.raise_for_status()
    tokens = http.post(f"{base_url}/api/auth/login", json={"email": email, "password": PASSWORD})
    tokens.raise_for_status()
    return tokens.json()["access_token"]


def build(engine, base_url: str, *, rebuild: bool) -> dict[str, str]:
    """The two measured users' tokens; the data built first unless it already is."""
    with engine.begin() as connection:
        built = connection.execute(text("SELECT count(*) FROM users WHERE email LIKE 'growth-%'")).scalar_one()
        if rebuild or built < OTHER_USERS + 2:
            connection.execute(text("TRUNCATE users CASCADE"))
            connection.execute(text(
                "INSERT INTO users (id, email, password_hash, created_at, updated_at) "
                "SELECT gen_random_uuid(), 'growth-other-' || g || '@example.com', 'x', now(), now() "
                "FROM generate_series(1, :n) g"), {"n": OTHER_USERS})
    tokens = {"small": _register(base_url, "growth-small@example.com"),
              "large": _register(base_url, "growth-large@example.com")}
    with engine.connect() as connection:
        empty = connection.execute(text("SELECT count(*) FROM applications")).scalar_one() == 0
    if empty:
        started = time.perf_counter()
        for emails, per_user in (("growth-other-%", OTHER_APPLICATIONS // OTHER_USERS),
                                 ("growth-small@%", SMALL), ("growth-large@%", LARGE)):
            with engine.begin() as connection:
                for statement in _BUILD.strip().split(";\n\n"):
                    connection.execute(text(statement), {"emails": emails, "per_user": per_user,
                                                         "stages": list(STAGES), "tags": list(TAGS)})
        print(f"built in {time.perf_counter() - started:.0f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return tokens


def measure(base_url: str, token: str, path: str, samples: int) -> float:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    http.get(base_url + path).raise_for_status()  # warm: the first request of a kind compiles its SQL
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        response = http.get(base_url + path)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return statistics.median(timings)


def explain(env: dict, token: str) -> None:
    """Each request once in process, with the plan of every SELECT it runs, as it ran."""
    import os

    from api import create_app
    from models import db

    os.environ.update(env)
    app = create_app()
    with app.app_context():
        engine = db.engine
    captured: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, *_args):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and ("applications" in statement or "job_listings" in statement):
            captured.append((statement, parameters))

    client = app.test_client()
    event.listen(engine, "before_cursor_execute", capture)
    for label, path in REQUESTS:
        captured.clear()
        client.get(path, headers={"Authorization": f"Bearer {token}"})
        print(f"\n===== {label}  ({path})")
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in list(captured):
                if "FROM users" in statement or "auth_sessions" in statement:
                    continue  # the login session's lookup, the same for every request
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                print("\n".join(row[0] for row in cursor.fetchall()), "\n")
            raw.rollback()
        finally:
            raw.close()
    event.remove(engine, "before_cursor_execute", capture)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    parser.add_argument("--explain", action="store_true", help="print the plans of the large user's requests")
    args = parser.parse_args()

    env = harness.bench_env(DATABASE_URL=GROWTH_DB)
    engine = create_engine(GROWTH_DB)
    with harness.running_system(env, workers=[]) as system:
        tokens = build(engine, system.base_url, rebuild=args.rebuild)
        rows = []
        for label, path in REQUESTS:
            small = measure(system.base_url, tokens["small"], path, args.samples)
            large = measure(system.base_url, tokens["large"], path, args.samples)
            rows.append((label, small, large))
            print(f"{label:45} {small:7.1f} ms {large:7.1f} ms {large / small:5.1f}×", flush=True)
    engine.dispose()
    if args.explain:
        explain(env, tokens["large"])
    table = "\n".join(f"| `{label}` | {small:.1f} ms | {large:.1f} ms | {large / small:.1f}× | ≤ {GOALS[label]}× |"
                      for label, small, large in rows)
    print(table)
    if args.write:
        harness.write_section("growth", GROWTH_SECTION.format(
            date=time.strftime("%Y-%m-%d"), machine=harness.machine_description(), samples=args.samples, table=table))


GROWTH_SECTION = """
## Cost as a user's data grows (issue 18)

`.venv/bin/python -m bench.growth --samples {samples}` on {date}: {machine}. One database holding
200,000 applications of 1,000 other users, a user with 20 applications and one with 20,000 (each
with a listing per application, 1–2 stage changes, tags, notes, 2.5 % deleted), built in SQL by
the probe. Median of {samples} sequential requests of each kind per user, same run, through
gunicorn (2 × 8) on loopback.

| request | 20 apps | 20,000 apps | ratio | goal |
|---|---|---|---|---|
{table}

Before (the same probe at commit f6c44f5, same machine, under the same shared load): 33 / 531 ms
(16×), 39 / 88 ms (2.3×), 40 / 542 ms (14×), 26 / 433 ms (17×), 15 / 66 ms (4.4×). This machine's
load average was 6–8 on its 2 cores during both runs (other sessions' tests): a 20-application
request's own figure moves by 2× between runs; the ratio within one run is the figure to read.

What changed, each proven with `--explain` (EXPLAIN (ANALYZE, BUFFERS) of each request's SQL for
the large user):
- the page's total was `count(*) OVER ()`, which made PostgreSQL fetch, join and sort all of the
  user's rows for every page (a parallel seq scan and a 19,500-row sort: 717 ms under load). The
  total is now a subquery run once (an InitPlan): for the board's lists (all live applications,
  or some stages) the sum of the per-stage counters below (9 rows), otherwise a count of the
  matching applications alone through their indexes; the page is read from
  `ix_applications_user_applied (user_id, applied_at DESC NULLS LAST, id) WHERE deleted_at IS
  NULL` and stops after its 20 rows (0.3 ms of SQL at 20,000 applications);
- tags: GIN `(user_id, tags)` (btree_gin), so a tag is looked up within the user, then each match's
  listing is checked for the company;
- search: trigram GIN indexes `(user_id, notes)` and `(user_id, company, title)` (pg_trgm), the
  `q` condition a UNION of the two lookups instead of an OR across the join;
- statistics: per-user counters kept exact by triggers (migration 0010) — the stats read ≤ 10
  rows (0.1 ms of SQL) instead of windowing 390,000 stage changes (213 ms);
- job listings: `(user_id, created_at DESC NULLS LAST, id)` for the default order.

What still grows: the total stays exact (the web app reads `total_pages` to load every page), so
a filter or search that matches thousands of a user's rows pays for counting them (an index-only
scan or a bitmap: about 2 ms per 20,000 matches here).
"""


if __name__ == "__main__":
    main()
