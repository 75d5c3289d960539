"""What a run tells a reader: each violation with the operations and database rows behind it,
a summary per seed and overall, and the section of RELIABILITY.md."""
from __future__ import annotations

import collections
import datetime as dt
from dataclasses import dataclass, field

from bench.chaos import write_reliability_section
from bench.workload.checker import INVARIANTS, Observation, Violation
from bench.workload.history import History

MAX_EXPLAINED = 3  # violations shown in full per invariant and seed; the rest are counted
MAX_EVENTS = 25
START, END = "<!-- workload:table -->", "<!-- /workload:table -->"


@dataclass
class SeedResult:
    seed: int
    users: int
    seconds: float
    operations: int
    requests: int
    faults: list[str]
    jobs: dict[str, int]  # by state
    violations: list[Violation] = field(default_factory=list)
    checks: dict[int, int] = field(default_factory=dict)  # invariant -> how many things were checked
    answers: dict[str, int] = field(default_factory=dict)  # status code (or timeout/connection) -> count

    def by_invariant(self) -> collections.Counter:
        return collections.Counter(v.invariant for v in self.violations)


def explain(violation: Violation, seed: int, history: History, observation: Observation) -> str:
    """The violation, the operations of the history that touched its ids, and its rows."""
    lines = [f"VIOLATION seed={seed} invariant {violation.invariant} ({INVARIANTS[violation.invariant]}): "
             f"{violation.message}"]
    ids = set(violation.ids)
    events = history.touching(ids)
    lines.append(f" operations that touched {', '.join(sorted(ids)) or 'nothing named'}:")
    lines += [event.describe() for event in events[:MAX_EVENTS]]
    if len(events) > MAX_EVENTS:
        lines.append(f"  ... and {len(events) - MAX_EVENTS} more")
    lines.append(" rows:")
    lines += _rows(ids, observation)
    return "\n".join(lines)


def _rows(ids: set[str], observation: Observation) -> list[str]:
    lines = []
    jobs = {job_id: job for job_id, job in observation.jobs.items() if job_id in ids or str(job["subject_id"]) in ids}
    for job_id, job in jobs.items():
        lines.append(f"  job {job_id} {job['kind']} lane={job['lane']} state={job['state']} attempts={job['attempts']} "
                     f"subject={job['subject_id']} bulk_run={job['bulk_run_id']} discarded={job['discarded_at']} "
                     f"last_error={job['last_error_class']}: {(job['last_error'] or '')[:200]!r}")
        for change in observation.transitions.get(job_id, []):
            lines.append(f"    {change['at']:%H:%M:%S.%f} {change['old_state'] or 'created'} -> {change['new_state']} "
                         f"(attempts {change['old_attempts']} -> {change['new_attempts']})")
        for failure in observation.failures.get(job_id, []):
            lines.append(f"    failure attempt={failure['attempt']} at {failure['failed_at']:%H:%M:%S.%f} "
                         f"{failure['error_class']} transient={failure['transient']}: {failure['message'][:200]!r}")
        for rescue in observation.rescues.get(job_id, []):
            lines.append(f"    rescued from {rescue['from_state']}: {rescue['action']} ({rescue['reason']})")
        analysis = observation.analysis_of(job_id)
        if analysis:
            lines.append(f"    analysis {analysis['id']} resume={analysis['resume_id']} "
                         f"listing={analysis['job_listing_id']} analyzer={analysis['analyzer']} "
                         f"score={analysis['score']} input_hash={analysis['input_hash'][:16]}… "
                         f"failure={analysis['failure_reason']}")
    for resume_id in sorted(ids & set(observation.resumes)):
        resume = observation.resumes[resume_id]
        lines.append(f"  resume {resume_id} extraction={resume['extraction_status']} "
                     f"job={resume['extraction_job_id']} failure={resume['failure_reason']} "
                     f"text={'yes' if resume['text'] else 'no'}")
    return lines or ["  (none left in the database)"]


def seed_summary(result: SeedResult) -> str:
    counts = result.by_invariant()
    violations = ", ".join(f"{n}: {counts[n]}" for n in INVARIANTS if counts[n]) or "none"
    return (f"seed {result.seed}: {result.users} users, {result.seconds:.0f} s, {result.operations} operations, "
            f"{result.requests} requests {result.answers}, faults: {', '.join(result.faults) or 'none'}; "
            f"jobs {result.jobs}; "
            f"violations by invariant: {violations}")


HEADER = "| seed | users | load | operations | requests | faults | jobs | " + " | ".join(
    f"{n}. {name}" for n, name in INVARIANTS.items()) + " |"


def table(results: list[SeedResult]) -> str:
    separator = "|" + "|".join(" --- " for _ in range(HEADER.count("|") - 1)) + "|"
    rows = []
    for r in results:
        counts = r.by_invariant()
        rows.append(f"| {r.seed} | {r.users} | {r.seconds:.0f} s | {r.operations} | {r.requests} | "
                    f"{len(r.faults)} | {sum(r.jobs.values())} | " + " | ".join(str(counts[n]) for n in INVARIANTS) + " |")
    totals = collections.Counter()
    for r in results:
        totals.update(r.by_invariant())
    rows.append(f"| all {len(results)} | | | {sum(r.operations for r in results)} | "
                f"{sum(r.requests for r in results)} | {sum(len(r.faults) for r in results)} | "
                f"{sum(sum(r.jobs.values()) for r in results)} | " + " | ".join(f"**{totals[n]}**" for n in INVARIANTS) + " |")
    return "\n".join([HEADER, separator, *rows])


def write_reliability(results: list[SeedResult], command: str) -> None:
    body = (f"{START}\nMeasured {dt.date.today():%Y-%m-%d} with `{command}`: violations found per invariant "
            f"(bench/workload/checker.py says what each one means).\n\n{table(results)}\n{END}")
    write_reliability_section(START, END, body)
