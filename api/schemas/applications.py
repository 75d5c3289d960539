"""Schemas for applications, their stage history and statistics."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from api.schemas.common import TrimmedString, UtcDateTime, sort_field, within_documented_length

APPLICATION_SORT_FIELDS = ("applied_at", "created_at", "updated_at", "status_changed_at", "company", "status")
MAX_TAGS = 20


class Tag(ma.fields.String):
    """Tags are case-insensitive labels: stored trimmed and lower-case."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        within_documented_length(self, result)
        return result.strip().lower()


def _unique_tags(tags: list[str]) -> None:
    if len(set(tags)) != len(tags):
        raise ma.ValidationError("Tags must be unique.")


class JobSummarySchema(ma.Schema):
    id = ma.fields.UUID()
    company = ma.fields.String()
    title = ma.fields.String()


class ApplicationSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    job_id = ma.fields.UUID(required=True)
    job = ma.fields.Nested(JobSummarySchema, dump_only=True)
    resume_id = ma.fields.UUID(allow_none=True)
    status = ma.fields.String(
        load_default=None, validate=validate.Length(max=32), metadata={"description": "A slug from GET /api/statuses"}
    )
    applied_at = UtcDateTime(
        allow_none=True, default_timezone=None,
        metadata={"description": "When the application was sent; defaults to now unless the stage is wishlist"},
    )
    notes = ma.fields.String(load_default="", validate=validate.Length(max=20_000))
    source = TrimmedString(allow_none=True, validate=validate.Length(max=100))
    tags = ma.fields.List(
        Tag(validate=validate.Length(min=1, max=50)),
        load_default=list,
        validate=[validate.Length(max=MAX_TAGS), _unique_tags],
        metadata={"uniqueItems": True},
    )
    status_changed_at = ma.fields.DateTime(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)
    deleted_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    needs_follow_up = ma.fields.Boolean(
        dump_only=True, metadata={"description": "No stage change for FOLLOW_UP_DAYS (set by a periodic check)"}
    )


class ApplicationQuerySchema(ma.Schema):
    status = ma.fields.List(ma.fields.String(), metadata={"description": "Repeat to match any of several stages"})
    company = ma.fields.String(validate=validate.Length(max=200))
    tag = ma.fields.String(validate=validate.Length(max=50))
    applied_from = UtcDateTime(default_timezone=None)
    applied_to = UtcDateTime(default_timezone=None)
    q = ma.fields.String(validate=validate.Length(max=200), metadata={"description": "Search company, title and notes"})
    needs_follow_up = ma.fields.Boolean(metadata={"description": "true: only applications due a follow-up"})
    deleted = ma.fields.Boolean(
        load_default=False, metadata={"description": "true lists the deleted (restorable) applications instead"}
    )
    sort = sort_field(APPLICATION_SORT_FIELDS, "-applied_at")

    @ma.validates_schema
    def range_ordered(self, data, **kwargs):
        if "applied_from" in data and "applied_to" in data and data["applied_from"] > data["applied_to"]:
            raise ma.ValidationError("applied_from must not be after applied_to.", "applied_from")


class StatusChangeSchema(ma.Schema):
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    changed_at = ma.fields.DateTime()


class StatusCountSchema(ma.Schema):
    status = ma.fields.String()
    count = ma.fields.Integer()


class WeekCountSchema(ma.Schema):
    week_start = ma.fields.Date()
    count = ma.fields.Integer()


class StageDurationSchema(ma.Schema):
    status = ma.fields.String()
    mean_days = ma.fields.Float(allow_none=True)
    samples = ma.fields.Integer()


class ApplicationStatsSchema(ma.Schema):
    total = ma.fields.Integer()
    by_status = ma.fields.List(ma.fields.Nested(StatusCountSchema))
    by_week = ma.fields.List(
        ma.fields.Nested(WeekCountSchema), metadata={"description": "Applications sent per ISO week (by applied_at)"}
    )
    time_in_stage = ma.fields.List(
        ma.fields.Nested(StageDurationSchema),
        metadata={"description": "Mean days spent in each stage; a stage an application is still in counts up to now"},
    )
