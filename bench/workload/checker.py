"""The invariants a run must keep, checked after the load stopped and the system drained, from
the client history, the database (with every job state change recorded by a trigger the checker
installs before the run) and the broker.

1. every job reaches a terminal state (a failed one with a reason), by the system's own work;
2. no work takes effect twice: one success per job, one analysis row per analysis job, failures
   numbered by the attempts that made them, one analysis for identical requests sent together;
3. every recorded state change is in models.background_job.LEGAL_TRANSITIONS;
4. every succeeded analysis names inputs a client wrote, and the local analyzer agrees with it;
5. no message is left in a work queue, and the dead-letter queue holds exactly the dead jobs;
6. every answer is documented in the OpenAPI document, never 5xx, 429/503 with Retry-After,
   never slower than the client's patience;
7. without injected faults, no job ends dead.
"""
from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace

from kombu import Connection
from sqlalchemy import text
from sqlalchemy.engine import Engine

import celeryconfig
from bench.chaos import APIKilled, PostgresRestart
from bench.workload.history import Event, FaultWindow, History
from bench.workload.system import WORK_QUEUES, Backend
from models.background_job import LEGAL_TRANSITIONS, TERMINAL_STATES
from services.analyses import input_hash
from services.analysis import local
from services.dead_letters import message_job_id

INVARIANTS = {
    1: "every job finished",
    2: "no work took effect twice",
    3: "every state change legal",
    4: "results match their inputs",
    5: "broker agrees with the database",
    6: "answers documented, clear, prompt",
    7: "no dead job without faults",
}
TRANSITIONS_TABLE = "workload_job_transitions"
SUBJECTS_TABLE = "workload_analysis_subjects"
# Installed in the workload's own database only, before the system starts. A row for every
# insert, and for every update that changes the state, the attempts or the finish time (a
# second success rewrites finished_at, so it is seen even though succeeded -> succeeded is no
# change of state). Row locks serialise updates of one job, so seq orders each job's changes;
# the checker merges the changes one transaction made (no one else saw the states in between).
RECORDER_DDL = [
    f"""CREATE TABLE {TRANSITIONS_TABLE} (
        seq bigserial PRIMARY KEY, job_id uuid NOT NULL, old_state text, new_state text NOT NULL,
        old_attempts integer, new_attempts integer NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(),
        txid bigint NOT NULL DEFAULT txid_current())""",
    f"""CREATE FUNCTION workload_record_transition() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO {TRANSITIONS_TABLE} (job_id, old_state, new_state, old_attempts, new_attempts)
            VALUES (NEW.id, NULL, NEW.state, NULL, NEW.attempts);
        ELSIF OLD.state IS DISTINCT FROM NEW.state OR OLD.attempts IS DISTINCT FROM NEW.attempts
              OR OLD.finished_at IS DISTINCT FROM NEW.finished_at THEN
            INSERT INTO {TRANSITIONS_TABLE} (job_id, old_state, new_state, old_attempts, new_attempts)
            VALUES (NEW.id, OLD.state, NEW.state, OLD.attempts, NEW.attempts);
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER workload_record_transition AFTER INSERT OR UPDATE ON background_jobs
        FOR EACH ROW EXECUTE FUNCTION workload_record_transition()""",
    # Which resume each analysis job was about, kept after a deleted resume takes its analyses
    # with it: a job stranded by that deletion can then be traced to the operations behind it.
    f"""CREATE TABLE {SUBJECTS_TABLE} (analysis_id uuid PRIMARY KEY, job_id uuid NOT NULL, resume_id uuid NOT NULL,
        job_listing_id uuid NOT NULL)""",
    f"""CREATE FUNCTION workload_record_subject() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {SUBJECTS_TABLE} VALUES (NEW.id, NEW.job_id, NEW.resume_id, NEW.job_listing_id);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER workload_record_subject AFTER INSERT ON analyses
        FOR EACH ROW EXECUTE FUNCTION workload_record_subject()""",
]
# Seconds after an API kill's end during which a refused connection is the kill's, not a bug.
API_RESTART_GRACE = 15.0


