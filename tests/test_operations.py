"""What operators use: admin role, the dead-letter queue (API and replay script agreeing),
health and readiness probes, and Prometheus metrics — on the real broker and workers."""
from __future__ import annotations

import uuid

import pytest

from api import create_app
from models import BackgroundJob, db
from services import dead_letters
from tests.conftest import (PASSWORD, REALDATA, bearer, make_test_env, upload, wait_for_analysis, wait_for_extraction,
                            wait_for_job)
from tests.support import stack

DLQ = "applytrack.dead-letter"
ML_RESUME = (REALDATA / "resumes" / "rm_latex_moderncv_harvey_dent_mle.pdf").read_bytes()
ML_LISTING = (REALDATA / "jobs" / "rm_e2e_en_ml-eng.txt").read_text()


@pytest.fixture
def admin(app, client):
    email = f"ops-{uuid.uuid4().hex[:6]}@example.com"
    result = app.test_cli_runner().invoke(args=["users", "create-admin", email, "--password", PASSWORD])
    assert result.exit_code == 0 and "is an administrator" in result.output, result.output
    tokens = client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json
    return {"email": email, "headers": bearer(tokens["access_token"])}


def messages_for(job_id: str) -> list[dict]:
    return [m for m in stack.peek_messages(DLQ) if m["properties"]["headers"]["id"] == job_id]


@pytest.fixture
def dead_analyses(llm_client, user, workers, llm):
    """Analyses that died because the LLM endpoint refused our key (dead at the first attempt)."""
    resume = wait_for_extraction(llm_client, user, upload(llm_client, user, ML_RESUME).json["id"])
    job_id = llm_client.post("/api/jobs", json={"company": "Acme", "title": "ML", "description": ML_LISTING},
                             headers=user).json["id"]

    def make(count: int) -> list[dict]:
        llm.script.control({"faults": ["401"] * count})
        made = []
        for _ in range(count):
            accepted = llm_client.post(f"/api/resumes/{resume['id']}/analyze", json={"job_id": job_id, "force": True},
                                       headers=user).json
            made.append(wait_for_analysis(llm_client, user, accepted["id"]))
        assert {a["state"] for a in made} == {"dead"}
        for analysis in made:
            stack.wait_until(lambda: messages_for(analysis["background_job_id"]), timeout=10, what="dead letter")
        return made

    return make


