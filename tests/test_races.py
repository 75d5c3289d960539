"""Races where one transaction decides to wait for (or work on) what another one changes,
each forced deterministically: one side is held between its read and its commit while the other
runs to the end, then released. Each of these left work stuck or dead-lettered before its fix.

The work a worker does (extract, analyse, expand a bulk run) runs in-process here, as the same
service functions the tasks call, on jobs that the running workers never see (marked published
before their first commit), so the test and not the broker decides the order.
"""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from models import Analysis, BackgroundJob, BulkRun, JobKind, JobListing, JobRescue, JobState, Resume, db
from models.mixins import utcnow
from services import analyses as analyses_module, bulk, jobs, maintenance, resumes, waiting
from services.analyses import input_hash, request_analysis, run_for_job
from services.analysis.analyzers import analyzer_identity
from services.outbox import Relay
from tests.conftest import upload, wait_for_job
from tests.support import stack
from tests.support.documents import text_pdf

# Released: queued for the workers, which may have taken it already (the suite's relay and
# workers may be running).
RELEASED = (JobState.QUEUED.value, JobState.RUNNING.value, JobState.SUCCEEDED.value)
RESUME_TEXT = b"Jane Doe\nBackend engineer: Python, PostgreSQL, Celery and RabbitMQ for six years.\n"


class CommitGate:
    """Holds the first commit, in a thread other than the test's own, of a session that
    ``holds(session)`` picks, until the test lets it go."""

    def __init__(self, holds: Callable[[Session], bool]) -> None:
        self.holds = holds
        self.reached = threading.Event()
        self.proceed = threading.Event()
        self._test_thread = threading.get_ident()

    def _before_commit(self, session: Session) -> None:
        if threading.get_ident() == self._test_thread or self.reached.is_set() or not self.holds(session):
            return
        self.reached.set()
        assert self.proceed.wait(30), "the test never released the held commit"

    def __enter__(self) -> "CommitGate":
        event.listen(Session, "before_commit", self._before_commit)
        return self

    def __exit__(self, *_exc) -> None:
        self.proceed.set()
        event.remove(Session, "before_commit", self._before_commit)


def _objects(session: Session) -> list:
    return [*session.new, *session.identity_map.values()]


def deciding_to_wait(session: Session) -> bool:
    return any(isinstance(o, BackgroundJob) and o.state == JobState.WAITING.value for o in _objects(session))


def storing_text(session: Session) -> bool:
    return any(isinstance(o, Resume) and o.text is not None for o in _objects(session))


def creating_bulk_analyses(session: Session) -> bool:
    return any(isinstance(o, BackgroundJob) and o.bulk_run_id and o.kind == JobKind.ANALYSIS.value
               for o in _objects(session))


@pytest.fixture
def pool():
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def user_id(client, headers) -> uuid.UUID:
    return uuid.UUID(client.get("/api/user/profile", headers=headers).json["id"])


def kept_from_workers() -> None:
    """Mark the jobs this transaction created published, so that the relay never sends them to
    the running workers: the test runs their work itself, at the moment it chooses."""
    db.session.execute(update(BackgroundJob).where(BackgroundJob.published_at.is_(None)).values(published_at=utcnow())
                       .execution_options(synchronize_session=False))


def resume_awaiting_extraction(app, owner: uuid.UUID, data: bytes = RESUME_TEXT) -> tuple[uuid.UUID, uuid.UUID]:
    with app.app_context():
        resume = resumes.create_resume(owner, data, filename="resume.txt", name=None)
        kept_from_workers()
        db.session.commit()
        return resume.id, resume.extraction_job_id


def analysis_kept_from_workers(app, resume_id: uuid.UUID, listing_id) -> tuple[uuid.UUID, uuid.UUID, str]:
    """An analysis asked for as the API asks for it; returns (analysis id, job id, input hash)."""
    with app.test_request_context():
        resume = db.session.get(Resume, resume_id)
        listing = db.session.get(JobListing, uuid.UUID(str(listing_id)))
        analysis, _created = request_analysis(resume, listing, force=True)
        kept_from_workers()
        db.session.commit()
        return analysis.id, analysis.job_id, analysis.input_hash


def extract(app, job_id: uuid.UUID) -> None:
    """What the extraction task does with its job (claim, then the work), in this thread."""
    with app.app_context():
        job = jobs.claim(job_id, redelivered=False, max_attempts=5)
        resumes.extract_for_job(job)
        db.session.remove()


def job_state(app, job_id) -> str:
    with app.app_context():
        state = db.session.scalar(select(BackgroundJob.state).where(BackgroundJob.id == uuid.UUID(str(job_id))))
        db.session.remove()
        return state


def analysis_job_id(app, analysis_id) -> uuid.UUID:
    with app.app_context():
        found = db.session.scalar(select(Analysis.job_id).where(Analysis.id == uuid.UUID(str(analysis_id))))
        db.session.remove()
        return found


