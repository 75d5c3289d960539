"""Where uploaded files live: a small interface and a local-filesystem implementation.

Files are content-addressed by SHA-256, so a client never influences a path, identical uploads
share one copy, and a key can be checked against the bytes it names.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[0-9a-f]{64}$")


class StorageUnavailable(OSError):
    """The bytes for a key cannot be read now (missing file, unmounted volume, I/O error).

    Callers treat it as transient: an operator can restore the file and replay the work.
    """


class Storage(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalFileStorage:
    """``root/ab/cd/abcd…`` files, written atomically (temp file + rename) and never overwritten."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).resolve()

    def path_for(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        key = sha256_hex(data)
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

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def keys(self):
        """Every stored key (for garbage collection of files no row references)."""
        for path in self.root.glob("??/??/*"):
            if _KEY.match(path.name):
                yield path.name
