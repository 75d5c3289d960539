"""Replay (or discard) dead-lettered jobs from RabbitMQ's dead-letter queue.

    .venv/bin/python scripts/replay_dlq.py --dry-run
    .venv/bin/python scripts/replay_dlq.py --task analysis.run --error-class RateLimitError --rate 5
    .venv/bin/flask dlq replay --id 6f1c... --actor alice          (the same command)

Selects dead jobs (filters combine), shows what would move with --dry-run, and otherwise
republishes each message to the queue it died in with publisher confirms — retry count reset,
stale eta/expires/x-death dropped — acking the dead message only after the confirm. Every
replay or discard is recorded with who did it. Running it twice is safe: messages of jobs that
were already replayed are only removed. Uses the same code as the admin API (/api/dlq).
"""
from __future__ import annotations

import getpass
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import click
from flask.cli import with_appcontext

if __package__ in (None, ""):  # run as a file: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@click.command("replay")
@with_appcontext
@click.option("--task", help="Only this task, e.g. resumes.extract or analysis.run")
@click.option("--kind", help="Only this job kind, e.g. resume_extraction or analysis")
@click.option("--error-class", help="Only jobs whose last error is of this class, e.g. RateLimitError")
@click.option("--since", help="Only jobs that died at or after this ISO time (UTC if no zone)")
@click.option("--until", help="Only jobs that died at or before this ISO time")
@click.option("--id", "ids", multiple=True, help="Only this job id (repeatable)")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many jobs")
@click.option("--rate", type=click.FloatRange(min=0.01), help="At most this many jobs per second")
@click.option("--discard", is_flag=True, help="Discard the selected jobs instead of replaying them")
@click.option("--dry-run", is_flag=True, help="List what would move, change nothing")
@click.option("--actor", default=None, help="Who is acting, for the record (default: the OS user)")
def replay_command(task, kind, error_class, since, until, ids, limit, rate, discard, dry_run, actor) -> None:
    """Replay or discard dead-lettered jobs."""
    from flask import current_app

    from services import dead_letters

    try:
        selection = dead_letters.Selection(
            job_ids=tuple(uuid.UUID(i) for i in ids), kind=kind, task=task, error_class=error_class,
            since=_when(since), until=_when(until), limit=limit,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    celery = current_app.extensions["celery"]
    jobs = dead_letters.dead_jobs(selection)
    in_broker = dead_letters.broker_view(celery)
    verb = "discard" if discard else "replay"
    click.echo(f"{len(jobs)} dead job(s) selected to {verb}; {sum(len(v) for v in in_broker.values())} "
               f"message(s) in the dead-letter queue")
    for job in jobs:
        click.echo(f"  {job.id}  {job.kind:<18} {job.task_name:<16} attempts={job.attempts:<2} "
                   f"died={job.finished_at:%Y-%m-%d %H:%M:%S}  {job.last_error_class or '-'}: "
                   f"{(job.last_error or '')[:80]}  {'in broker' if job.id in in_broker else 'NOT in broker'}")
    if dry_run:
        click.echo("dry run: nothing changed")
        return
    outcome = dead_letters.act(celery, jobs, "discard" if discard else "requeue",
                               actor=actor or f"cli:{getpass.getuser()}", source="cli", rate=rate)
    click.echo(f"summary: requeued={len(outcome.requeued)} discarded={len(outcome.discarded)} "
               f"stale messages removed={len(outcome.stale_removed)} "
               f"replayed without a broker message={len(outcome.not_in_broker)} "
               f"messages of unknown jobs left={outcome.unknown_messages}")


def main() -> None:
    from api import create_app

    app = create_app()
    with app.app_context():
        replay_command(standalone_mode=True)


if __name__ == "__main__":
    main()
