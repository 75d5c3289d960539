"""Per-user limits on analyses: a rate of new analyses shared by every API process (Redis), and a
daily LLM budget counted by the workers from each paid call — on the real stack, with the test
LLM reporting token usage and the worker pricing it from LLM_PRICE_*."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from api import create_app
from tests.conftest import Auth, llm_env, make_test_env, upload, wait_for_analysis, wait_for_extraction
from tests.support import stack

RESUME = b"""Jane Roe
Backend engineer

Experience
2019 - 2025 Backend engineer, Parcel Co: built Python services on PostgreSQL and RabbitMQ,
ran them on Kubernetes and answered for their latency.
"""
LISTING = "We need a backend engineer with Python, PostgreSQL and Kubernetes experience."
# USD per million tokens: one token costs exactly $0.001, so costs are whole micro-dollars.
PRICE = "1000"


def listing(client, headers, title: str = "Backend Engineer") -> str:
    response = client.post("/api/jobs", json={"company": "Acme", "title": title, "description": LISTING},
                           headers=headers)
    assert response.status_code == 201
    return response.json["id"]


def resume(client, headers) -> str:
    return wait_for_extraction(client, headers, upload(client, headers, RESUME, "cv.txt").json["id"])["id"]


def analyze(client, headers, resume_id: str, job_id: str, **body):
    return client.post(f"/api/resumes/{resume_id}/analyze", json={"job_id": job_id, **body}, headers=headers)


def spent(client, headers) -> Decimal:
    budget = client.get("/api/user/analysis-budget", headers=headers)
    assert budget.status_code == 200
    return Decimal(budget.json["spent_usd"])


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.json
    assert set(response.json) >= {"code", "status", "message"} and response.json["code"] == status
    return response.json


# --- Rate of new analyses -------------------------------------------------------------------------


def test_new_analyses_are_limited_per_user_across_api_processes(migrated_database, workers):
    settings = {**make_test_env(), "ANALYSIS_RATE_LIMIT_PER_USER": "3 per minute"}
    clients = [create_app(settings).test_client() for _ in range(2)]  # two API processes, one Redis
    headers = Auth(clients[0]).headers()
    resume_id = resume(clients[0], headers)
    jobs = [listing(clients[0], headers, f"Engineer {i}") for i in range(5)]

    codes = [analyze(clients[i % 2], headers, resume_id, jobs[i]).status_code for i in range(4)]
    assert codes == [202, 202, 202, 429]
    refused = analyze(clients[1], headers, resume_id, jobs[4])
    body = assert_error(refused, 429)
    assert "Too many new analyses: the limit is 3 per minute" in body["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60

    # Asking again for an analysis that exists costs nothing and is answered.
    assert analyze(clients[0], headers, resume_id, jobs[0]).status_code == 202
    # CRUD goes on: the application is saved, only its automatic analysis is not queued.
    created = clients[0].post("/api/applications", json={"job_id": jobs[4], "resume_id": resume_id,
                                                         "status": "applied"}, headers=headers)
    assert created.status_code == 201
    assert clients[0].get(f"/api/applications/{created.json['id']}/analysis", headers=headers).status_code == 404
    assert clients[0].patch(f"/api/applications/{created.json['id']}", json={"job_id": jobs[3]},
                            headers=headers).status_code == 200
    # A bulk run is one more request for new analyses: refused too.
    assert_error(clients[1].post("/api/analyses/reanalyze", json={}, headers=headers), 429)

    other = Auth(clients[0]).headers()  # another user has a limit of their own
    assert analyze(clients[1], other, resume(clients[1], other), listing(clients[1], other)).status_code == 202


def test_automatic_analyses_of_applications_count_against_the_limit(migrated_database, workers):
    client = create_app({**make_test_env(), "ANALYSIS_RATE_LIMIT_PER_USER": "2 per minute"}).test_client()
    headers = Auth(client).headers()
    resume_id = resume(client, headers)
    applications = []
    for i in range(3):  # a new listing + an application = a new analysis, through CRUD only
        response = client.post("/api/applications", json={"job_id": listing(client, headers, f"Role {i}"),
                                                           "resume_id": resume_id}, headers=headers)
        assert response.status_code == 201
        applications.append(response.json["id"])
    found = [client.get(f"/api/applications/{a}/analysis", headers=headers).status_code for a in applications]
    assert found == [200, 200, 404]
    assert_error(analyze(client, headers, resume_id, listing(client, headers, "Another")), 429)


def test_rate_limit_setting_is_checked_at_start(migrated_database):
    from config import ConfigError

    with pytest.raises(ConfigError, match="ANALYSIS_RATE_LIMIT_PER_USER"):
        create_app({**make_test_env(), "ANALYSIS_RATE_LIMIT_PER_USER": "sixty a minute"})
    with pytest.raises(ConfigError, match="LLM_DAILY_BUDGET_USD"):
        create_app({**make_test_env(), "LLM_DAILY_BUDGET_USD": "-1"})


# --- Daily LLM budget -----------------------------------------------------------------------------


@pytest.fixture
def one_analysis_cost(llm_client, workers, llm) -> Decimal:
    """What one analysis of RESUME against LISTING costs at PRICE: its tokens, as the test LLM
    reports them, measured through the session's workers."""
    headers = Auth(llm_client).headers()
    accepted = analyze(llm_client, headers, resume(llm_client, headers), listing(llm_client, headers))
    done = wait_for_analysis(llm_client, headers, accepted.json["id"])
    assert done["state"] == "succeeded"
    tokens = done["provenance"]["tokens_in"] + done["provenance"]["tokens_out"]
    return tokens * Decimal(PRICE) / Decimal(1_000_000)