def install_recorder(engine: Engine) -> None:
    with engine.begin() as connection:
        for statement in RECORDER_DDL:
            connection.execute(text(statement))


# --- what the database and the broker hold after the run --------------------------------------------

@dataclass
class Observation:
    jobs: dict[str, dict]
    transitions: dict[str, list[dict]]  # job id -> its recorded changes, in order
    failures: dict[str, list[dict]]  # job id -> job_failures rows
    analyses_by_job: dict[str, list[dict]]
    subjects: dict[str, dict]  # analysis job id -> its analysis, resume and listing ids, even once deleted
    resumes: dict[str, dict]
    rescues: dict[str, list[dict]]  # job id -> job_rescues rows (the maintenance safety net)
    queue_counts: dict[str, tuple[int, int]]
    dead_letter_ids: list[str]  # one per message in the dead-letter queue

    def analysis_of(self, job_id: str) -> dict | None:
        rows = self.analyses_by_job.get(job_id)
        return rows[0] if rows else None


def _rows(connection, sql: str) -> list[dict]:
    return [dict(row._mapping) for row in connection.execute(text(sql))]


def _by(rows: list[dict], key: str) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = collections.defaultdict(list)
    for row in rows:
        grouped[str(row[key])].append(row)
    return grouped


def observe(engine: Engine, backend: Backend) -> Observation:
    with engine.connect() as connection:
        jobs = {str(row["id"]): row for row in _rows(connection, "SELECT * FROM background_jobs")}
        transitions = _rows(connection, f"SELECT * FROM {TRANSITIONS_TABLE} ORDER BY seq")
        failures = _rows(connection, "SELECT * FROM job_failures ORDER BY id")
        analyses = _rows(connection, "SELECT * FROM analyses")
        subjects = _rows(connection, f"SELECT * FROM {SUBJECTS_TABLE}")
        resumes = _rows(connection, "SELECT id, user_id, sha256, text, extraction_status, extraction_job_id, "
                                    "failure_reason FROM resumes")
        has_rescues = connection.execute(text("SELECT to_regclass('job_rescues') IS NOT NULL")).scalar_one()
        rescues = _rows(connection, "SELECT * FROM job_rescues") if has_rescues else []
    return Observation(
        jobs=jobs, transitions={job_id: _committed(changes) for job_id, changes in _by(transitions, "job_id").items()}, failures=_by(failures, "job_id"),
        analyses_by_job=_by(analyses, "job_id"), subjects={str(row["job_id"]): row for row in subjects}, resumes={str(row["id"]): row for row in resumes},
        rescues=_by(rescues, "job_id"), queue_counts=backend.queue_counts(),
        dead_letter_ids=dead_letter_job_ids(backend.broker_url),
    )


def _committed(changes: list[dict]) -> list[dict]:
    """One change per transaction: from the state before it to the state it committed (an
    INSERT as queued then an UPDATE to waiting in one transaction is a job created waiting)."""
    merged: list[dict] = []
    for change in changes:
        if merged and merged[-1]["txid"] == change["txid"]:
            merged[-1] = {**change, "old_state": merged[-1]["old_state"], "old_attempts": merged[-1]["old_attempts"]}
        else:
            merged.append(change)
    return merged


def dead_letter_job_ids(broker_url: str) -> list[str]:
    """The job id of every message in the dead-letter queue, read without taking them: the
    channel closes with all of them unacked, so they go back."""
    ids = []
    with Connection(broker_url, connect_timeout=10) as connection:
        channel = connection.channel()
        try:
            queue = celeryconfig.DEAD_LETTER_QUEUE.bind(channel)
            while (message := queue.get(no_ack=False, accept=["json"])) is not None:
                ids.append(str(message_job_id(message)))
        finally:
            channel.close()
    return ids


# --- the checks ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Violation:
    invariant: int
    message: str
    ids: frozenset[str] = frozenset()  # the jobs, resumes, analyses it is about