def test_ordinary_users_get_403_on_every_dlq_route(app, client, user):
    routes = [(rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/dlq")
              for method in rule.methods - {"HEAD", "OPTIONS"}]
    assert len(routes) >= 5
    for rule, method in routes:
        url = rule.rule.replace("<uuid:dead_job_id>", str(uuid.uuid4()))
        response = client.open(url, method=method, json={"ids": [str(uuid.uuid4())]}, headers=user)
        assert response.status_code == 403, (method, url)
        assert response.json["message"] == "This endpoint is for administrators."


def test_create_admin_promotes_an_existing_account(app, client, auth):
    email = auth.register()
    result = app.test_cli_runner().invoke(args=["users", "create-admin", email])
    assert result.exit_code == 0
    assert client.get("/api/user/profile", headers=auth.headers(email)).json["role"] == "admin"


def test_dlq_lists_dead_jobs_and_a_requeue_brings_them_back(client, llm_client, user, admin, dead_analyses, llm):
    [analysis] = dead_analyses(1)
    job_id = analysis["background_job_id"]
    listed = client.get("/api/dlq?kind=analysis", headers=admin["headers"])
    assert listed.status_code == 200
    [entry] = [e for e in listed.json if e["id"] == job_id]
    assert entry["task"] == "analysis.run" and entry["subject_id"] == analysis["id"] and entry["attempts"] == 1
    assert entry["last_error_class"] == "LLMEndpointRejected" and "401" in entry["last_error"]
    assert entry["first_failure_at"] and entry["last_failure_at"] and entry["died_at"]
    assert client.get("/api/dlq?error_class=RateLimitError", headers=admin["headers"]).json == []

    # The operator fixes the key; the LLM answers again.
    llm.script.control({"faults": []})
    outcome = client.post(f"/api/dlq/{job_id}/requeue", headers=admin["headers"])
    assert outcome.status_code == 200 and outcome.json["requeued"] == [job_id]
    replayed = wait_for_analysis(llm_client, user, analysis["id"])
    assert replayed["state"] == "succeeded" and replayed["attempts"] == 1 and replayed["result"]["score"] >= 0
    assert messages_for(job_id) == []
    assert client.get("/api/dlq", headers=admin["headers"]).json == []
    assert client.post(f"/api/dlq/{job_id}/requeue", headers=admin["headers"]).status_code == 404
    [action] = client.get("/api/dlq/actions", headers=admin["headers"]).json
    assert action == {**action, "job_id": job_id, "action": "requeue", "actor": admin["email"], "source": "api"}


def test_discard_removes_the_message_and_is_recorded(client, admin, dead_analyses):
    [analysis] = dead_analyses(1)
    job_id = analysis["background_job_id"]
    response = client.delete(f"/api/dlq/{job_id}?note=duplicate%20of%20another", headers=admin["headers"])
    assert response.status_code == 200 and response.json["discarded"] == [job_id]
    assert messages_for(job_id) == [] and client.get("/api/dlq", headers=admin["headers"]).json == []
    [action] = client.get("/api/dlq/actions", headers=admin["headers"]).json
    assert action["action"] == "discard" and action["note"] == "duplicate of another"


def test_requeue_many_by_filter_and_validation(client, llm_client, user, admin, dead_analyses, llm):
    dead = dead_analyses(2)
    assert client.post("/api/dlq/requeue", json={}, headers=admin["headers"]).status_code == 422
    llm.script.control({"faults": []})
    response = client.post("/api/dlq/requeue", json={"kind": "analysis", "error_class": "LLMEndpointRejected"},
                           headers=admin["headers"])
    assert sorted(response.json["requeued"]) == sorted(a["background_job_id"] for a in dead)
    for analysis in dead:
        assert wait_for_analysis(llm_client, user, analysis["id"])["state"] == "succeeded"


def test_the_replay_script_and_the_api_agree(app, client, llm_client, user, admin, dead_analyses, llm):
    first, second = dead_analyses(2)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["dlq", "replay", "--dry-run", "--task", "analysis.run"])
    assert dry.exit_code == 0, dry.output
    for analysis in (first, second):
        assert f"{analysis['background_job_id']}" in dry.output
    assert "in broker" in dry.output and "dry run: nothing changed" in dry.output
    assert len(client.get("/api/dlq", headers=admin["headers"]).json) == 2

    llm.script.control({"faults": []})
    run = runner.invoke(args=["dlq", "replay", "--id", first["background_job_id"], "--actor", "alice", "--rate", "50"])
    assert run.exit_code == 0 and "requeued=1" in run.output, run.output
    assert wait_for_analysis(llm_client, user, first["id"])["state"] == "succeeded"
    # The API sees what the script moved, and the record says who moved it.
    assert [e["id"] for e in client.get("/api/dlq", headers=admin["headers"]).json] == [second["background_job_id"]]
    actions = client.get("/api/dlq/actions", headers=admin["headers"]).json
    assert actions[0]["actor"] == "alice" and actions[0]["source"] == "cli"
    again = runner.invoke(args=["dlq", "replay", "--id", first["background_job_id"]])
    assert "0 dead job(s) selected" in again.output and "requeued=0" in again.output