def ask_for_analysis(client, headers, resume_id, listing_id, **extra):
    return client.post(f"/api/resumes/{resume_id}/analyze", json={"job_id": listing_id}, headers=headers, **extra)


# --- the lost wake-up ----------------------------------------------------------------------------

def test_extraction_finishing_while_a_request_decides_to_wait_still_releases_it(app, client, user, job, pool):
    resume_id, extraction_job = resume_awaiting_extraction(app, user_id(client, user))
    with CommitGate(deciding_to_wait) as gate:
        answer = pool.submit(ask_for_analysis, client, user, resume_id, job["id"])
        assert gate.reached.wait(10), "the request never decided to wait"
        extract(app, extraction_job)  # stores the text and releases whoever waits: nobody yet
        gate.proceed.set()
        response = answer.result(10)
    assert response.status_code == 202, response.json
    # Released after its commit: queued for a worker (which may have run it already), never left waiting.
    assert job_state(app, analysis_job_id(app, response.json["id"])) in RELEASED


def test_a_request_deciding_to_wait_while_the_extraction_commits_is_released_by_the_extraction(
        app, client, user, job, pool):
    resume_id, extraction_job = resume_awaiting_extraction(app, user_id(client, user))
    with CommitGate(storing_text) as gate:
        extraction = pool.submit(extract, app, extraction_job)
        assert gate.reached.wait(10), "the extraction never reached its commit"
        response = ask_for_analysis(client, user, resume_id, job["id"])  # no text yet: waits
        assert response.status_code == 202 and response.json["state"] == JobState.WAITING.value
        gate.proceed.set()
        extraction.result(10)
    assert job_state(app, analysis_job_id(app, response.json["id"])) in RELEASED


def test_a_waiting_analysis_fails_when_the_extraction_fails_while_it_is_being_asked_for(
        app, client, user, job, pool):
    # A PDF with no text layer fails for good ("no_text_layer"): nothing will ever be read.
    blank_pdf = text_pdf(1, lines_per_page=0)
    resume_id, extraction_job = resume_awaiting_extraction(app, user_id(client, user), blank_pdf)

    def extraction_fails() -> None:
        with app.app_context():
            job = jobs.claim(extraction_job, redelivered=False, max_attempts=5)
            with pytest.raises(jobs.PermanentFailure) as failure:
                resumes.extract_for_job(job)
            job = jobs.fail(extraction_job, failure.value, fence=job.held_fence)  # what the task's failure path does
            resumes.extraction_failed(job, failure.value.reason, failure.value.message)
            db.session.commit()
            db.session.remove()

    with CommitGate(deciding_to_wait) as gate:
        answer = pool.submit(ask_for_analysis, client, user, resume_id, job["id"])
        assert gate.reached.wait(10)
        extraction_fails()
        gate.proceed.set()
        response = answer.result(10)
    assert response.status_code == 202
    analysis = client.get(f"/api/analyses/{response.json['id']}", headers=user).json
    assert analysis["state"] == JobState.FAILED.value
    assert analysis["failure_reason"] == waiting.RESUME_UNREADABLE


# --- work whose subject is deleted under it -------------------------------------------------------

def test_deleting_a_resume_while_its_text_is_extracted_fails_the_job_as_deleted(app, client, user, monkeypatch, pool):
    resume_id, extraction_job = resume_awaiting_extraction(app, user_id(client, user))
    reading, go_on = threading.Event(), threading.Event()
    real_extract_text = resumes.extract_text

    def slow_extract_text(*args, **kwargs):
        reading.set()
        go_on.wait(10)
        return real_extract_text(*args, **kwargs)

    monkeypatch.setattr(resumes, "extract_text", slow_extract_text)
    extraction = pool.submit(extract, app, extraction_job)
    assert reading.wait(10)
    assert client.delete(f"/api/resumes/{resume_id}", headers=user).status_code == 204
    go_on.set()
    with pytest.raises(jobs.PermanentFailure) as failure:  # not StaleDataError, which dead-letters
        extraction.result(10)
    assert failure.value.reason == "deleted"


def test_deleting_a_resume_while_it_is_analysed_fails_the_analysis_as_deleted(app, client, user, job, monkeypatch, pool):
    resume_id, extraction_job = resume_awaiting_extraction(app, user_id(client, user))
    extract(app, extraction_job)
    _analysis_id, job_id, _inputs = analysis_kept_from_workers(app, resume_id, job["id"])
    analysing, go_on = threading.Event(), threading.Event()
    real_get_analyzer = analyses_module.get_analyzer

    class HeldAnalyzer:
        def __init__(self, inner) -> None:
            self.inner = inner

        def analyze(self, *args):
            analysing.set()
            go_on.wait(10)
            return self.inner.analyze(*args)

    monkeypatch.setattr(analyses_module, "get_analyzer", lambda *a, **k: HeldAnalyzer(real_get_analyzer(*a, **k)))

    def analyse() -> None:
        with app.app_context():
            run_for_job(jobs.claim(job_id, redelivered=False, max_attempts=5))

    analysis_run = pool.submit(analyse)
    assert analysing.wait(10)
    assert client.delete(f"/api/resumes/{resume_id}", headers=user).status_code == 204
    go_on.set()
    with pytest.raises(jobs.PermanentFailure) as failure:
        analysis_run.result(10)
    assert failure.value.reason == "deleted"


