"""Creating the application's database on a fresh machine."""
from __future__ import annotations

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url


def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` if it does not exist; True when it was created."""
    target = make_url(url)
    maintenance = target.set(drivername="postgresql", database="postgres")
    connection = psycopg2.connect(maintenance.render_as_string(hide_password=False))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,))
            if cursor.fetchone():
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database)))
            return True
    finally:
        connection.close()
