"""``flask`` commands for operators."""
from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import Flask, current_app

from services.database_admin import ensure_database


def register_commands(app: Flask) -> None:
    @app.cli.command("create-db")
    def create_db() -> None:
        """Create the configured database if it does not exist (then run `flask db upgrade`)."""
        created = ensure_database(current_app.config["SQLALCHEMY_DATABASE_URI"])
        click.echo("database created" if created else "database exists")

    @app.cli.group("queues")
    def queues() -> None:
        """RabbitMQ topology."""

    @queues.command("declare")
    def declare() -> None:
        """Declare the exchanges, work queues, dead-letter exchange and dead-letter queue."""
        from tasks.topology import declare_topology

        names = declare_topology(current_app.extensions["celery"])
        click.echo("declared: " + ", ".join(names))

    @queues.command("migrate")
    def migrate() -> None:
        """Move what the classic queues of the previous release hold into the quorum queues
        (with confirms), then delete them; safe to run again (README, "Moving to quorum queues")."""
        from tasks.migration import migrate as migrate_queues

        report = migrate_queues(current_app.extensions["celery"], out=click.echo)
        moved = sum(report.moved.values())
        click.echo(f"moved={moved} deleted={','.join(report.deleted) or '-'} "
                   f"left={','.join(report.left) or '-'}")
        if not report.done:
            raise SystemExit(1)

    @app.cli.group("storage")
    def storage() -> None:
        """Uploaded files."""

    @storage.command("migrate")
    @click.option("--source", type=click.Path(file_okay=False, path_type=Path),
                  help="Directory to copy from (default: STORAGE_DIR)")
    @click.option("--delete-source", is_flag=True, help="Remove each source file once its copy is committed")
    def migrate_files(source: Path | None, delete_source: bool) -> None:
        """Copy every file a resume uses from STORAGE_DIR into the database, each checked against
        its SHA-256; safe to run again (README, "Where uploads live")."""
        from services.storage_migration import copy_files_into_database

        report = copy_files_into_database(source or Path(current_app.config["STORAGE_DIR"]),
                                          delete_source=delete_source, out=click.echo)
        click.echo(f"copied={report.copied} already_there={report.already_there} missing={report.missing} "
                   f"corrupt={report.corrupt}" + (f" deleted_sources={report.deleted_sources}" if delete_source else ""))
        if not report.complete:
            raise click.ClickException("some files resumes use are not in the database (listed above)")

    @app.cli.group("dlq")
    def dlq() -> None:
        """The dead-letter queue."""

    from scripts.replay_dlq import replay_command

    dlq.add_command(replay_command)

    @app.cli.group("users")
    def users() -> None:
        """Accounts."""

    @users.command("create-admin")
    @click.argument("email")
    @click.option("--password", envvar="ADMIN_PASSWORD", help="For a new account (prompted if not given)")
    def create_admin(email: str, password: str | None) -> None:
        """Make EMAIL an administrator, creating the account if it does not exist."""
        from sqlalchemy import select

        from models import User, db
        from services.passwords import WeakPassword, check_password_strength

        email = email.strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            password = password or click.prompt("Password for the new account", hide_input=True,
                                                confirmation_prompt=True)
            try:
                check_password_strength(password, email=email)
            except WeakPassword as exc:
                raise click.ClickException(str(exc)) from exc
            user = User(email=email, password_hash=current_app.extensions["password_hashing"].hash(password))
            db.session.add(user)
        user.role = "admin"
        db.session.commit()
        click.echo(f"{email} is an administrator")

    @app.cli.group("analyses")
    def analyses_group() -> None:
        """Analyses."""

    @analyses_group.command("reanalyze")
    @click.option("--user", "email", help="Only this user's results")
    @click.option("--all-users", is_flag=True, help="Everyone's results (operators)")
    @click.option("--resume-id", help="Only this resume's pairs")
    @click.option("--application-status", help="Only pairs of applications in this stage")
    @click.option("--created-before", help="Only results older than this ISO time")
    @click.option("--include-current", is_flag=True, help="Also results of the current analyzer version")
    def reanalyze(email, all_users, resume_id, application_status, created_before, include_current) -> None:
        """Start a bulk re-analysis on the low-priority lane and print its id."""
        from sqlalchemy import select

        from models import User, db
        from services import bulk

        if bool(email) == bool(all_users):
            raise click.UsageError("give exactly one of --user EMAIL or --all-users")
        user_id = None
        if email:
            user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None:
                raise click.ClickException(f"no account {email}")
            user_id = user.id
        run = bulk.start(user_id=user_id, requested_by=f"cli:{getpass.getuser()}", filters={
            "resume_id": resume_id, "application_status": application_status, "created_before": created_before,
            "older_than_current": not include_current,
        })
        db.session.commit()
        click.echo(f"bulk run {run.id} started; follow it with GET /api/analyses/reanalyze/{run.id}")

    @app.cli.command("beat")
    def beat() -> None:
        """Run the periodic scheduler, once across all hosts: the copy that holds a database
        lock schedules; any other copy stands by and takes over when that lock is released."""
        from celery.apps.beat import Beat

        from services.scheduler_lock import hold_scheduler_lock

        hold_scheduler_lock(current_app.config["SQLALCHEMY_DATABASE_URI"], announce=click.echo)
        schedule_file = Path(current_app.instance_path) / "celerybeat-schedule"
        schedule_file.parent.mkdir(parents=True, exist_ok=True)
        Beat(app=current_app.extensions["celery"], schedule=str(schedule_file),
             loglevel=current_app.config["LOG_LEVEL"]).run()

    @app.cli.command("outbox-relay")
    def outbox_relay() -> None:
        """Publish committed jobs to RabbitMQ (with confirms) until SIGTERM/SIGINT."""
        import signal

        from services.outbox import ConfirmedBatchPublisher, Relay
        from tasks.topology import declare_topology

        celery = current_app.extensions["celery"]
        declare_topology(celery)
        from services.backpressure import bulk_allowance

        publisher = ConfirmedBatchPublisher(celery)
        relay = Relay(publisher, poll_seconds=current_app.config["OUTBOX_POLL_SECONDS"], bulk_allowance=bulk_allowance,
                      max_backoff=current_app.config["RECONNECT_MAX_SECONDS"],
                      linger_seconds=current_app.config["OUTBOX_LINGER_MS"] / 1000)
        signal.signal(signal.SIGTERM, relay.stop)
        signal.signal(signal.SIGINT, relay.stop)
        click.echo("outbox relay running")
        try:
            relay.run()
        finally:
            publisher.close()


