"""Schemas for resumes and background jobs."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate
from werkzeug.datastructures import FileStorage

from api.schemas.common import TrimmedString, sort_field
from models.background_job import JOB_STATES, JobKind
from models.resume import EXTRACTION_STATUSES

RESUME_SORT_FIELDS = ("created_at", "updated_at", "name")


class UploadedFile(ma.fields.Raw):
    """A multipart file part (a form field of the same name is not a file)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Send the resume as a file part of a multipart/form-data body.")
        return value


class ResumeUploadSchema(ma.Schema):
    """The multipart body of an upload: the file part and an optional name field."""

    file = UploadedFile(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "PDF, DOCX or plain text"},
    )
    name = TrimmedString(validate=validate.Length(min=1, max=200), metadata={"description": "Defaults to the file name"})


class ResumeSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=200))
    original_filename = ma.fields.String(dump_only=True, allow_none=True)
    file_kind = ma.fields.String(dump_only=True, metadata={"description": "pdf, docx or text (from the bytes)"})
    content_type = ma.fields.String(dump_only=True)
    size_bytes = ma.fields.Integer(dump_only=True)
    sha256 = ma.fields.String(dump_only=True)
    extraction_status = ma.fields.String(
        dump_only=True, metadata={"description": f"One of {', '.join(EXTRACTION_STATUSES)}"}
    )
    extraction_job_id = ma.fields.UUID(dump_only=True, allow_none=True)
    failure_reason = ma.fields.String(
        dump_only=True, allow_none=True,
        metadata={"description": "encrypted, unsupported_type, corrupt, zero_pages, no_text_layer, "
                  "too_many_pages, too_large, processing_error"},
    )
    failure_message = ma.fields.String(dump_only=True, allow_none=True)
    page_count = ma.fields.Integer(dump_only=True, allow_none=True)
    word_count = ma.fields.Integer(dump_only=True, allow_none=True)
    extracted_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class ResumeDetailSchema(ResumeSchema):
    text = ma.fields.String(dump_only=True, allow_none=True, metadata={"description": "The extracted text"})


class ResumeQuerySchema(ma.Schema):
    extraction_status = ma.fields.String(validate=validate.OneOf(EXTRACTION_STATUSES))
    q = ma.fields.String(validate=validate.Length(max=200), metadata={"description": "Search names"})
    sort = sort_field(RESUME_SORT_FIELDS, "-created_at")


class JobFailureSchema(ma.Schema):
    attempt = ma.fields.Integer()
    error_class = ma.fields.String()
    message = ma.fields.String()
    transient = ma.fields.Boolean()
    failed_at = ma.fields.DateTime()


class BackgroundJobSchema(ma.Schema):
    id = ma.fields.UUID()
    kind = ma.fields.String(metadata={"description": ", ".join(k.value for k in JobKind)})
    subject_id = ma.fields.UUID()
    state = ma.fields.String(metadata={"description": f"One of {', '.join(JOB_STATES)}"})
    attempts = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    published_at = ma.fields.DateTime(allow_none=True)
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)
    next_attempt_at = ma.fields.DateTime(allow_none=True)
    last_error_class = ma.fields.String(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    failures = ma.fields.List(ma.fields.Nested(JobFailureSchema))


class BackgroundJobQuerySchema(ma.Schema):
    kind = ma.fields.String(validate=validate.OneOf([k.value for k in JobKind]))
    state = ma.fields.String(validate=validate.OneOf(JOB_STATES))
    subject_id = ma.fields.UUID()
