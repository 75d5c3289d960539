"""Background jobs: the state of the work the API started for me (extractions, analyses)."""
from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.queries import get_owned_or_404, paginate
from api.schemas.resumes import BackgroundJobQuerySchema, BackgroundJobSchema
from models import BackgroundJob

blp = Blueprint(
    "background_jobs", __name__, url_prefix="/api/background-jobs",
    description="Background work: state, attempts and failures",
)


@blp.route("")
class BackgroundJobs(MethodView):
    decorators = [jwt_required()]

    @blp.arguments(BackgroundJobQuerySchema(), location="query")
    @blp.response(200, BackgroundJobSchema(many=True))
    @blp.paginate()
    def get(self, filters: dict, pagination_parameters):
        """List my background jobs, newest first"""
        statement = (
            select(BackgroundJob)
            .options(selectinload(BackgroundJob.failures))
            .where(BackgroundJob.user_id == current_user.id)
            .filter_by(**filters)
            .order_by(BackgroundJob.created_at.desc(), BackgroundJob.id)
        )
        return paginate(statement, pagination_parameters)


@blp.route("/<uuid:background_job_id>")
@jwt_required()
@blp.response(200, BackgroundJobSchema)
def get_job(background_job_id: uuid.UUID):
    """One background job with every failed attempt"""
    return get_owned_or_404(BackgroundJob, background_job_id, what="Background job")