def test_a_replay_that_stops_before_its_ack_loses_nothing_and_a_second_run_duplicates_nothing(
        app, llm_client, user, dead_analyses, llm):
    [analysis] = dead_analyses(1)
    job_id = uuid.UUID(analysis["background_job_id"])
    llm.script.control({"faults": []})
    with app.app_context():
        celery = app.extensions["celery"]
        with dead_letters.DeadLetterQueue(celery).session() as browser:
            [message] = browser.by_job()[job_id]
            job = db.session.get(BackgroundJob, job_id)
            dead_letters._reset_for_replay(job)
            db.session.commit()
            browser.republish(message)
            # ... and the process dies here: no ack, the dead message goes back to the queue.
        assert wait_for_analysis(llm_client, user, analysis["id"])["state"] == "succeeded"
        assert messages_for(str(job_id))  # the stale copy is still there
        outcome = dead_letters.act(celery, [], "requeue", actor="second-run", source="cli")
    assert outcome.stale_removed == [job_id] and outcome.requeued == []
    assert messages_for(str(job_id)) == []
    final = llm_client.get(f"/api/analyses/{analysis['id']}", headers=user).json
    assert final["state"] == "succeeded" and final["attempts"] == 1


def test_health_and_readiness(client, migrated_database):
    assert client.get("/api/health").json == {"status": "ok"}
    ready = client.get("/api/ready")
    assert ready.status_code == 200 and ready.json["status"] == "ready"
    assert ready.json["checks"]["database"]["ok"] and ready.json["checks"]["broker"]["ok"]
    assert "llm" not in ready.json["checks"]  # not configured: the local analyzer needs nothing
    broken = create_app({**make_test_env(), "BROKER_URL": "amqp://guest:guest@127.0.0.1:1//",
                         "LLM_BASE_URL": "http://127.0.0.1:1/v1"}).test_client()
    response = broken.get("/api/ready")
    assert response.status_code == 503 and response.headers["Retry-After"]
    checks = response.json["checks"]
    assert checks["database"]["ok"] and not checks["broker"]["ok"] and not checks["llm"]["ok"]
    assert checks["broker"]["error"]
    assert broken.get("/api/health").status_code == 200


def test_metrics_expose_requests_jobs_and_every_queue_with_the_dead_letter_age(client, user, admin, dead_analyses):
    dead_analyses(1)
    client.get("/api/jobs", headers=user)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'applytrack_http_request_duration_seconds_bucket{le="0.1",method="GET",route="/api/jobs",status="200"}' in text
    assert 'applytrack_jobs{kind="analysis",state="dead"} 1.0' in text
    for queue in ("extraction", "analysis", DLQ):
        assert f'applytrack_queue_messages{{queue="{queue}"}}' in text
    age = next(line for line in text.splitlines() if line.startswith("applytrack_dead_letter_oldest_age_seconds "))
    assert float(age.split()[1]) >= 0


def test_workers_serve_task_metrics_summed_over_their_pool_processes(client, user, workers, tmp_path):
    import socket

    import requests

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workers.worker.stop()
    env = {**workers.env, "WORKER_METRICS_PORT": str(port), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    measured = stack.worker(env, workers.log_dir, name="extraction-metrics", concurrency=2)
    measured.start()
    try:
        resume = upload(client, user, (REALDATA / "resumes" / "rm_latex_plain_john_doe.pdf").read_bytes()).json
        assert wait_for_extraction(client, user, resume["id"])["extraction_status"] == "succeeded"
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        line = next(l for l in text.splitlines()
                    if l.startswith('applytrack_task_duration_seconds_count{outcome="ok",task="resumes.extract"}'))
        assert float(line.split()[1]) >= 1
    finally:
        measured.stop()


def test_replaying_a_dead_job_whose_resume_was_deleted_ends_it_failed_not_dead_again(client, admin, dead_analyses,
                                                                                     user):
    [analysis] = dead_analyses(1)
    job_id = analysis["background_job_id"]
    assert client.delete(f"/api/resumes/{analysis['resume_id']}", headers=user).status_code == 204
    outcome = client.post(f"/api/dlq/{job_id}/requeue", headers=admin["headers"]).json
    assert outcome["requeued"] == [job_id]
    finished = wait_for_job(client, user, job_id, ("succeeded", "failed", "dead", "cancelled"))
    # What it was about is gone: the user's action, not a failure on our side to dead-letter again.
    assert finished["state"] == "failed" and "deleted" in finished["last_error"]
    assert messages_for(job_id) == [] and client.get("/api/dlq", headers=admin["headers"]).json == []
