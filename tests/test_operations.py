"""What operators use: admin role, the dead-letter queue (API and replay script agreeing),
health and readiness probes, and Prometheus metrics — on the real broker and workers."""
from __future__ import annotations

import uuid

import pytest

import celeryconfig
from api import create_app
from models import BackgroundJob, db
from services import dead_letters
from tests.conftest import (PASSWORD, REALDATA, bearer, make_test_env, upload, wait_for_analysis, wait_for_extraction,
                            wait_for_job)
from tests.support import stack

DLQ = celeryconfig.DEAD_LETTER_QUEUE.name
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
    # The listing's own words mark this test's calls: only they get the scripted 401s (a call
    # left over from an earlier test once took the fault, and this analysis succeeded).
    marker = f"Reference {uuid.uuid4().hex}"
    job_id = llm_client.post("/api/jobs", json={"company": "Acme", "title": "ML",
                                                "description": f"{ML_LISTING}\n{marker}"}, headers=user).json["id"]

    def make(count: int) -> list[dict]:
        llm.script.control({"faults": ["401"] * count, "match": marker})
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
    for queue in (celeryconfig.EXTRACTION_QUEUE, celeryconfig.ANALYSIS_QUEUE, DLQ):
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


def _queues(client, admin) -> dict[str, dict]:
    response = client.get("/api/dlq/queues", headers=admin["headers"])
    assert response.status_code == 200, response.json
    return {queue["name"]: queue for queue in response.json}


def test_dlq_queues_lists_every_queue_of_the_app_with_its_consumers(client, admin, workers):
    import celeryconfig

    work_queues = [queue.name for queue in celeryconfig.task_queues]

    def consumed():
        queues = _queues(client, admin)
        return queues if all(queues[name]["consumers"] >= 1 for name in work_queues) else None

    # The management API's figures lag by its statistics interval (5 s).
    queues = stack.wait_until(consumed, timeout=20, interval=0.5, what="a consumer on every work queue")
    assert list(queues) == [*work_queues, DLQ]
    assert all(queue["declared"] and queue["messages_dlx"] == 0 for queue in queues.values())
    assert queues[DLQ]["consumers"] == 0
    assert set(queues[DLQ]) == {"name", "declared", "messages_ready", "messages_unacknowledged", "messages_dlx",
                                "consumers", "members", "online", "leader"}
    # Every queue is a quorum queue: where its replicas are and which node leads it.
    assert all(queue["leader"] in queue["members"] and queue["online"] for queue in queues.values())


@pytest.fixture
def stuck_dead_letter(workers, monkeypatch):
    """A quorum queue of the app whose dead-letter exchange routes nowhere, holding one dead
    letter the broker cannot deliver (what a broken binding of the dead-letter queue does)."""
    import celeryconfig
    from kombu import Queue

    vhost, name = stack.TEST_VHOST, f"ops-quorum-{uuid.uuid4().hex[:6]}"
    stack.management("PUT", f"/exchanges/{vhost}/{name}.dlx", json={"type": "fanout", "durable": True})
    stack.management("PUT", f"/queues/{vhost}/{name}", json={"durable": True, "arguments": {
        "x-queue-type": "quorum", "x-dead-letter-exchange": f"{name}.dlx",
        "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}})
    stack.management("POST", f"/exchanges/{vhost}/amq.default/publish", json={
        "properties": {}, "routing_key": name, "payload": "poison", "payload_encoding": "string"})
    [rejected] = stack.management("POST", f"/queues/{vhost}/{name}/get", json={
        "count": 1, "ackmode": "reject_requeue_false", "encoding": "auto"}).json()
    assert rejected["payload"] == "poison"
    # The app's queues follow celeryconfig, so a queue added (or renamed) there is reported.
    monkeypatch.setattr(celeryconfig, "task_queues", (*celeryconfig.task_queues, Queue(name)))
    yield name
    stack.management("DELETE", f"/queues/{vhost}/{name}")
    stack.management("DELETE", f"/exchanges/{vhost}/{name}.dlx")


def test_a_dead_letter_stuck_in_a_quorum_queue_shows_on_the_dlq_api_and_in_metrics(client, admin,
                                                                                   stuck_dead_letter):
    def stuck():
        queue = _queues(client, admin)[stuck_dead_letter]
        return queue if queue["messages_dlx"] == 1 else None

    queue = stack.wait_until(stuck, timeout=20, interval=0.5, what="the dead letter counted in messages_dlx")
    assert queue["declared"] and queue["messages_ready"] == 0 and queue["consumers"] == 0
    text = client.get("/metrics").get_data(as_text=True)
    assert f'applytrack_queue_messages_dlx{{queue="{stuck_dead_letter}"}} 1.0' in text
    assert f'applytrack_queue_messages_dlx{{queue="{celeryconfig.EXTRACTION_QUEUE}"}} 0.0' in text
    assert f'applytrack_queue_acks_total{{queue="{DLQ}"}}' in text


def test_metrics_show_outbox_lag_and_jobs_running_past_their_time_limit(app, client, workers):
    from sqlalchemy import text as sql

    workers.relay.stop()  # so the unpublished job stays unpublished (the fixture restarts it)
    late, stuck, retrying = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with app.app_context():
        for job_id, state in ((late, "queued"), (stuck, "running"), (retrying, "queued")):
            db.session.add(BackgroundJob(id=job_id, kind="analysis", subject_id=uuid.uuid4(), state=state))
        db.session.commit()
        db.session.execute(sql("UPDATE background_jobs SET updated_at = now() - interval '300 seconds' "
                               "WHERE id = :id"), {"id": str(late)})
        # Running for an hour: past any time limit. A retry not due yet is not lag.
        db.session.execute(sql("UPDATE background_jobs SET started_at = now() - interval '1 hour' WHERE id = :id"),
                           {"id": str(stuck)})
        db.session.execute(sql("UPDATE background_jobs SET updated_at = now() - interval '1 hour', "
                               "next_attempt_at = now() + interval '1 hour' WHERE id = :id"), {"id": str(retrying)})
        db.session.commit()
        try:
            lines = client.get("/metrics").get_data(as_text=True).splitlines()
        finally:
            db.session.execute(sql("DELETE FROM background_jobs WHERE id IN (:a, :b, :c)"),
                               {"a": str(late), "b": str(stuck), "c": str(retrying)})
            db.session.commit()

    def value(prefix: str) -> float:
        return float(next(line for line in lines if line.startswith(prefix + " ")).split()[1])

    assert 300 <= value('applytrack_outbox_oldest_unpublished_age_seconds{lane="interactive"}') < 400
    assert value('applytrack_outbox_oldest_unpublished_age_seconds{lane="bulk"}') == 0
    assert value("applytrack_jobs_running_past_limit") == 1


def test_dlq_queues_answers_503_while_the_management_api_is_unreachable(admin, migrated_database):
    broken = create_app({**make_test_env(), "RABBITMQ_MANAGEMENT_URL": "http://127.0.0.1:1/api"}).test_client()
    response = broken.get("/api/dlq/queues", headers=admin["headers"])
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "management API" in response.json["message"]
