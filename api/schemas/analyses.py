"""Schemas for analyses: one result schema for every analyzer."""
from __future__ import annotations

import marshmallow as ma
from flask import url_for
from marshmallow import validate

from api.schemas.common import decimal_string
from services.analysis.result import REQUIREMENT_VERDICTS, VERDICTS


class AnalyzeRequestSchema(ma.Schema):
    job_id = ma.fields.UUID(required=True, metadata={"description": "The job listing to compare the resume with"})
    force = ma.fields.Boolean(
        load_default=False, metadata={"description": "Analyse again even if the same inputs were analysed already"}
    )


class IdempotencyHeaderSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = ma.fields.String(
        data_key="Idempotency-Key", validate=validate.Length(min=1, max=255),
        metadata={"description": "Retrying a POST with the same key returns the first answer"},
    )


class RequirementSchema(ma.Schema):
    requirement = ma.fields.String(required=True)
    verdict = ma.fields.String(required=True, validate=validate.OneOf(REQUIREMENT_VERDICTS))
    evidence = ma.fields.String(allow_none=True, metadata={"description": "The resume sentence that supports it"})


class AnalysisResultSchema(ma.Schema):
    score = ma.fields.Integer(required=True, validate=validate.Range(0, 100))
    verdict = ma.fields.String(
        required=True, validate=validate.OneOf(VERDICTS),
        metadata={"description": "strong_match >= 75, good_match >= 55, partial_match >= 35, else weak_match"},
    )
    summary = ma.fields.String(required=True)
    matched_skills = ma.fields.List(ma.fields.String(), required=True)
    missing_skills = ma.fields.List(ma.fields.String(), required=True)
    requirements = ma.fields.List(ma.fields.Nested(RequirementSchema), required=True)
    strengths = ma.fields.List(ma.fields.String(), required=True)
    gaps = ma.fields.List(ma.fields.String(), required=True)
    suggestions = ma.fields.List(ma.fields.String(), required=True)


class ProvenanceSchema(ma.Schema):
    analyzer = ma.fields.String(metadata={"description": "local or llm"})
    analyzer_version = ma.fields.String()
    model = ma.fields.String(allow_none=True)
    prompt_version = ma.fields.String(allow_none=True)
    tokens_in = ma.fields.Integer(allow_none=True)
    tokens_out = ma.fields.Integer(allow_none=True)
    latency_ms = ma.fields.Integer(allow_none=True)
    cost_usd = decimal_string("Estimate in USD, as a decimal string", "0.000125")


class AnalysisSchema(ma.Schema):
    id = ma.fields.UUID()
    resume_id = ma.fields.UUID()
    job_id = ma.fields.UUID(attribute="job_listing_id", metadata={"description": "The job listing"})
    state = ma.fields.String(
        attribute="job.state",
        metadata={"description": "waiting (for the resume's text), queued, running, succeeded, failed or dead"},
    )
    attempts = ma.fields.Integer(attribute="job.attempts")
    background_job_id = ma.fields.UUID(attribute="job_id")
    created_at = ma.fields.DateTime()
    started_at = ma.fields.DateTime(attribute="job.started_at", allow_none=True)
    finished_at = ma.fields.DateTime(attribute="job.finished_at", allow_none=True)
    failure_reason = ma.fields.String(allow_none=True)
    failure_message = ma.fields.String(allow_none=True)
    last_error = ma.fields.String(attribute="job.last_error", allow_none=True)
    result = ma.fields.Nested(AnalysisResultSchema, allow_none=True, metadata={"description": "Set once succeeded"})
    provenance = ma.fields.Nested(ProvenanceSchema, metadata={"description": "Who answered, how, at what cost"})
    poll_url = ma.fields.Method("_poll_url")

    def _poll_url(self, analysis) -> str:
        return url_for("analyses.get_analysis", analysis_id=analysis.id)
