"""Schemas for job listings."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from api.schemas.common import TrimmedString, sort_field
from models.job_listing import EMPLOYMENT_TYPES

JOB_SORT_FIELDS = ("created_at", "updated_at", "company", "title")
# An absolute http(s) URL with a host: a link a user can follow and nothing else (no javascript:,
# no relative paths). One pattern that the API checks and the OpenAPI document states, so that
# clients (and schemathesis) know exactly what is accepted.
URL_PATTERN = r"^https?://[^\s/?#@]+(?:[/?#]\S*)?$"


def _description_within_limit(value: str) -> None:
    limit = current_app.config["JOB_DESCRIPTION_MAX_CHARS"]
    if len(value) > limit:
        raise ma.ValidationError(f"Description is {len(value)} characters; the limit is {limit}.")


class JobListingSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    company = TrimmedString(required=True, validate=validate.Length(min=1, max=200))
    title = TrimmedString(required=True, validate=validate.Length(min=1, max=200))
    description = ma.fields.String(
        load_default="", validate=_description_within_limit, metadata={"description": "Full text of the listing"}
    )
    url = ma.fields.String(
        allow_none=True,
        validate=[validate.Length(max=2048), validate.Regexp(URL_PATTERN, error="Not a valid http(s) URL.")],
        metadata={"pattern": URL_PATTERN, "description": "The listing's page: an absolute http or https URL"},
    )
    location = TrimmedString(allow_none=True, validate=validate.Length(max=200))
    salary_min = ma.fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=100_000_000))
    salary_max = ma.fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=100_000_000))
    salary_currency = ma.fields.String(
        allow_none=True, validate=validate.Regexp(r"^[A-Z]{3}$", error="Use a 3-letter ISO 4217 code, e.g. EUR.")
    )
    employment_type = ma.fields.String(allow_none=True, validate=validate.OneOf(EMPLOYMENT_TYPES))
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)

    @ma.validates_schema
    def salary_range_ordered(self, data, partial=None, **kwargs):
        low, high = data.get("salary_min"), data.get("salary_max")
        if low is not None and high is not None and low > high:
            raise ma.ValidationError("salary_min must not exceed salary_max.", "salary_min")


class JobListingQuerySchema(ma.Schema):
    company = ma.fields.String(metadata={"description": "Case-insensitive substring of the company"})
    q = ma.fields.String(validate=validate.Length(max=200), metadata={"description": "Search company and title"})
    employment_type = ma.fields.String(validate=validate.OneOf(EMPLOYMENT_TYPES))
    sort = sort_field(JOB_SORT_FIELDS, "-created_at")
