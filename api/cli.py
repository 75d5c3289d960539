"""``flask`` commands for operators."""
from __future__ import annotations

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

    @app.cli.command("outbox-relay")
    def outbox_relay() -> None:
        """Publish committed jobs to RabbitMQ (with confirms) until SIGTERM/SIGINT."""
        import signal

        from services.outbox import Relay
        from tasks.topology import declare_topology

        celery = current_app.extensions["celery"]
        declare_topology(celery)
        relay = Relay(lambda job: publish_job(celery, job), poll_seconds=current_app.config["OUTBOX_POLL_SECONDS"])
        signal.signal(signal.SIGTERM, relay.stop)
        signal.signal(signal.SIGINT, relay.stop)
        click.echo("outbox relay running")
        relay.run()


def publish_job(celery, job) -> None:
    """One job → one confirmed message whose task id is the job id."""
    celery.send_task(
        job.task_name,
        args=[str(job.id)],
        task_id=str(job.id),
        headers={"request_id": job.request_id} if job.request_id else None,
    )
