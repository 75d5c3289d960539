"""Where uploaded files live: a small interface and two implementations.

Files are content-addressed by SHA-256, so a client never influences a path or a key, identical
uploads share one copy, and a key can be checked against the bytes it names.

- ``DatabaseStorage`` (``STORAGE_BACKEND=database``, the default): a row of ``stored_files``,
  written through ``db.session`` in the caller's transaction, so the resume row and its bytes
  commit together or not at all, and every host that reaches the database reads them.
- ``LocalFileStorage`` (``STORAGE_BACKEND=filesystem``): files under ``STORAGE_DIR``, for one host
  (or hosts sharing a volume).

Both keep the same locking contract: ``put`` holds the key until the caller's transaction ends,
and so does ``lock``; a remover locks, then checks in a new statement (READ COMMITTED: a fresh
snapshot) that no committed row still needs the key, then deletes. An upload of the same bytes
therefore either commits before the check (and is seen) or waits until the delete has committed
(and stores the bytes again).
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Iterator, Mapping, Protocol

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert

from models import StoredFile, db

KEY_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class StorageUnavailable(OSError):
    """The bytes for a key cannot be read now (missing file or row, unmounted volume, I/O error).

    Callers treat it as transient: an operator can restore the file and replay the work.
    """


class Storage(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data`` and return its key, in the caller's transaction; holds the key's lock
        until that transaction ends."""
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def lock(self, key: str) -> None:
        """Hold the key until the caller's transaction ends: a ``put`` of it waits."""
    def delete(self, key: str) -> None:
        """Remove the bytes; only under ``lock`` and after checking nothing needs them."""
    def keys(self, *, older_than: timedelta) -> Iterator[str]:
        """Every key stored longer ago than ``older_than`` (for removing orphans)."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_key(key: str) -> str:
    if not KEY_PATTERN.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def storage_from_config(config: Mapping) -> Storage:
    if config["STORAGE_BACKEND"] == "filesystem":
        return LocalFileStorage(config["STORAGE_DIR"])
    return DatabaseStorage()


class DatabaseStorage:
    """Bytes in ``stored_files``, through ``db.session``: nothing here commits."""

    def put(self, data: bytes) -> str:
        key = sha256_hex(data)
        statement = insert(StoredFile).values(sha256=key, content=data, size=len(data))
        # DO UPDATE (of nothing that changes), not DO NOTHING: the update locks an existing row
        # until this transaction ends, so a delete of it (which locks it first) waits for the
        # resume row committed with it, and sees it.
        db.session.execute(statement.on_conflict_do_update(index_elements=[StoredFile.sha256],
                                                           set_={"size": statement.excluded.size}))
        return key

    def get(self, key: str) -> bytes:
        content = db.session.scalar(select(StoredFile.content).where(StoredFile.sha256 == check_key(key)))
        if content is None:
            raise StorageUnavailable(f"stored file {key[:12]}… is not in the database "
                                     "(files kept on disk before are copied in by `flask storage migrate`)")
        return content

    def exists(self, key: str) -> bool:
        return db.session.scalar(select(func.count()).where(StoredFile.sha256 == check_key(key))) > 0

    def lock(self, key: str) -> None:
        db.session.execute(select(StoredFile.sha256).where(StoredFile.sha256 == check_key(key)).with_for_update())

    def delete(self, key: str) -> None:
        db.session.execute(StoredFile.__table__.delete().where(StoredFile.sha256 == check_key(key)))

    def keys(self, *, older_than: timedelta) -> Iterator[str]:
        yield from db.session.scalars(select(StoredFile.sha256)
                                      .where(StoredFile.created_at < func.now() - older_than)).all()


class LocalFileStorage:
    """``root/ab/cd/abcd…`` files, written atomically (temp file + rename) and never overwritten.

    The files are outside any transaction, so a key's lock is a PostgreSQL advisory lock held
    until the caller's transaction ends; a file written for an upload that then rolls back is
    an orphan, removed by maintenance after a grace period."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).resolve()

    def path_for(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        key = sha256_hex(data)
        self.lock(key)
        path = self.path_for(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        try:
            return self.path_for(key).read_bytes()
        except OSError as exc:
            raise StorageUnavailable(f"stored file {key[:12]}… cannot be read: {exc.strerror}") from exc

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def lock(self, key: str) -> None:
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": check_key(key)})

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def keys(self, *, older_than: timedelta) -> Iterator[str]:
        cutoff = time.time() - older_than.total_seconds()
        for path in self.root.glob("??/??/*"):
            if KEY_PATTERN.match(path.name):
                try:
                    if path.stat().st_mtime < cutoff:
                        yield path.name
                except FileNotFoundError:
                    continue
