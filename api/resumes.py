"""Resumes: upload, metadata, the original file, and the text extracted in the background."""
from __future__ import annotations

import uuid

from flask import Response
from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from api.queries import apply_sort, get_owned_or_404, like_pattern, paginate
from api.request_id import current_request_id
from api.schemas.resumes import (
    ResumeDetailSchema,
    ResumeQuerySchema,
    ResumeSchema,
    ResumeUploadSchema,
)
from models import Resume, db
from services import resumes as resume_service
from services.resumes import UploadRejected


class MultipartParser(FlaskParser):
    """Reads the ``files`` location as the whole multipart body, file parts and form fields
    together, so that one schema validates (and documents) an upload. A part sent twice
    becomes a list, which the schema refuses, rather than silently keeping the first."""

    def load_files(self, req, schema):
        parts = CombinedMultiDict([req.files, req.form])
        return {name: values[0] if len(values) == 1 else values for name, values in parts.lists()}


class ResumesBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()


blp = ResumesBlueprint("resumes", __name__, url_prefix="/api/resumes", description="Resumes and their extracted text")

# Multipart framing around the file; the file itself is checked against RESUME_MAX_BYTES.
MULTIPART_OVERHEAD = 64 * 1024


def upload_body_limit() -> int:
    from flask import current_app

    return current_app.config["RESUME_MAX_BYTES"] + MULTIPART_OVERHEAD


@blp.route("")
class Resumes(MethodView):
    decorators = [jwt_required()]

    @blp.arguments(ResumeQuerySchema(), location="query")
    @blp.response(200, ResumeSchema(many=True))
    @blp.paginate()
    def get(self, filters: dict, pagination_parameters):
        """List my resumes"""
        statement = select(Resume).where(Resume.user_id == current_user.id)
        if "extraction_status" in filters:
            statement = statement.where(Resume.extraction_status == filters["extraction_status"])
        if "q" in filters:
            statement = statement.where(Resume.name.ilike(like_pattern(filters["q"])))
        columns = {name: getattr(Resume, name) for name in ("created_at", "updated_at", "name")}
        return paginate(apply_sort(statement, filters["sort"], columns, tiebreaker=Resume.id), pagination_parameters)

    @blp.arguments(ResumeUploadSchema(), location="files")
    @blp.response(201, ResumeSchema)
    @blp.alt_response(413, description="The file is over RESUME_MAX_BYTES")
    @blp.alt_response(422, description="Empty file or not a PDF, DOCX or plain text")
    def post(self, body: dict):
        """Upload a resume (multipart); its text is extracted in the background"""
        upload = body["file"]
        data = upload.read(upload_body_limit() + 1)
        try:
            resume = resume_service.create_resume(
                current_user.id, data, filename=upload.filename, name=body.get("name"),
                request_id=current_request_id(),
            )
        except UploadRejected as rejected:
            abort(rejected.status, message=rejected.message)
        db.session.commit()
        return resume

    post.max_body_bytes = upload_body_limit


@blp.route("/<uuid:resume_id>")
class ResumeItem(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, ResumeDetailSchema)
    def get(self, resume_id: uuid.UUID):
        """Get a resume with its extraction status and text"""
        return get_owned_or_404(Resume, resume_id, what="Resume")

    @blp.arguments(ResumeSchema())
    @blp.response(200, ResumeSchema)
    def put(self, data: dict, resume_id: uuid.UUID):
        """Replace a resume's editable fields (its name)"""
        return _update(get_owned_or_404(Resume, resume_id, what="Resume"), data)

    @blp.arguments(ResumeSchema(partial=True))
    @blp.response(200, ResumeSchema)
    def patch(self, data: dict, resume_id: uuid.UUID):
        """Change a resume's name"""
        return _update(get_owned_or_404(Resume, resume_id, what="Resume"), data)

    @blp.response(204)
    def delete(self, resume_id: uuid.UUID):
        """Delete a resume (applications keep going without it); its file goes when unused"""
        if not resume_service.delete_resume(get_owned_or_404(Resume, resume_id, what="Resume")):
            abort(404, message="Resume not found.")


@blp.route("/<uuid:resume_id>/file")
@jwt_required()
@blp.response(200, description="The original file, as uploaded")
def download(resume_id: uuid.UUID):
    """Download the original file"""
    resume = get_owned_or_404(Resume, resume_id, what="Resume")
    data = resume_service.storage().get(resume.sha256)
    filename = resume_service.file_download_name(resume).replace('"', "")
    return Response(
        data,
        mimetype=resume.content_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{filename.encode('ascii', 'replace').decode()}\"",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@blp.route("/<uuid:resume_id>/extract", methods=["POST"])
@jwt_required()
@blp.response(202, ResumeSchema)
def reextract(resume_id: uuid.UUID):
    """Extract the text again (e.g. after a failure on our side); no-op while one is queued or running"""
    resume = get_owned_or_404(Resume, resume_id, what="Resume")
    if not resume_service.extraction_in_progress(resume):
        resume_service.queue_extraction(resume, request_id=current_request_id())
        db.session.commit()
    return resume


def _update(resume: Resume, data: dict) -> Resume:
    for field, value in data.items():
        setattr(resume, field, value)
    db.session.commit()
    return resume