@dataclass
class Context:
    """What the checks need besides the observation."""

    history: History
    spec: dict  # /api/openapi.json
    identities: dict[str, str]  # analyzer name -> identity, as services.analyses hashes it
    faults: bool
    checks_run: collections.Counter = field(default_factory=collections.Counter)


def check(observation: Observation, context: Context) -> list[Violation]:
    checks = (every_job_finished, nothing_twice, transitions_legal, results_match_inputs, broker_agrees,
              answers_documented, no_dead_without_faults)
    return [violation for run in checks for violation in run(observation, context)]


def _job_ids(observation: Observation, job_id: str) -> frozenset[str]:
    """A job, its subject, and for an analysis its resume: what the history may name."""
    job = observation.jobs.get(job_id, {})
    subject = observation.subjects.get(job_id, {})
    return frozenset(str(value) for value in (job_id, job.get("subject_id"), subject.get("resume_id")) if value)


def every_job_finished(observation: Observation, context: Context) -> Iterator[Violation]:
    for job_id, job in observation.jobs.items():
        context.checks_run[1] += 1
        if job["state"] not in TERMINAL_STATES:
            if not _waits_for_dead_extraction(observation, job_id):
                yield Violation(1, f"{job['kind']} job left {job['state']}", _job_ids(observation, job_id))
        elif job["state"] == "failed" and not (job["last_error"] or observation.failures.get(job_id)):
            yield Violation(1, f"{job['kind']} job failed without a reason", _job_ids(observation, job_id))
        if observation.rescues.get(job_id) and not context.faults:
            # The sweep exists for processes that die between a commit and its follow-up; with
            # no process killed, each rescue is work the system's own path left stranded.
            rescue = observation.rescues[job_id][0]
            yield Violation(1, f"{job['kind']} job left {rescue['from_state']} until the maintenance safety net "
                               f"{rescue['action']} it ({rescue['reason']})", _job_ids(observation, job_id))


def _waits_for_dead_extraction(observation: Observation, job_id: str) -> bool:
    """A waiting analysis whose resume's extraction is dead waits by design: the extraction may
    still be replayed (the dead job itself is held to invariants 5 and 7)."""
    analysis = observation.analysis_of(job_id)
    resume = observation.resumes.get(str(analysis["resume_id"])) if analysis else None
    extraction = observation.jobs.get(str(resume["extraction_job_id"])) if resume else None
    return observation.jobs[job_id]["state"] == "waiting" and extraction is not None and extraction["state"] == "dead"


def nothing_twice(observation: Observation, context: Context) -> Iterator[Violation]:
    for job_id, job in observation.jobs.items():
        context.checks_run[2] += 1
        changes = observation.transitions.get(job_id, [])
        successes = [c for c in changes if c["new_state"] == "succeeded"]
        if len(successes) > 1:
            yield Violation(2, f"{job['kind']} job recorded succeeded {len(successes)} times",
                            _job_ids(observation, job_id))
        rows = observation.analyses_by_job.get(job_id, [])
        if len(rows) > 1:
            yield Violation(2, f"analysis job has {len(rows)} analysis rows", _job_ids(observation, job_id))
        if rows and str(rows[0]["id"]) != str(job["subject_id"]):
            yield Violation(2, "analysis job's subject is not its analysis row", _job_ids(observation, job_id))
        yield from _failures_match_attempts(observation, context, job_id)
    yield from _identical_requests_answered_once(context)


def _epochs(changes: list[dict]) -> list[tuple[datetime | None, int]]:
    """(start, highest attempt) of each stretch between replays: a replay resets attempts to 0,
    so attempt numbers start again after each."""
    epochs: list[tuple[datetime | None, int]] = [(None, 0)]
    for change in changes:
        if change["old_state"] == "dead" and change["new_state"] == "queued":
            epochs.append((change["at"], 0))
        else:
            start, highest = epochs[-1]
            epochs[-1] = (start, max(highest, change["new_attempts"]))
    return epochs


