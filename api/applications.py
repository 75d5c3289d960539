"""Applications: a job listing applied to, the stage it is in, and how it got there."""
from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint, abort
from sqlalchemy import BigInteger, Select, func, or_, select, union
from sqlalchemy.orm import contains_eager

from api.queries import apply_sort, get_owned_or_404, like_pattern, paginate
from api.request_id import current_request_id
from api.schemas.applications import (
    ApplicationQuerySchema,
    ApplicationSchema,
    ApplicationStatsSchema,
    StatusChangeSchema,
)
from models import Application, ApplicationStageStats, ApplicationStatus, JobListing, Resume, StatusChange, db
from models.mixins import utcnow
from services.analyses import AnalysisRefused, request_analysis
from services.application_stats import application_stats

blp = Blueprint("applications", __name__, url_prefix="/api/applications", description="Job applications")

SORT_COLUMNS = {
    "applied_at": Application.applied_at,
    "created_at": Application.created_at,
    "updated_at": Application.updated_at,
    "status_changed_at": Application.status_changed_at,
    "company": JobListing.company,
    "status": ApplicationStatus.position,
}
# PUT replaces the whole resource: what the body omits goes back to these.
REPLACE_DEFAULTS = {"resume_id": None, "applied_at": None, "notes": "", "source": None, "tags": []}


def get_application_or_404(application_id: uuid.UUID, *, deleted: bool = False) -> Application:
    application = get_owned_or_404(Application, application_id, what="Application")
    if (application.deleted_at is not None) != deleted:
        abort(404, message="Application not found.")
    return application


@blp.route("")
class Applications(MethodView):
    decorators = [jwt_required()]

    @blp.arguments(ApplicationQuerySchema(), location="query")
    @blp.response(200, ApplicationSchema(many=True))
    @blp.paginate()
    def get(self, filters: dict, pagination_parameters):
        """List my applications (filter, search, sort; paginated)"""
        # The page, in the default order, is read from ix_applications_user_applied and stops at
        # its size; the total is counted apart (_total).
        conditions = [
            Application.user_id == current_user.id,
            Application.deleted_at.is_not(None) if filters["deleted"] else Application.deleted_at.is_(None),
        ]
        if "needs_follow_up" in filters:
            conditions.append(Application.needs_follow_up.is_(filters["needs_follow_up"]))
        if filters.get("status"):
            conditions.append(Application.status.in_(filters["status"]))
        if "company" in filters:
            # On the joined listing: with another filter (a tag) the few applications it leaves
            # are checked one listing each; alone, the listings' trigram index finds them.
            conditions.append(JobListing.company.ilike(like_pattern(filters["company"])))
        if "tag" in filters:
            conditions.append(Application.tags.contains([filters["tag"].strip().lower()]))
        if "applied_from" in filters:
            conditions.append(Application.applied_at >= filters["applied_from"])
        if "applied_to" in filters:
            conditions.append(Application.applied_at <= filters["applied_to"])
        if "q" in filters:
            # Two trigram-indexed searches joined by UNION: an OR across the join would read
            # every one of the user's applications.
            pattern = like_pattern(filters["q"])
            listings = _my_listings(or_(JobListing.company.ilike(pattern), JobListing.title.ilike(pattern)))
            conditions.append(Application.id.in_(union(
                select(Application.id).where(Application.user_id == current_user.id, Application.job_id.in_(listings)),
                select(Application.id).where(Application.user_id == current_user.id, Application.notes.ilike(pattern)),
            )))
        statement = (
            select(Application)
            .join(Application.job)
            # Only what the page shows of the listing: not its description (kilobytes per row).
            .options(contains_eager(Application.job).load_only(JobListing.id, JobListing.company, JobListing.title))
            .join(ApplicationStatus, ApplicationStatus.slug == Application.status)
            .where(*conditions)
        )
        statement = apply_sort(statement, filters["sort"], SORT_COLUMNS, tiebreaker=Application.id)
        return paginate(statement, pagination_parameters, count=_total(filters, conditions))

    @blp.arguments(ApplicationSchema())
    @blp.response(201, ApplicationSchema)
    @blp.alt_response(404, description="The job listing (or resume) does not exist or is not yours")
    def post(self, data: dict):
        """Track a new application"""
        application = Application(user_id=current_user.id, status=data.pop("status") or "applied")
        _check_status(application.status)
        _assign(application, data)
        if application.applied_at is None and application.status != "wishlist":
            application.applied_at = utcnow()
        db.session.add(application)
        application.record_initial_status()
        _queue_analysis(application)
        db.session.commit()
        return application


