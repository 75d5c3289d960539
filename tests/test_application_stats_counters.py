"""The statistics' counters (migration 0010's triggers) against the full scan they replace: after
every kind of change — through the API and straight in SQL — GET /api/applications/stats answers
exactly what recomputing from every application and stage change answers."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from models import StatusChange, db

# The statistics as they were computed before the counters: every row of the user's history.
_FULL_SCAN = {
    "by_status": """
        SELECT s.slug AS status, COUNT(a.id) AS count
        FROM application_statuses s
        LEFT JOIN applications a ON a.status = s.slug AND a.user_id = :user_id AND a.deleted_at IS NULL
        GROUP BY s.slug, s.position ORDER BY s.position""",
    "by_week": """
        SELECT date_trunc('week', applied_at AT TIME ZONE 'UTC')::date AS week_start, COUNT(*) AS count
        FROM applications WHERE user_id = :user_id AND deleted_at IS NULL AND applied_at IS NOT NULL
        GROUP BY week_start ORDER BY week_start""",
    "time_in_stage": """
        WITH stints AS (
            SELECT c.to_status AS status,
                   COALESCE(LEAD(c.changed_at) OVER w, now()) - c.changed_at AS duration
            FROM application_status_changes c JOIN applications a ON a.id = c.application_id
            WHERE a.user_id = :user_id AND a.deleted_at IS NULL
            WINDOW w AS (PARTITION BY c.application_id ORDER BY c.changed_at, c.id))
        SELECT s.slug AS status, AVG(EXTRACT(EPOCH FROM stints.duration)) / 86400.0 AS mean_days,
               COUNT(stints.status) AS samples
        FROM application_statuses s LEFT JOIN stints ON stints.status = s.slug
        GROUP BY s.slug, s.position ORDER BY s.position""",
}


def full_scan(user_id: str) -> dict:
    """Both computed in one transaction, so ``now()`` is the same instant for both."""
    from services.application_stats import application_stats

    params = {"user_id": uuid.UUID(user_id)}
    by_status = [dict(r._mapping) for r in db.session.execute(text(_FULL_SCAN["by_status"]), params)]
    expected = {
        "total": sum(row["count"] for row in by_status),
        "by_status": by_status,
        "by_week": [dict(r._mapping) for r in db.session.execute(text(_FULL_SCAN["by_week"]), params)],
        "time_in_stage": [
            {"status": r.status, "mean_days": None if r.mean_days is None else round(float(r.mean_days), 3),
             "samples": r.samples}
            for r in db.session.execute(text(_FULL_SCAN["time_in_stage"]), params)
        ],
    }
    actual = application_stats(uuid.UUID(user_id))
    db.session.rollback()
    return expected, actual


def owner_of_job(app, job_id: str) -> str:
    with app.app_context():
        owner = db.session.execute(text("SELECT user_id FROM job_listings WHERE id = :j"), {"j": uuid.UUID(job_id)})
        return str(owner.scalar_one())


def assert_counters_exact(app, user_id: str) -> None:
    with app.app_context():
        expected, actual = full_scan(user_id)
    assert actual == expected


def assert_list_totals_exact(client, headers) -> None:
    """The board's list totals come from the counters too: each equals the rows listed."""
    for query in ("", "status=applied", "status=interview&status=offer", "status=wishlist"):
        listed = client.get(f"/api/applications?page_size=100&{query}", headers=headers)
        assert json.loads(listed.headers["X-Pagination"]).get("total", 0) == len(listed.json), query


