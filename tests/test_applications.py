"""Applications: CRUD, stage history, soft delete, lists and statistics."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from models import StatusChange, db


def new_job(client, headers, company="Acme", title="Engineer"):
    response = client.post("/api/jobs", json={"company": company, "title": title}, headers=headers)
    assert response.status_code == 201
    return response.json["id"]


def new_application(client, headers, job_id, **fields):
    response = client.post("/api/applications", json={"job_id": job_id, **fields}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_create_with_defaults(client, user, job):
    application = new_application(client, user, job["id"])
    assert application["status"] == "applied"
    assert application["applied_at"] is not None
    assert application["job"] == {"id": job["id"], "company": job["company"], "title": job["title"]}
    assert application["tags"] == [] and application["notes"] == "" and application["resume_id"] is None


def test_wishlist_has_no_applied_at_until_set(client, user, job):
    application = new_application(client, user, job["id"], status="wishlist")
    assert application["applied_at"] is None
    sent = "2026-01-05T09:30:00+00:00"
    patched = client.patch(f"/api/applications/{application['id']}", json={"status": "applied", "applied_at": sent}, headers=user)
    assert patched.json["applied_at"] == sent and patched.json["status"] == "applied"


def test_fields_are_normalised_and_validated(client, user, job):
    application = new_application(client, user, job["id"], tags=[" Remote ", "Python"], source=" LinkedIn ", notes="Referral from Sam")
    assert application["tags"] == ["remote", "python"] and application["source"] == "LinkedIn"
    for body, field in [
        ({"status": "hired"}, "status"),
        ({"tags": ["a", "A"]}, "tags"),
        ({"tags": ["x"] * 21}, "tags"),
        ({"tags": [""]}, "tags"),
        ({"applied_at": "yesterday"}, "applied_at"),
        ({"applied_at": "2026-01-05T09:30:00"}, "applied_at"),  # a time without a zone is ambiguous
        ({"notes": "n" * 20_001}, "notes"),
    ]:
        response = client.post("/api/applications", json={"job_id": job["id"], **body}, headers=user)
        assert response.status_code == 422, body
        assert field in response.json["errors"]["json"], body
    missing_job = client.post("/api/applications", json={}, headers=user)
    assert "job_id" in missing_job.json["errors"]["json"]


def test_unknown_job_or_resume_in_body_is_404(client, user, job):
    response = client.post("/api/applications", json={"job_id": str(uuid.uuid4())}, headers=user)
    assert response.status_code == 404 and response.json["message"] == "Job listing not found."
    response = client.post("/api/applications", json={"job_id": job["id"], "resume_id": str(uuid.uuid4())}, headers=user)
    assert response.status_code == 404 and response.json["message"] == "Resume not found."


def test_every_status_change_is_recorded_in_history(client, user, job):
    application = new_application(client, user, job["id"])
    url = f"/api/applications/{application['id']}"
    for status in ("screening", "screening", "interview", "offer"):
        assert client.patch(url, json={"status": status}, headers=user).status_code == 200
    client.patch(url, json={"notes": "no stage change"}, headers=user)
    history = client.get(f"{url}/history", headers=user).json
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "applied"), ("applied", "screening"), ("screening", "interview"), ("interview", "offer")
    ]
    times = [h["changed_at"] for h in history]
    assert times == sorted(times)
    assert client.get(url, headers=user).json["status_changed_at"] == times[-1]


def test_put_replaces_optional_fields_and_can_move_to_another_job(client, user, job):
    other_job = new_job(client, user, "Globex", "Analyst")
    application = new_application(client, user, job["id"], tags=["a"], notes="old", source="site")
    response = client.put(f"/api/applications/{application['id']}", json={"job_id": other_job, "status": "interview"}, headers=user)
    assert response.status_code == 200
    body = response.json
    assert body["job"]["company"] == "Globex" and body["tags"] == [] and body["notes"] == "" and body["source"] is None
    assert body["status"] == "interview"


def test_soft_delete_hides_and_restore_brings_back(client, user, job):
    application = new_application(client, user, job["id"])
    url = f"/api/applications/{application['id']}"
    assert client.delete(url, headers=user).status_code == 204
    assert client.get(url, headers=user).status_code == 404
    assert client.patch(url, json={"notes": "x"}, headers=user).status_code == 404
    assert client.get("/api/applications", headers=user).json == []
    trash = client.get("/api/applications?deleted=true", headers=user).json
    assert [a["id"] for a in trash] == [application["id"]] and trash[0]["deleted_at"]
    restored = client.post(f"{url}/restore", headers=user)
    assert restored.status_code == 200 and restored.json["deleted_at"] is None
    assert client.get(url, headers=user).status_code == 200
    assert client.post(f"{url}/restore", headers=user).status_code == 404  # nothing to restore
    assert len(client.get(f"{url}/history", headers=user).json) == 1


@pytest.fixture
def populated(client, user):
    """Three applications at known dates, stages, tags and companies."""
    acme, globex, initech = (new_job(client, user, c, t) for c, t in
                             [("Acme", "Backend Engineer"), ("Globex", "Data Analyst"), ("Initech", "Backend Lead")])
    base = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)  # a Monday
    apps = {
        "acme": new_application(client, user, acme, applied_at=base.isoformat(), tags=["remote"], notes="ping recruiter"),
        "globex": new_application(client, user, globex, applied_at=(base + timedelta(days=8)).isoformat(), status="interview"),
        "initech": new_application(client, user, initech, applied_at=(base + timedelta(days=9)).isoformat(), tags=["remote", "lead"]),
    }
    return apps


def companies(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [a["job"]["company"] for a in response.json]


def test_list_filters(client, user, populated):
    get = lambda query: companies(client.get(f"/api/applications?{query}", headers=user))  # noqa: E731
    assert get("") == ["Initech", "Globex", "Acme"]  # newest applied first by default
    assert get("status=interview") == ["Globex"]
    assert get("status=interview&status=applied") == ["Initech", "Globex", "Acme"]
    assert get("tag=REMOTE") == ["Initech", "Acme"]
    assert get("company=glob") == ["Globex"]
    assert get("q=backend") == ["Initech", "Acme"]
    assert get("q=recruiter") == ["Acme"]
    assert get("applied_from=2026-03-09T00:00:00Z&applied_to=2026-03-11T23:59:59Z") == ["Initech", "Globex"]
    assert get("sort=applied_at") == ["Acme", "Globex", "Initech"]
    assert get("sort=company") == ["Acme", "Globex", "Initech"]
    assert get("sort=-status,company") == ["Globex", "Acme", "Initech"]
    assert get("status=ghosted") == []


def test_pagination_edges(client, user, populated):
    response = client.get("/api/applications?page=2&page_size=2&sort=applied_at", headers=user)
    assert companies(response) == ["Initech"]
    assert json.loads(response.headers["X-Pagination"])["total_pages"] == 2
    beyond = client.get("/api/applications?page=9&page_size=2", headers=user)
    assert beyond.json == [] and json.loads(beyond.headers["X-Pagination"])["total"] == 3
    for query in ("page=0", "page=-1", "page_size=0", "page_size=101", "page_size=100000000000", "page=abc"):
        response = client.get(f"/api/applications?{query}", headers=user)
        assert response.status_code == 422, query
        assert response.json["errors"]["query"]
    assert client.get("/api/applications?page_size=100", headers=user).status_code == 200
    bad = client.get("/api/applications?applied_from=2026-04-01T00:00:00Z&applied_to=2026-03-01T00:00:00Z", headers=user)
    assert bad.status_code == 422


def test_stats_counts_by_stage_and_week_and_time_in_stage(app, client, user, populated):
    application_id = populated["acme"]["id"]
    client.patch(f"/api/applications/{application_id}", json={"status": "screening"}, headers=user)
    # Put the recorded moves at known times: applied for 4 days, then screening until now.
    with app.app_context():
        changes = db.session.scalars(
            db.select(StatusChange).where(StatusChange.application_id == uuid.UUID(application_id)).order_by(StatusChange.id)
        ).all()
        now = datetime.now(timezone.utc)
        changes[0].changed_at = now - timedelta(days=6)
        changes[1].changed_at = now - timedelta(days=2)
        db.session.commit()
    stats = client.get("/api/applications/stats", headers=user).json
    by_status = {row["status"]: row["count"] for row in stats["by_status"]}
    assert stats["total"] == 3
    assert by_status["screening"] == 1 and by_status["interview"] == 1 and by_status["applied"] == 1
    assert by_status["offer"] == 0
    assert stats["by_week"] == [{"week_start": "2026-03-02", "count": 1}, {"week_start": "2026-03-09", "count": 2}]
    stage = {row["status"]: row for row in stats["time_in_stage"]}
    assert stage["screening"]["samples"] == 1 and stage["screening"]["mean_days"] == pytest.approx(2, abs=0.01)
    assert stage["applied"]["samples"] == 2  # acme's finished stint and initech's ongoing one
    assert stage["offer"] == {"status": "offer", "mean_days": None, "samples": 0}
    client.delete(f"/api/applications/{application_id}", headers=user)
    assert client.get("/api/applications/stats", headers=user).json["total"] == 2
