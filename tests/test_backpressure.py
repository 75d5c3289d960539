"""Saying "not now": analyses refused with 429/503 and Retry-After when the backlog is too deep,
while CRUD keeps answering — on the real broker, with the analysis worker stopped."""
from __future__ import annotations

from api import create_app
from tests.conftest import REALDATA, Auth, make_test_env, upload, wait_for_extraction
from tests.support import stack

ML_RESUME = (REALDATA / "resumes" / "rm_latex_moderncv_harvey_dent_mle.pdf").read_bytes()


def _setup(client, headers, listings: int) -> tuple[str, list[str]]:
    resume = wait_for_extraction(client, headers, upload(client, headers, ML_RESUME).json["id"])
    job_ids = [client.post("/api/jobs", json={"company": f"Co {i}", "title": "ML", "description": f"python {i}"},
                           headers=headers).json["id"] for i in range(listings)]
    return resume["id"], job_ids


def test_a_users_own_backlog_is_limited_with_429(migrated_database, workers):
    workers.analysis_worker.stop()  # nothing drains: analyses stay unfinished
    client = create_app({**make_test_env(), "USER_MAX_ANALYSIS_BACKLOG": "2"}).test_client()
    headers = Auth(client).headers()
    resume_id, job_ids = _setup(client, headers, 3)
    for job_id in job_ids[:2]:
        assert client.post(f"/api/resumes/{resume_id}/analyze", json={"job_id": job_id}, headers=headers).status_code == 202
    refused = client.post(f"/api/resumes/{resume_id}/analyze", json={"job_id": job_ids[2]}, headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "2 analyses still waiting" in refused.json["message"]
    # Asking again for work already queued is not new work: still answered.
    assert client.post(f"/api/resumes/{resume_id}/analyze", json={"job_id": job_ids[0]}, headers=headers).status_code == 202
    assert client.get("/api/jobs", headers=headers).status_code == 200
    other = Auth(client).headers()  # another user is not held back by this one
    other_resume, other_jobs = _setup(client, other, 1)
    assert client.post(f"/api/resumes/{other_resume}/analyze", json={"job_id": other_jobs[0]}, headers=other).status_code == 202


def test_a_full_analysis_queue_answers_503_with_retry_after(migrated_database, workers):
    workers.analysis_worker.stop()
    client = create_app({**make_test_env(), "ANALYSIS_MAX_BACKLOG": "3", "BACKLOG_CACHE_SECONDS": "0"}).test_client()
    headers = Auth(client).headers()
    resume_id, job_ids = _setup(client, headers, 4)
    for job_id in job_ids[:3]:
        assert client.post(f"/api/resumes/{resume_id}/analyze", json={"job_id": job_id}, headers=headers).status_code == 202
    stack.wait_until(lambda: stack.queue_depth("applytrack.analysis") >= 3, timeout=10, what="3 messages in the analysis queue")
    refused = client.post(f"/api/resumes/{resume_id}/analyze", json={"job_id": job_ids[3]}, headers=headers)
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 5
    assert "queue is full" in refused.json["message"]
    assert client.get(f"/api/resumes/{resume_id}", headers=headers).status_code == 200
    assert client.post("/api/jobs", json={"company": "Still", "title": "Works"}, headers=headers).status_code == 201
    workers.analysis_worker.start()
    stack.wait_until(lambda: stack.queue_depth("applytrack.analysis") == 0, timeout=30, what="the queue to drain")
    accepted = client.post(f"/api/resumes/{resume_id}/analyze", json={"job_id": job_ids[3]}, headers=headers)
    assert accepted.status_code == 202