def _failures_match_attempts(observation: Observation, context: Context, job_id: str) -> Iterator[Violation]:
    """Each failure is recorded with the attempt that made it: never above the attempts reached,
    and never two for one attempt — every delivery that runs the job claims a new attempt first,
    in its own commit. That commit skips the disk wait (synchronous_commit off), so a database
    crash may forget one and number the next attempt the same: excused only across a PostgreSQL
    restart."""
    epochs = _epochs(observation.transitions.get(job_id, []))
    seen: dict[tuple[int, int], dict] = {}
    for failure in observation.failures.get(job_id, []):
        epoch = max(i for i, (start, _) in enumerate(epochs) if start is None or start <= failure["failed_at"])
        highest = epochs[epoch][1]
        if failure["attempt"] > highest:
            yield Violation(2, f"failure recorded for attempt {failure['attempt']} but the job reached attempt "
                               f"{highest}", _job_ids(observation, job_id))
        earlier = seen.get((epoch, failure["attempt"]))
        if earlier is not None and not _database_restarted_between(context.history.faults, earlier["failed_at"],
                                                                    failure["failed_at"]):
            yield Violation(2, f"two failures recorded for attempt {failure['attempt']} "
                               f"({earlier['error_class']}, then {failure['error_class']})",
                            _job_ids(observation, job_id))
        seen[(epoch, failure["attempt"])] = failure


def _database_restarted_between(faults: list[FaultWindow], first: datetime, second: datetime) -> bool:
    return any(window.name == PostgresRestart.name and window.started <= second.timestamp()
               and (window.ended or second.timestamp()) >= first.timestamp() for window in faults)


def _identical_requests_answered_once(context: Context) -> Iterator[Violation]:
    """The same question asked twice at once, or retried with one Idempotency-Key, is one analysis."""
    operations: dict[tuple[str, int], list[Event]] = collections.defaultdict(list)
    for event in context.history.events:
        if event.op in ("analyze_twice_at_once", "analyze_idempotently") and event.status == 202:
            operations[(event.user, event.op_number)].append(event)
    for events in operations.values():
        context.checks_run[2] += 1
        analyses = {value for event in events for value in event.ids.get("analysis", ())}
        if len(analyses) > 1:
            yield Violation(2, f"{events[0].op}: identical requests got {len(analyses)} different analyses",
                            frozenset(analyses))


def transitions_legal(observation: Observation, context: Context) -> Iterator[Violation]:
    for job_id, changes in observation.transitions.items():
        previous = None
        for change in changes:
            context.checks_run[3] += 1
            old, new = change["old_state"], change["new_state"]
            if old != previous:
                yield Violation(3, f"recorded change {old} -> {new} follows state {previous}",
                                _job_ids(observation, job_id))
            if old != new and new not in LEGAL_TRANSITIONS.get(old, frozenset()):
                yield Violation(3, f"illegal change {old or 'created'} -> {new}", _job_ids(observation, job_id))
            elif old == new and old in TERMINAL_STATES:
                yield Violation(3, f"a {old} job changed again (attempts {change['old_attempts']} -> "
                                   f"{change['new_attempts']})", _job_ids(observation, job_id))
            previous = new


def results_match_inputs(observation: Observation, context: Context) -> Iterator[Violation]:
    versions = context.history.listing_versions
    for job_id, job in observation.jobs.items():
        analysis = observation.analysis_of(job_id)
        if job["state"] != "succeeded" or analysis is None:
            continue
        context.checks_run[4] += 1
        ids = _job_ids(observation, job_id)
        resume = observation.resumes[str(analysis["resume_id"])]
        identity = context.identities.get(analysis["analyzer"])
        written = versions.get(str(analysis["job_listing_id"]), [])
        matching = [v for v in written if identity and input_hash(
            SimpleNamespace(sha256=resume["sha256"]), SimpleNamespace(title=v.title, description=v.description),
            identity) == analysis["input_hash"]]
        if not matching:
            yield Violation(4, f"input_hash of a succeeded analysis matches none of the {len(written)} versions "
                               f"the client wrote of its listing", ids)
        elif analysis["analyzer"] == local.ANALYZER_NAME:
            scores = {_local_score(resume["text"] or "", v.title, v.description) for v in matching}
            if analysis["score"] not in scores:
                yield Violation(4, f"stored score {analysis['score']}, the local analyzer gives {sorted(scores)} "
                                   f"for the same inputs", ids)


