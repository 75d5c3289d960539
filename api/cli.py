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
