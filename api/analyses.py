"""Analyses: how well a resume fits a job listing, computed in the background."""
from __future__ import annotations

import uuid

from flask import url_for
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from api.queries import get_owned_or_404, paginate
from api.request_id import current_request_id
from api.schemas.analyses import AnalysisSchema, AnalyzeRequestSchema, IdempotencyHeaderSchema
from models import Analysis, JobListing, JobState, Resume, commit_keeping_loaded, db
from services import analyses as analysis_service
from services.analyses import AnalysisRefused

blp = Blueprint("analyses", __name__, url_prefix="/api", description="Resume analyses against job listings")


@blp.route("/resumes/<uuid:resume_id>/analyze", methods=["POST"])
@jwt_required()
@blp.arguments(AnalyzeRequestSchema())
@blp.arguments(IdempotencyHeaderSchema(), location="headers")
@blp.response(202, AnalysisSchema)
@blp.alt_response(404, description="The resume or the job listing does not exist or is not yours")
@blp.alt_response(409, description="The resume's text could not be extracted")
@blp.alt_response(429, description="Too many of your analyses are unfinished, too many asked for, or your daily "
                                   "LLM budget is spent (Retry-After says when to retry)")
@blp.alt_response(503, description="The analysis queue is full (Retry-After says when to retry)")
def analyze(body: dict, headers: dict, resume_id: uuid.UUID):
    """Ask for an analysis; answers at once with its state and a URL to poll.

    The same resume content, listing text and analyzer version return the existing analysis
    instead of paying twice, unless `force` is true. A resume whose text is still being
    extracted is analysed once it is (state `waiting`).
    """
    resume, listing = analysis_service.owned_resume_and_listing(current_user.id, resume_id, body["job_id"])
    if resume is None:
        abort(404, message="Resume not found.")
    if listing is None:
        abort(404, message="Job listing not found.")
    request_id = current_request_id()
    try:
        if "idempotency_key" in headers:
            analysis, _ = analysis_service.request_with_idempotency_key(
                headers["idempotency_key"], resume, listing, force=body["force"], request_id=request_id)
        else:
            analysis, _ = analysis_service.request_analysis(resume, listing, force=body["force"], request_id=request_id)
    except AnalysisRefused as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else {}
        abort(refused.status, message=refused.message, headers=headers)
    commit_keeping_loaded()
    if analysis.job.state == JobState.WAITING.value:
        db.session.refresh(analysis.job)  # the re-check after the commit may have released it
    return analysis, 202, {"Location": url_for("analyses.get_analysis", analysis_id=analysis.id)}


@blp.route("/resumes/<uuid:resume_id>/analysis/<uuid:job_id>")
@jwt_required()
@blp.response(200, AnalysisSchema)
def latest_for_pair(resume_id: uuid.UUID, job_id: uuid.UUID):
    """The latest analysis of this resume against this job listing"""
    resume = get_owned_or_404(Resume, resume_id, what="Resume")
    listing = get_owned_or_404(JobListing, job_id, what="Job listing")
    analysis = analysis_service.latest_for_pair(current_user.id, resume.id, listing.id)
    if analysis is None:
        abort(404, message="Analysis not found.")
    return analysis


@blp.route("/resumes/<uuid:resume_id>/analyses")
@jwt_required()
@blp.response(200, AnalysisSchema(many=True))
@blp.paginate()
def for_resume(resume_id: uuid.UUID, pagination_parameters):
    """Every analysis of this resume, newest first (older results stay readable)"""
    resume = get_owned_or_404(Resume, resume_id, what="Resume")
    statement = select(Analysis).where(Analysis.resume_id == resume.id).order_by(Analysis.created_at.desc(), Analysis.id)
    return paginate(statement, pagination_parameters)


@blp.route("/analyses/<uuid:analysis_id>")
@jwt_required()
@blp.response(200, AnalysisSchema)
def get_analysis(analysis_id: uuid.UUID):
    """One analysis: state, result and provenance"""
    return get_owned_or_404(Analysis, analysis_id, what="Analysis")


@blp.route("/applications/<uuid:application_id>/analysis")
@jwt_required()
@blp.response(200, AnalysisSchema)
def for_application(application_id: uuid.UUID):
    """The latest analysis of an application's resume against its job listing"""
    from api.applications import get_application_or_404

    application = get_application_or_404(application_id)
    analysis = (
        analysis_service.latest_for_pair(current_user.id, application.resume_id, application.job_id)
        if application.resume_id else None
    )
    if analysis is None:
        abort(404, message="Analysis not found.")
    return analysis