@pytest.fixture
def budgeted(migrated_database, fake_llm, workers, one_analysis_cost, tmp_path):
    """An API and a one-thread analysis worker with LLM prices of PRICE and a daily budget of 1.5
    analyses (instead of the session's analysis worker)."""
    budget = (one_analysis_cost * Decimal("1.5")).quantize(Decimal("0.000001"))
    env = {**make_test_env(), **llm_env(fake_llm), "LLM_PRICE_INPUT_PER_MTOK": PRICE,
           "LLM_PRICE_OUTPUT_PER_MTOK": PRICE, "LLM_DAILY_BUDGET_USD": str(budget)}
    workers.analysis_worker.stop()
    worker = stack.worker(env, tmp_path, queues="applytrack.analysis", pool="threads", concurrency=1, name="budget-worker")
    worker.start()
    try:
        yield create_app(env).test_client(), budget
    finally:
        worker.stop()


def test_a_spent_budget_refuses_new_llm_analyses_until_midnight_utc(budgeted, one_analysis_cost, client):
    llm_client, budget = budgeted
    headers = Auth(llm_client).headers()
    resume_id, job_id = resume(llm_client, headers), listing(llm_client, headers)
    costs = []
    for _ in range(2):  # under budget before each: accepted
        done = wait_for_analysis(llm_client, headers, analyze(llm_client, headers, resume_id, job_id, force=True).json["id"])
        assert done["state"] == "succeeded"
        costs.append(Decimal(done["provenance"]["cost_usd"]))
        assert spent(llm_client, headers) == sum(costs)  # each paid call counted once
    assert costs == [one_analysis_cost] * 2 and sum(costs) >= budget

    refused = analyze(llm_client, headers, resume_id, job_id, force=True)
    body = assert_error(refused, 429)
    assert f"daily analysis budget of ${budget:.2f} is spent" in body["message"] and "resets at" in body["message"]
    status = llm_client.get("/api/user/analysis-budget", headers=headers).json
    assert Decimal(status["budget_usd"]) == budget
    resets_at = datetime.fromisoformat(status["resets_at"])
    assert resets_at.time() == datetime.min.time() and resets_at > datetime.now(timezone.utc)
    wait = (resets_at - datetime.now(timezone.utc)).total_seconds()
    assert abs(int(refused.headers["Retry-After"]) - wait) < 60
    assert f"{resets_at:%Y-%m-%d %H:%M} UTC" in body["message"]

    # Asking again for the existing analysis is still answered; a bulk run is refused.
    assert analyze(llm_client, headers, resume_id, job_id).status_code == 202
    assert "daily analysis budget" in assert_error(
        llm_client.post("/api/analyses/reanalyze", json={"older_than_current": False}, headers=headers), 429)["message"]
    # CRUD is untouched, and the free local analyzer still answers.
    other_job = listing(llm_client, headers, "Platform Engineer")
    application = llm_client.post("/api/applications", json={"job_id": other_job, "resume_id": resume_id},
                                  headers=headers)
    assert application.status_code == 201
    assert client.post(f"/api/resumes/{resume_id}/analyze", json={"job_id": other_job},
                       headers=headers).status_code == 202
    # Another user has a budget of their own.
    other = Auth(llm_client).headers()
    assert analyze(llm_client, other, resume(llm_client, other), listing(llm_client, other)).status_code == 202


def test_work_queued_before_the_budget_was_spent_stops_at_the_worker(budgeted, workers, one_analysis_cost):
    llm_client, budget = budgeted
    headers = Auth(llm_client).headers()
    resume_id, job_id = resume(llm_client, headers), listing(llm_client, headers)
    workers.relay.stop()  # three accepted while nothing is spent yet, then run one at a time
    try:
        ids = [analyze(llm_client, headers, resume_id, job_id, force=True).json["id"] for _ in range(3)]
    finally:
        workers.relay.start()
    done = [wait_for_analysis(llm_client, headers, analysis_id) for analysis_id in ids]
    assert sorted(a["state"] for a in done) == ["failed", "succeeded", "succeeded"]
    failed = next(a for a in done if a["state"] == "failed")
    assert failed["failure_reason"] == "daily_budget_spent" and "Ask for this analysis again" in failed["failure_message"]
    assert failed["attempts"] == 1 and failed["result"] is None
    assert spent(llm_client, headers) == 2 * one_analysis_cost  # the refused one called nothing


def test_spend_counts_every_paid_call_once_across_retries_and_failures(budgeted, llm):
    llm_client, _budget = budgeted
    headers = Auth(llm_client).headers()
    # A 429 (not billed) makes the task retry; the retry is answered badly once (billed), then well.
    llm.script.control({"faults": ["429", "malformed"]})
    done = wait_for_analysis(llm_client, headers, analyze(llm_client, headers, resume(llm_client, headers),
                                                          listing(llm_client, headers)).json["id"])
    assert done["state"] == "succeeded" and done["attempts"] == 2
    assert spent(llm_client, headers) == Decimal(done["provenance"]["cost_usd"])  # neither lost nor counted twice

    # Answers that stay invalid fail the analysis (another user), and their calls were still paid for.
    other = Auth(llm_client).headers()
    llm.script.control({"faults": ["malformed", "malformed"]})
    failed = wait_for_analysis(llm_client, other, analyze(llm_client, other, resume(llm_client, other),
                                                          listing(llm_client, other)).json["id"])
    assert failed["state"] == "failed" and failed["failure_reason"] == "invalid_llm_output"
    # The successful analysis above also made two calls with the same prompt: their input tokens.
    input_cost_of_two_calls = done["provenance"]["tokens_in"] * Decimal(PRICE) / Decimal(1_000_000)
    assert spent(llm_client, other) >= input_cost_of_two_calls > 0