def test_counters_follow_every_change(app, client, auth, user):
    second_user = auth.headers()
    job = client.post("/api/jobs", json={"company": "Acme", "title": "Engineer"}, headers=user).json["id"]
    me = owner_of_job(app, job)
    ids = []
    for status, applied_at in [("applied", "2026-03-03T10:00:00Z"), ("wishlist", None), ("interview", None),
                               ("applied", "2026-03-10T23:30:00Z")]:
        body = {"job_id": job, "status": status, **({"applied_at": applied_at} if applied_at else {})}
        ids.append(client.post("/api/applications", json=body, headers=user).json["id"])
    other_job = client.post("/api/jobs", json={"company": "Else", "title": "Chef"}, headers=second_user).json["id"]
    other = owner_of_job(app, other_job)
    client.post("/api/applications", json={"job_id": other_job}, headers=second_user)
    assert_counters_exact(app, me)

    # Moves (the wishlist one gains applied_at), a PUT, a field change that is no move.
    for application_id, status in [(ids[0], "screening"), (ids[1], "applied"), (ids[0], "interview"),
                                   (ids[2], "offer"), (ids[0], "rejected")]:
        assert client.patch(f"/api/applications/{application_id}", json={"status": status}, headers=user).status_code == 200
    client.put(f"/api/applications/{ids[3]}", json={"job_id": job, "status": "ghosted"}, headers=user)
    client.patch(f"/api/applications/{ids[2]}", json={"notes": "called"}, headers=user)
    assert_counters_exact(app, me)

    # Soft delete and restore take the whole history out and back.
    client.delete(f"/api/applications/{ids[0]}", headers=user)
    assert_counters_exact(app, me)
    assert_list_totals_exact(client, user)
    client.post(f"/api/applications/{ids[0]}/restore", headers=user)
    client.delete(f"/api/applications/{ids[2]}", headers=user)
    assert_counters_exact(app, me)

    with app.app_context():
        # History rewritten in SQL: backdated, one statement inserting two moves of one
        # application out of order, one move removed, applied_at moved across a week.
        changes = db.session.scalars(db.select(StatusChange).where(StatusChange.application_id == uuid.UUID(ids[0]))
                                     .order_by(StatusChange.id)).all()
        now = datetime.now(timezone.utc)
        for back, change in enumerate(reversed(changes)):
            change.changed_at = now - timedelta(days=3 * back + 1)
        db.session.commit()
        db.session.execute(text(
            "INSERT INTO application_status_changes (application_id, from_status, to_status, changed_at) VALUES "
            "(:a, 'applied', 'screening', now() - interval '30 days'), (:a, 'screening', 'interview', now())"),
            {"a": ids[3]})
        db.session.execute(text("DELETE FROM application_status_changes WHERE id = :id"), {"id": changes[1].id})
        db.session.execute(text("UPDATE applications SET applied_at = applied_at + interval '1 day' "
                                "WHERE user_id = :u"), {"u": uuid.UUID(me)})
        db.session.commit()
    assert_counters_exact(app, me)

    with app.app_context():
        # An application deleted outright (live, then a deleted one), with its history.
        db.session.execute(text("DELETE FROM applications WHERE id IN (:a, :b)"),
                           {"a": uuid.UUID(ids[3]), "b": uuid.UUID(ids[2])})
        db.session.commit()
    assert_counters_exact(app, me)
    assert_counters_exact(app, other)

    assert_list_totals_exact(client, user)

    # A user deleted outright takes their counters along and leaves the others'.
    with app.app_context():
        db.session.execute(text("DELETE FROM users WHERE id = :u"), {"u": uuid.UUID(me)})
        db.session.commit()
        left = db.session.execute(text("SELECT count(*) FROM application_stage_stats WHERE user_id = :u"),
                                  {"u": uuid.UUID(me)}).scalar_one()
        assert left == 0
    assert_counters_exact(app, other)


def test_one_users_concurrent_moves_neither_deadlock_nor_drift(app, client, user):
    """Two requests at once, moving two applications of one user through crossing stages (the
    counter rows of several stages locked by each): every request succeeds, the counts stay exact."""
    import threading

    job = client.post("/api/jobs", json={"company": "Acme", "title": "Engineer"}, headers=user).json["id"]
    me = owner_of_job(app, job)
    ids = [client.post("/api/applications", json={"job_id": job}, headers=user).json["id"] for _ in range(2)]
    paths = {ids[0]: ["screening", "interview", "wishlist", "offer", "applied"] * 4,
             ids[1]: ["offer", "wishlist", "interview", "applied", "screening"] * 4}
    failures = []

    def move(application_id: str) -> None:
        own_client = app.test_client()
        for status in paths[application_id]:
            response = own_client.patch(f"/api/applications/{application_id}", json={"status": status}, headers=user)
            if response.status_code != 200:
                failures.append((response.status_code, response.json))

    threads = [threading.Thread(target=move, args=(application_id,)) for application_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert_counters_exact(app, me)
