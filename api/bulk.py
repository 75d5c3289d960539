"""Bulk re-analysis of my older results, on the low-priority lane: start, follow, cancel."""
from __future__ import annotations

import uuid

import marshmallow as ma
from flask import current_app
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint, abort
from marshmallow import validate
from sqlalchemy import select

from api.queries import get_owned_or_404
from models import BulkRun, Resume, db
from services import bulk
from services.analysis.analyzers import configured_analyzer_name
from services.backpressure import Overloaded, admit_bulk_run

blp = Blueprint("bulk_runs", __name__, url_prefix="/api/analyses/reanalyze",
                description="Bulk re-analysis (low-priority lane)")


class ReanalyzeSchema(ma.Schema):
    resume_id = ma.fields.UUID(metadata={"description": "Only this resume's pairs"})
    application_status = ma.fields.String(validate=validate.Length(max=32),
                                          metadata={"description": "Only pairs of applications in this stage"})
    created_before = ma.fields.AwareDateTime(default_timezone=None,
                                             metadata={"description": "Only results older than this"})
    older_than_current = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "Only results not made by the current analyzer, model and prompt version"},
    )


class BulkRunSchema(ma.Schema):
    id = ma.fields.UUID()
    state = ma.fields.String(metadata={"description": "expanding, running, cancelled or finished"})
    filters = ma.fields.Dict()
    requested_by = ma.fields.String()
    created_at = ma.fields.DateTime()
    cancelled_at = ma.fields.DateTime(allow_none=True)
    total = ma.fields.Integer(allow_none=True, metadata={"description": "Pairs selected (known once expanded)"})
    created = ma.fields.Integer(metadata={"description": "Analyses created so far"})
    done = ma.fields.Integer()
    failed = ma.fields.Integer()
    cancelled = ma.fields.Integer()
    pending = ma.fields.Integer()


@blp.route("", methods=["POST"])
@jwt_required()
@blp.arguments(ReanalyzeSchema(), required=False)  # no body: every older result
@blp.response(202, BulkRunSchema)
@blp.alt_response(404, description="resume_id is not one of my resumes")
@blp.alt_response(429, description="Too many analyses asked for, or my daily LLM budget is spent (Retry-After)")
def start(filters: dict):
    """Re-analyse my latest results that match the filter, on the bulk lane (never delays
    interactive analyses); older results stay readable"""
    if "resume_id" in filters:
        get_owned_or_404(Resume, filters["resume_id"], what="Resume")
    try:
        admit_bulk_run(current_user.id, configured_analyzer_name(current_app.config))
    except Overloaded as refused:
        abort(refused.status, message=refused.message, headers={"Retry-After": str(refused.retry_after)})
    run = bulk.start(user_id=current_user.id, requested_by=current_user.email, filters=filters)
    db.session.commit()
    return bulk.progress(run)


def _own_run_or_404(bulk_run_id: uuid.UUID) -> BulkRun:
    run = db.session.scalar(select(BulkRun).where(BulkRun.id == bulk_run_id, BulkRun.user_id == current_user.id))
    if run is None:
        abort(404, message="Bulk run not found.")
    return run


@blp.route("/<uuid:bulk_run_id>")
@jwt_required()
@blp.response(200, BulkRunSchema)
def get_run(bulk_run_id: uuid.UUID):
    """Progress of a bulk run: total, done, failed, cancelled, pending"""
    return bulk.progress(_own_run_or_404(bulk_run_id))


@blp.route("/<uuid:bulk_run_id>/cancel", methods=["POST"])
@jwt_required()
@blp.response(200, BulkRunSchema)
def cancel_run(bulk_run_id: uuid.UUID):
    """Cancel: nothing more is published, analyses not started are skipped"""
    run = _own_run_or_404(bulk_run_id)
    if run.state != "cancelled":
        bulk.cancel(run)
        db.session.commit()
    return bulk.progress(run)
