"""Nobody sees or touches another user's data: every route with an id in its path, tried with
a second user's token against the first user's ids, must answer exactly like a missing id."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import REALDATA, upload


@pytest.fixture
def owner_data(client, auth):
    headers = auth.headers()
    job = client.post("/api/jobs", json={"company": "Secret Co", "title": "Spy", "description": "classified"}, headers=headers).json
    application = client.post("/api/applications", json={"job_id": job["id"], "notes": "private"}, headers=headers).json
    deleted = client.post("/api/applications", json={"job_id": job["id"]}, headers=headers).json
    client.delete(f"/api/applications/{deleted['id']}", headers=headers)
    resume = upload(client, headers, (REALDATA / "resumes" / "rm_latex_plain_john_doe.pdf").read_bytes()).json
    analysis = client.post(f"/api/resumes/{resume['id']}/analyze", json={"job_id": job["id"]}, headers=headers).json
    bulk_run = client.post("/api/analyses/reanalyze", json={}, headers=headers).json
    return {"headers": headers, "job": job, "application": application, "deleted": deleted, "resume": resume,
            "analysis": analysis, "bulk_run": bulk_run}


def id_routes(app):
    """Every user route with an id in its path (administrators' routes answer 403 to users:
    tests/test_operations.py checks those)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("dlq."):
            continue
        if rule.rule.startswith("/api/") and any(arg.endswith("_id") for arg in rule.arguments):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def test_every_id_route_answers_404_for_another_users_ids(app, client, auth, owner_data):
    intruder = auth.headers()
    intruder_job = client.post("/api/jobs", json={"company": "Mine", "title": "Mine"}, headers=intruder).json
    ids = {
        "job_id": owner_data["job"]["id"],
        "application_id": owner_data["application"]["id"],
        "resume_id": owner_data["resume"]["id"],
        "background_job_id": owner_data["resume"]["extraction_job_id"],
        "analysis_id": owner_data["analysis"]["id"],
        "bulk_run_id": owner_data["bulk_run"]["id"],
    }
    bodies = {  # valid bodies, so that nothing but ownership can fail
        ("PUT", "jobs"): {"company": "Pwned", "title": "Pwned"},
        ("PATCH", "jobs"): {"title": "Pwned"},
        ("PUT", "applications"): {"job_id": intruder_job["id"]},
        ("PATCH", "applications"): {"notes": "pwned"},
        ("PUT", "resumes"): {"name": "pwned"},
        ("PATCH", "resumes"): {"name": "pwned"},
        ("POST", "analyses"): {"job_id": intruder_job["id"]},
    }
    tried = 0
    for rule, method in id_routes(app):
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<uuid:{arg}>", ids[arg])  # a new kind of id must be added above
        blueprint = rule.endpoint.split(".")[0]
        body = bodies.get((method, blueprint))
        response = client.open(url, method=method, json=body, headers=intruder)
        assert response.status_code == 404, (method, url, response.json)
        # ... exactly like an id that does not exist at all
        missing_url = url
        for value in ids.values():
            missing_url = missing_url.replace(value, str(uuid.uuid4()))
        missing = client.open(missing_url, method=method, json=body, headers=intruder)
        assert missing.status_code == 404 and missing.json == response.json, (method, url)
        tried += 1
    assert tried >= 22

    owner = owner_data["headers"]
    assert client.get(f"/api/jobs/{owner_data['job']['id']}", headers=owner).json == owner_data["job"]
    application = client.get(f"/api/applications/{owner_data['application']['id']}", headers=owner).json
    assert application["notes"] == "private"
    resume = client.get(f"/api/resumes/{owner_data['resume']['id']}", headers=owner).json
    assert resume["name"] == owner_data["resume"]["name"]


def test_restore_of_another_users_deleted_application_is_404(client, auth, owner_data):
    response = client.post(f"/api/applications/{owner_data['deleted']['id']}/restore", headers=auth.headers())
    assert response.status_code == 404
    trash = client.get("/api/applications?deleted=true", headers=owner_data["headers"]).json
    assert [a["id"] for a in trash] == [owner_data["deleted"]["id"]]


def test_other_users_ids_inside_a_body_are_404(client, auth, owner_data):
    intruder = auth.headers()
    foreign_job = owner_data["job"]["id"]
    response = client.post("/api/applications", json={"job_id": foreign_job}, headers=intruder)
    assert response.status_code == 404 and response.json["message"] == "Job listing not found."
    own_job = client.post("/api/jobs", json={"company": "Mine", "title": "Mine"}, headers=intruder).json["id"]
    own = client.post("/api/applications", json={"job_id": own_job}, headers=intruder).json
    response = client.patch(f"/api/applications/{own['id']}", json={"job_id": foreign_job}, headers=intruder)
    assert response.status_code == 404
    foreign_resume = owner_data["resume"]["id"]
    response = client.patch(f"/api/applications/{own['id']}", json={"resume_id": foreign_resume}, headers=intruder)
    assert response.status_code == 404 and response.json["message"] == "Resume not found."
    assert client.get(f"/api/applications/{own['id']}", headers=intruder).json["job_id"] == own_job


def test_lists_and_stats_show_only_own_data(client, auth, owner_data):
    intruder = auth.headers()
    assert client.get("/api/jobs", headers=intruder).json == []
    assert client.get("/api/applications", headers=intruder).json == []
    assert client.get("/api/applications?deleted=true", headers=intruder).json == []
    assert client.get("/api/applications?q=private", headers=intruder).json == []
    assert client.get("/api/applications/stats", headers=intruder).json["total"] == 0
    assert client.get("/api/resumes", headers=intruder).json == []
    assert client.get("/api/background-jobs", headers=intruder).json == []