def test_deleting_a_resume_cancels_the_analyses_waiting_for_its_text(app, client, user, job):
    resume_id, _extraction_job = resume_awaiting_extraction(app, user_id(client, user))
    analysis = ask_for_analysis(client, user, resume_id, job["id"]).json
    assert analysis["state"] == JobState.WAITING.value
    job_id = analysis_job_id(app, analysis["id"])
    assert client.delete(f"/api/resumes/{resume_id}", headers=user).status_code == 204
    # Before: the analysis row went with the resume and its job waited forever.
    assert job_state(app, job_id) == JobState.CANCELLED.value
    background_job = client.get(f"/api/background-jobs/{job_id}", headers=user).json
    assert "deleted" in background_job["last_error"]


def test_deleting_a_resume_mid_extraction_on_real_workers_never_dead_letters(client, user, workers):
    resume = upload(client, user, text_pdf(35)).json  # long enough to be caught while it runs
    stack.wait_until(lambda: client.get(f"/api/resumes/{resume['id']}", headers=user).json["extraction_status"]
                     == "running", timeout=30, interval=0.02, what="the extraction to start")
    assert client.delete(f"/api/resumes/{resume['id']}", headers=user).status_code == 204
    finished = wait_for_job(client, user, resume["extraction_job_id"], ("succeeded", "failed", "dead", "cancelled"))
    assert finished["state"] == "failed", finished  # an ordinary user action is no bug of ours
    assert "deleted" in finished["last_error"]


def test_an_edited_listing_is_what_the_stored_result_says_it_was_computed_from(app, client, user, job):
    resume_id, extraction_job = resume_awaiting_extraction(app, user_id(client, user))
    extract(app, extraction_job)
    analysis_id, job_id, asked_about = analysis_kept_from_workers(app, resume_id, job["id"])
    edited = client.patch(f"/api/jobs/{job['id']}", json={"description": "Rust, Kubernetes and Go"}, headers=user)
    assert edited.status_code == 200
    with app.app_context():
        run_for_job(jobs.claim(job_id, redelivered=False, max_attempts=5))
        stored = db.session.get(Analysis, analysis_id)
        analysed = input_hash(db.session.get(Resume, resume_id), db.session.get(JobListing, uuid.UUID(job["id"])),
                              analyzer_identity("local", app.config))
        db.session.remove()
    # Before: the hash named the listing as it was asked about, the result the edited one.
    assert stored.input_hash == analysed != asked_about


# --- cancelling a bulk run while it is being expanded -----------------------------------------------

def test_a_bulk_run_cancelled_while_a_chunk_is_created_cancels_that_chunk_too(app, client, user, job, pool):
    owner = user_id(client, user)
    resume_id, extraction_job = resume_awaiting_extraction(app, owner)
    extract(app, extraction_job)
    analysis_kept_from_workers(app, resume_id, job["id"])  # the pair the bulk run refreshes
    with app.app_context():
        run = bulk.start(user_id=owner, requested_by="test", filters={"older_than_current": False})
        kept_from_workers()
        db.session.commit()
        run_id, expansion_job = run.id, db.session.scalar(
            select(BackgroundJob.id).where(BackgroundJob.bulk_run_id == run.id))
        db.session.remove()

    def expand() -> None:
        with app.app_context():
            claimed = jobs.claim(expansion_job, redelivered=False, max_attempts=5)
            bulk.expand_for_job(claimed)
            db.session.remove()

    def cancel() -> None:
        with app.app_context():
            bulk.cancel(db.session.get(BulkRun, run_id))
            db.session.commit()
            db.session.remove()

    with CommitGate(creating_bulk_analyses) as gate:
        expansion = pool.submit(expand)
        assert gate.reached.wait(10), "the expansion never created its chunk"
        cancelling = pool.submit(cancel)
        threading.Event().wait(0.5)  # the cancel runs now (and, fixed, waits for the chunk's lock)
        gate.proceed.set()
        expansion.result(10)
        cancelling.result(10)
    with app.app_context():
        states = db.session.scalars(select(BackgroundJob.state).where(
            BackgroundJob.bulk_run_id == run_id, BackgroundJob.kind == JobKind.ANALYSIS.value)).all()
        db.session.remove()
    assert states and set(states) == {JobState.CANCELLED.value}, states