@lru_cache(maxsize=4096)
def _local_score(resume_text: str, title: str, description: str) -> int:
    return local.analyze(resume_text, description, job_title=title).score


def broker_agrees(observation: Observation, context: Context) -> Iterator[Violation]:
    context.checks_run[5] += 1
    for queue in WORK_QUEUES:
        ready, unacked = observation.queue_counts.get(queue, (0, 0))
        if ready or unacked:
            yield Violation(5, f"queue {queue} holds {ready} ready and {unacked} unacked message(s) after the drain")
    dead = {job_id for job_id, job in observation.jobs.items() if job["state"] == "dead" and not job["discarded_at"]}
    copies = collections.Counter(observation.dead_letter_ids)
    for job_id in sorted(dead - set(copies)):
        yield Violation(5, "dead job has no message in the dead-letter queue", _job_ids(observation, job_id))
    for job_id in sorted(set(copies) - dead):
        state = observation.jobs.get(job_id, {}).get("state", "no job row")
        yield Violation(5, f"dead-letter message for a job that is {state}", _job_ids(observation, job_id))
    for job_id, count in sorted(copies.items()):
        if count > 1:
            yield Violation(5, f"the dead-letter queue holds {count} copies of one job", _job_ids(observation, job_id))


def answers_documented(observation: Observation, context: Context) -> Iterator[Violation]:
    for event in context.history.events:
        context.checks_run[6] += 1
        problem = _answer_problem(event, context)
        if problem:
            ids = frozenset(value for values in event.ids.values() for value in values)
            yield Violation(6, f"{event.method} {event.route}: {problem} ({_when(event, context.history.faults)})", ids)


def _answer_problem(event: Event, context: Context) -> str | None:
    if event.error == "timeout":
        return "no answer within the client's patience"
    if event.error == "connection":
        return None if _api_was_down(context.history.faults, event) else f"connection refused or reset ({event.error_detail})"
    documented = context.spec["paths"].get(event.route, {}).get(event.method.lower(), {}).get("responses", {})
    if event.status >= 500 and not (event.status == 503 and event.retry_after):
        return f"{event.status}"
    if event.status in (429, 503) and not event.retry_after:
        return f"{event.status} without Retry-After"
    if str(event.status) not in documented:
        return f"{event.status} is not among the documented answers {sorted(documented)}"
    return None


def _when(event: Event, faults: list[FaultWindow]) -> str:
    """When the request ran, against the faults: what a reader needs to judge a bad answer."""
    nearest = [f"{w.name} {event.started - w.started:+.1f} s from its start" for w in faults
               if abs(event.started - w.started) < 120]
    return f"sent at {event.started:.3f}, took {max(0.0, event.ended - event.started):.2f} s" + (
        "; " + ", ".join(nearest) if nearest else "")


def _api_was_down(faults: list[FaultWindow], event: Event) -> bool:
    """The request overlapped an API kill: sent while it was down, or in flight when it came
    (a SIGKILLed server resets the connections it was serving)."""
    return any(window.name == APIKilled.name and event.started <= (window.ended or event.started) + API_RESTART_GRACE
               and (event.ended or event.started) >= window.started for window in faults)


def no_dead_without_faults(observation: Observation, context: Context) -> Iterator[Violation]:
    if context.faults:
        return
    for job_id, job in observation.jobs.items():
        context.checks_run[7] += 1
        if job["state"] == "dead":
            yield Violation(7, f"{job['kind']} job dead ({job['last_error_class']}: {(job['last_error'] or '')[:200]})",
                            _job_ids(observation, job_id))
