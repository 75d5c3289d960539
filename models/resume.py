"""Uploaded resumes: the original file (by content hash, in storage) and the text derived from it."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.mixins import Timestamps, UUIDPrimaryKey


class ExtractionStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


EXTRACTION_STATUSES = tuple(s.value for s in ExtractionStatus)


class Resume(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "resumes"
    __table_args__ = (
        CheckConstraint(f"extraction_status IN {EXTRACTION_STATUSES!r}", name="extraction_status_known"),
        CheckConstraint("file_kind IN ('pdf', 'docx', 'text')", name="file_kind_known"),
        CheckConstraint("size_bytes >= 0", name="size_non_negative"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # The client's file name, for display and downloads only: storage never uses it.
    original_filename: Mapped[str | None] = mapped_column(String(255))
    file_kind: Mapped[str] = mapped_column(String(8), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)

    extraction_status: Mapped[str] = mapped_column(String(16), nullable=False, default=ExtractionStatus.QUEUED.value)
    extraction_job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    failure_reason: Mapped[str | None] = mapped_column(String(32))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str | None] = mapped_column(Text)
    page_count: Mapped[int | None] = mapped_column(Integer)
    word_count: Mapped[int | None] = mapped_column(Integer)
    extracted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