@blp.route("/stats")
@jwt_required()
@blp.response(200, ApplicationStatsSchema)
def stats():
    """Counts by stage and by week, and mean time spent in each stage"""
    return application_stats(current_user.id)


@blp.route("/<uuid:application_id>")
class ApplicationItem(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, ApplicationSchema)
    @blp.alt_response(404, description="No such application (or not yours, or deleted)")
    def get(self, application_id: uuid.UUID):
        """Get one application"""
        return get_application_or_404(application_id)

    @blp.arguments(ApplicationSchema())
    @blp.response(200, ApplicationSchema)
    def put(self, data: dict, application_id: uuid.UUID):
        """Replace an application (omitted optional fields are cleared)"""
        application = get_application_or_404(application_id)
        return _update(application, {**REPLACE_DEFAULTS, **data})

    @blp.arguments(ApplicationSchema(partial=True))
    @blp.response(200, ApplicationSchema)
    def patch(self, data: dict, application_id: uuid.UUID):
        """Change some fields of an application; a new status is recorded in its history"""
        application = get_application_or_404(application_id)
        return _update(application, data)

    @blp.response(204)
    def delete(self, application_id: uuid.UUID):
        """Delete an application (soft: it can be restored)"""
        application = get_application_or_404(application_id)
        application.deleted_at = utcnow()
        db.session.commit()


@blp.route("/<uuid:application_id>/restore", methods=["POST"])
@jwt_required()
@blp.response(200, ApplicationSchema)
def restore(application_id: uuid.UUID):
    """Bring back a deleted application"""
    application = get_application_or_404(application_id, deleted=True)
    application.deleted_at = None
    db.session.commit()
    return application


@blp.route("/<uuid:application_id>/history")
@jwt_required()
@blp.response(200, StatusChangeSchema(many=True))
def history(application_id: uuid.UUID):
    """The stages this application went through, oldest first"""
    application = get_application_or_404(application_id)
    return db.session.scalars(
        select(StatusChange)
        .where(StatusChange.application_id == application.id)
        .order_by(StatusChange.changed_at, StatusChange.id)
    ).all()


def _total(filters: dict, conditions: list) -> Select:
    """The board's lists (live applications, by stage or all) are counted from the per-stage
    counters the database keeps (migration 0010): a few rows however many applications there
    are. Other filters count the matching applications through their indexes."""
    if not filters["deleted"] and set(filters) <= {"deleted", "sort", "status"}:
        count = (select(func.coalesce(func.sum(ApplicationStageStats.applications), 0).cast(BigInteger))
                 .where(ApplicationStageStats.user_id == current_user.id))
        if filters.get("status"):
            count = count.where(ApplicationStageStats.status.in_(filters["status"]))
        return count
    count = select(func.count()).select_from(Application)
    if "company" in filters:
        count = count.join(Application.job)
    return count.where(*conditions)


def _my_listings(condition) -> Select:
    return select(JobListing.id).where(JobListing.user_id == current_user.id, condition)


def _update(application: Application, data: dict) -> Application:
    new_status = data.pop("status", None)
    before = (application.resume_id, application.job_id)
    _assign(application, data)
    if new_status is not None:
        _check_status(new_status)
        application.change_status(new_status)
    if (application.resume_id, application.job_id) != before:
        _queue_analysis(application)
    db.session.commit()
    return application


def _queue_analysis(application: Application) -> None:
    """An application with a resume gets its resume analysed against its job (idempotent:
    an analysis of the same inputs is reused)."""
    if application.resume_id is None:
        return
    resume = db.session.get(Resume, application.resume_id)
    try:
        request_analysis(resume, application.job, request_id=current_request_id())
    except AnalysisRefused:
        # The resume is unreadable or the analysis queue is full: the application is still
        # saved, and its analysis can be asked for later with POST /api/resumes/{id}/analyze.
        pass


def _assign(application: Application, data: dict) -> None:
    if "job_id" in data:
        application.job = get_owned_or_404(JobListing, data.pop("job_id"), what="Job listing")
        application.job_id = application.job.id
    if data.get("resume_id") is not None:
        get_owned_or_404(Resume, data["resume_id"], what="Resume")
    for field, value in data.items():
        setattr(application, field, value)


def _check_status(slug: str) -> None:
    if db.session.get(ApplicationStatus, slug) is None:
        message = f"Unknown status {slug!r}; GET /api/statuses lists the stages."
        abort(422, message=message, errors={"json": {"status": [message]}})