# --- two requests with one Idempotency-Key at once ------------------------------------------------

def test_two_requests_with_one_idempotency_key_at_once_get_one_analysis(app, client, user, job, pool):
    resume_id, _ = resume_awaiting_extraction(app, user_id(client, user))
    headers = {**user, "Idempotency-Key": "click-" + uuid.uuid4().hex}
    with CommitGate(deciding_to_wait) as gate:
        first = pool.submit(ask_for_analysis, client, headers, resume_id, job["id"])
        assert gate.reached.wait(10)
        second = pool.submit(ask_for_analysis, client, headers, resume_id, job["id"])  # waits on the key's lock
        threading.Event().wait(0.3)
        gate.proceed.set()
        answers = [first.result(10), second.result(10)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json["id"] == answers[1].json["id"]


# --- the relay's NOTIFY and a commit --------------------------------------------------------------

def test_a_job_committed_right_after_the_relays_scan_is_published_without_waiting_for_the_poll(app, monkeypatch,
                                                                                               workers):
    import services.outbox as outbox

    workers.relay.stop()  # the suite's relay would publish the job first (brought back after the test)

    published: list[uuid.UUID] = []
    committed = threading.Event()
    real_publish_pending = outbox.publish_pending

    def scan_then_commit_a_job(*args, **kwargs):
        found = real_publish_pending(*args, **kwargs)
        if not committed.is_set():  # right after the first scan, before the relay waits
            with app.app_context():
                jobs.enqueue(JobKind.MAINTENANCE.value, uuid.uuid4(), user_id=None)
                db.session.commit()
                db.session.remove()
            committed.set()
        return found

    monkeypatch.setattr(outbox, "publish_pending", scan_then_commit_a_job)
    relay = Relay(lambda batch: published.extend(job.id for job in batch), poll_seconds=30)

    def run_relay() -> None:
        with app.app_context():
            relay.run()

    thread = threading.Thread(target=run_relay, daemon=True)
    thread.start()
    try:
        stack.wait_until(lambda: published, timeout=5, interval=0.05,
                         what="the job to be published on its NOTIFY, not at the 30 s poll")
    finally:
        relay.stop()
        thread.join(35)


# --- the safety net -------------------------------------------------------------------------------

def test_the_sweep_releases_a_stranded_waiting_analysis_and_counts_the_rescue(app, client, user, job, monkeypatch,
                                                                             pool):
    resume_id, extraction_job = resume_awaiting_extraction(app, user_id(client, user))
    monkeypatch.setattr(waiting, "recheck_after_commit", lambda _resume_id: None)  # the bug, put back
    with CommitGate(deciding_to_wait) as gate:
        answer = pool.submit(ask_for_analysis, client, user, resume_id, job["id"])
        assert gate.reached.wait(10)
        extract(app, extraction_job)
        gate.proceed.set()
        job_id = analysis_job_id(app, answer.result(10).json["id"])
    assert job_state(app, job_id) == JobState.WAITING.value  # stranded, as before the fix
    monkeypatch.setattr(maintenance, "RESCUE_GRACE_SECONDS", 0)
    with app.app_context():
        assert maintenance.rescue_stranded_jobs() == {"released": 1, "failed": 0, "cancelled": 0}
        rescue = db.session.scalar(select(JobRescue).where(JobRescue.job_id == job_id))
        assert (rescue.from_state, rescue.action) == ("waiting", "released")
        assert maintenance.rescue_stranded_jobs() == {"released": 0, "failed": 0, "cancelled": 0}
        db.session.remove()
    assert job_state(app, job_id) in RELEASED
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'applytrack_job_rescues_total{action="released",kind="analysis"} 1.0' in metrics


# --- authorization before validation ---------------------------------------------------------------

def test_every_administrator_endpoint_answers_403_to_a_user_whatever_the_body(app, client, user):
    admin_rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/dlq")]
    assert len(admin_rules) >= 4
    for rule in admin_rules:
        path = rule.rule.replace("<uuid:dead_job_id>", str(uuid.uuid4()))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            for body in ({"limit": "not a number", "ids": "x"}, {"unexpected": [1, 2]}):
                response = client.open(path, method=method, json=body, headers=user,
                                       query_string={"since": "not a date"})
                assert response.status_code == 403, (method, path, response.json)


def test_every_authenticated_endpoint_answers_401_without_a_token_whatever_the_body(app, client):
    open_paths = ("/api/auth/", "/api/health", "/api/ready", "/api/statuses", "/api/docs", "/api/openapi")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule.startswith(open_paths):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<uuid:{name}>", str(uuid.uuid4()))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, json={"job_id": "nope", "limit": -1},
                                   query_string={"page": "x"})
            assert response.status_code == 401, (method, path, response.json)
