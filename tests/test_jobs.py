"""Job listings CRUD, validation and listing."""
from __future__ import annotations

import json

import pytest

FULL = {
    "company": "Initech",
    "title": "Data Scientist",
    "description": "Build models in Python and SQL.",
    "url": "https://jobs.example.com/123",
    "location": "Remote (EU)",
    "salary_min": 60000,
    "salary_max": 80000,
    "salary_currency": "EUR",
    "employment_type": "full_time",
}


def create(client, headers, **fields):
    response = client.post("/api/jobs", json={**FULL, **fields}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_create_get_and_list(client, user):
    job = create(client, user)
    assert {k: job[k] for k in FULL} == FULL
    assert client.get(f"/api/jobs/{job['id']}", headers=user).json == job
    listed = client.get("/api/jobs", headers=user)
    assert listed.json == [job]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 1


def test_put_replaces_and_patch_changes_only_named_fields(client, user):
    job = create(client, user)
    patched = client.patch(f"/api/jobs/{job['id']}", json={"title": "Senior Data Scientist"}, headers=user).json
    assert patched["title"] == "Senior Data Scientist" and patched["salary_min"] == 60000
    replaced = client.put(f"/api/jobs/{job['id']}", json={"company": "Initrode", "title": "Analyst"}, headers=user)
    assert replaced.status_code == 200
    assert replaced.json["company"] == "Initrode" and replaced.json["salary_min"] is None and replaced.json["url"] is None


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"company": "  "}, "company"),
        ({"title": ""}, "title"),
        ({"salary_min": 90000, "salary_max": 10}, "salary_min"),
        ({"salary_min": -1}, "salary_min"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"salary_currency": "euro"}, "salary_currency"),
        ({"employment_type": "forever"}, "employment_type"),
        ({"description": "x" * 50_001}, "description"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(client, user, fields, field):
    response = client.post("/api/jobs", json={**FULL, **fields}, headers=user)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_patch_cannot_break_the_salary_range(client, user):
    job = create(client, user)
    response = client.patch(f"/api/jobs/{job['id']}", json={"salary_max": 100}, headers=user)
    assert response.status_code == 422
    assert client.get(f"/api/jobs/{job['id']}", headers=user).json["salary_max"] == 80000


def test_delete_unused_listing(client, user):
    job = create(client, user)
    assert client.delete(f"/api/jobs/{job['id']}", headers=user).status_code == 204
    assert client.get(f"/api/jobs/{job['id']}", headers=user).status_code == 404
    assert client.delete(f"/api/jobs/{job['id']}", headers=user).status_code == 404


def test_delete_listing_in_use_is_409_and_keeps_it(client, user):
    job = create(client, user)
    client.post("/api/applications", json={"job_id": job["id"]}, headers=user)
    response = client.delete(f"/api/jobs/{job['id']}", headers=user)
    assert response.status_code == 409 and "application" in response.json["message"]
    assert client.get(f"/api/jobs/{job['id']}", headers=user).status_code == 200


def test_list_filters_search_sort_and_pages(client, user):
    for company, title in [("Alpha", "Engineer"), ("beta", "Designer"), ("Gamma", "Engineer 100%")]:
        create(client, user, company=company, title=title, employment_type="contract" if company == "beta" else "full_time")
    names = lambda response: [j["company"] for j in response.json]  # noqa: E731
    assert names(client.get("/api/jobs?sort=company", headers=user)) == ["Alpha", "beta", "Gamma"]
    assert names(client.get("/api/jobs?sort=-company", headers=user)) == ["Gamma", "beta", "Alpha"]
    assert names(client.get("/api/jobs?q=engineer&sort=company", headers=user)) == ["Alpha", "Gamma"]
    assert names(client.get("/api/jobs?q=100%25", headers=user)) == ["Gamma"]  # % is literal, not a wildcard
    assert names(client.get("/api/jobs?company=BET", headers=user)) == ["beta"]
    assert names(client.get("/api/jobs?employment_type=contract", headers=user)) == ["beta"]
    page = client.get("/api/jobs?sort=company&page=2&page_size=2", headers=user)
    assert names(page) == ["Gamma"]
    assert json.loads(page.headers["X-Pagination"]) == {
        "total": 3, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 2, "previous_page": 1
    }
    assert client.get("/api/jobs?sort=password_hash", headers=user).status_code == 422
