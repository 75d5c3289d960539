"""Job listings: the postings a user keeps and applies to."""
from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint, abort
from sqlalchemy import func, or_, select

from api.queries import apply_sort, get_owned_or_404, like_pattern, paginate
from api.schemas.jobs import JobListingQuerySchema, JobListingSchema
from models import Analysis, Application, JobListing, db, lock_row
from services import jobs

blp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Job listings")


@blp.route("")
class JobListings(MethodView):
    decorators = [jwt_required()]

    @blp.arguments(JobListingQuerySchema(), location="query")
    @blp.response(200, JobListingSchema(many=True))
    @blp.paginate()
    def get(self, filters: dict, pagination_parameters):
        """List my job listings"""
        statement = select(JobListing).where(JobListing.user_id == current_user.id)
        if "company" in filters:
            statement = statement.where(JobListing.company.ilike(like_pattern(filters["company"])))
        if "employment_type" in filters:
            statement = statement.where(JobListing.employment_type == filters["employment_type"])
        if "q" in filters:
            pattern = like_pattern(filters["q"])
            statement = statement.where(or_(JobListing.company.ilike(pattern), JobListing.title.ilike(pattern)))
        columns = {name: getattr(JobListing, name) for name in ("created_at", "updated_at", "company", "title")}
        statement = apply_sort(statement, filters["sort"], columns, tiebreaker=JobListing.id)
        return paginate(statement, pagination_parameters)

    @blp.arguments(JobListingSchema())
    @blp.response(201, JobListingSchema)
    def post(self, data: dict):
        """Add a job listing"""
        listing = JobListing(user_id=current_user.id, **data)
        db.session.add(listing)
        db.session.commit()
        return listing


@blp.route("/<uuid:job_id>")
class JobListingItem(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, JobListingSchema)
    @blp.alt_response(404, description="No such listing (or not yours)")
    def get(self, job_id: uuid.UUID):
        """Get one job listing"""
        return get_owned_or_404(JobListing, job_id, what="Job listing")

    @blp.arguments(JobListingSchema())
    @blp.response(200, JobListingSchema)
    def put(self, data: dict, job_id: uuid.UUID):
        """Replace a job listing (omitted optional fields are cleared)"""
        listing = get_owned_or_404(JobListing, job_id, what="Job listing")
        for field in ("url", "location", "salary_min", "salary_max", "salary_currency", "employment_type"):
            setattr(listing, field, None)
        return _update(listing, data)

    @blp.arguments(JobListingSchema(partial=True))
    @blp.response(200, JobListingSchema)
    def patch(self, data: dict, job_id: uuid.UUID):
        """Change some fields of a job listing"""
        listing = get_owned_or_404(JobListing, job_id, what="Job listing")
        return _update(listing, data)

    @blp.response(204)
    @blp.alt_response(409, description="Applications still refer to this listing")
    def delete(self, job_id: uuid.UUID):
        """Delete a job listing that no application refers to"""
        listing = get_owned_or_404(JobListing, job_id, what="Job listing")
        # Locked first: an application or analysis added at the same moment either commits
        # before (and is counted, or its job cancelled, below) or fails its foreign key after.
        if lock_row(JobListing, listing.id) is None:
            abort(404, message="Job listing not found.")  # a concurrent request deleted it
        in_use = db.session.scalar(select(func.count()).where(Application.job_id == listing.id))
        if in_use:
            abort(
                409,
                message=f"{in_use} application(s) refer to this listing (deleted ones included); "
                "delete or move them first.",
            )
        jobs.cancel_not_started(select(Analysis.job_id).where(Analysis.job_listing_id == listing.id),
                                "the job listing was deleted")
        db.session.delete(listing)
        db.session.commit()


def _update(listing: JobListing, data: dict) -> JobListing:
    for field, value in data.items():
        setattr(listing, field, value)
    if listing.salary_min is not None and listing.salary_max is not None and listing.salary_min > listing.salary_max:
        abort(422, message="salary_min must not exceed salary_max.",
              errors={"json": {"salary_min": ["salary_min must not exceed salary_max."]}})
    db.session.commit()
    return listing
