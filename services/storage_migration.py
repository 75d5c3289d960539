"""``flask storage migrate``: copy the originals that resumes use from ``STORAGE_DIR`` into the
database, for a move from ``STORAGE_BACKEND=filesystem`` to ``database``.

Safe to run again and while the API runs: a file already in the database is left alone, each copy
is checked against the SHA-256 that names it and committed on its own (through the same
``put`` as an upload, so it takes the same row lock), and source files are only removed with
``delete_source``, after their copy has committed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from models import Resume, db
from services.storage import KEY_PATTERN, DatabaseStorage, LocalFileStorage, sha256_hex


@dataclass
class MigrationReport:
    copied: int = 0
    already_there: int = 0
    missing: int = 0
    corrupt: int = 0
    deleted_sources: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every file a resume uses is in the database."""
        return not (self.missing or self.corrupt)


def copy_files_into_database(source_dir: str | Path, *, delete_source: bool = False,
                             out: Callable[[str], None] = print) -> MigrationReport:
    source, target = LocalFileStorage(source_dir), DatabaseStorage()
    report = MigrationReport()
    keys = db.session.scalars(select(Resume.sha256).distinct().order_by(Resume.sha256)).all()
    db.session.commit()
    for key in keys:
        if not KEY_PATTERN.match(key):
            report.corrupt += 1
            report.problems.append(f"corrupt: a resume names {key!r}, which is no SHA-256")
            continue
        if target.exists(key):
            report.already_there += 1
        else:
            try:
                data = source.path_for(key).read_bytes()
            except OSError as exc:
                report.missing += 1
                report.problems.append(f"missing: {key} ({exc.strerror})")
                db.session.rollback()
                continue
            if sha256_hex(data) != key:
                report.corrupt += 1
                report.problems.append(f"corrupt: {key} (its bytes hash to {sha256_hex(data)})")
                db.session.rollback()
                continue
            target.put(data)
            report.copied += 1
        db.session.commit()
        if delete_source and source.exists(key):
            source.delete(key)
            report.deleted_sources += 1
    for problem in report.problems:
        out(problem)
    return report
