"""The bytes of uploaded files, kept in PostgreSQL (``STORAGE_BACKEND=database``).

One row per distinct content, keyed by its SHA-256, so identical uploads share one copy. A row is
written in the transaction that adds the resume naming it, so both commit or neither does.

There is no foreign key from ``resumes.sha256``: with ``STORAGE_BACKEND=filesystem`` (and, before
``flask storage migrate``, after an upgrade) the bytes live on disk and this table has no row.
Instead every writer and remover of a row locks it first (services/storage.py), which is what
keeps a resume from losing its bytes to a concurrent delete (tests/test_storage.py).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models import db


class StoredFile(db.Model):
    __tablename__ = "stored_files"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("size = octet_length(content)", name="size_matches_content"),
    )

    # varchar(64) like resumes.sha256, so the two compare without a cast.
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
