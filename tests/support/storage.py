"""Reading and hiding stored originals from tests, whichever backend the app uses."""
from __future__ import annotations

from contextlib import contextmanager

from models import db
from services.storage import StorageUnavailable


def stored_bytes(app, sha256: str) -> bytes | None:
    """The stored original, read as the app reads it; None when it is not stored."""
    with app.app_context():
        try:
            return app.extensions["storage"].get(sha256)
        except StorageUnavailable:
            return None
        finally:
            db.session.remove()


@contextmanager
def stored_file_hidden(app, sha256: str):
    """The stored original unreadable (storage unavailable: a transient error) inside the block,
    back afterwards."""
    storage = app.extensions["storage"]
    with app.app_context():
        data = storage.get(sha256)
        storage.lock(sha256)
        storage.delete(sha256)
        db.session.commit()
    try:
        yield
    finally:
        with app.app_context():
            storage.put(data)
            db.session.commit()
            db.session.remove()
