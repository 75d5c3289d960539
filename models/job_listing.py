"""Job listings a user keeps and applies to."""
from __future__ import annotations

import enum
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.mixins import Timestamps, UUIDPrimaryKey


class EmploymentType(str, enum.Enum):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    CONTRACT = "contract"
    INTERNSHIP = "internship"
    TEMPORARY = "temporary"
    FREELANCE = "freelance"
    OTHER = "other"


EMPLOYMENT_TYPES = tuple(t.value for t in EmploymentType)


class JobListing(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "job_listings"
    __table_args__ = (
        CheckConstraint(
            "salary_min IS NULL OR salary_max IS NULL OR salary_min <= salary_max", name="salary_range_ordered"
        ),
        CheckConstraint("salary_min IS NULL OR salary_min >= 0", name="salary_min_non_negative"),
        CheckConstraint(f"employment_type IS NULL OR employment_type IN {EMPLOYMENT_TYPES!r}", name="employment_type_known"),
        # Migration 0009: the default page order and the substring search, per user.
        Index("ix_job_listings_user_created", "user_id", text("created_at DESC NULLS LAST"), "id"),
        Index("ix_job_listings_user_search_trgm", "user_id", "company", "title", postgresql_using="gin",
              postgresql_ops={"company": "gin_trgm_ops", "title": "gin_trgm_ops"}),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    company: Mapped[str] = mapped_column(String(200), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    url: Mapped[str | None] = mapped_column(String(2048))
    location: Mapped[str | None] = mapped_column(String(200))
    salary_min: Mapped[int | None] = mapped_column(Integer)
    salary_max: Mapped[int | None] = mapped_column(Integer)
    salary_currency: Mapped[str | None] = mapped_column(String(3))
    employment_type: Mapped[str | None] = mapped_column(String(20))
