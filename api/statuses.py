"""The stages an application moves through."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import select

from models import ApplicationStatus, db

blp = Blueprint("statuses", __name__, url_prefix="/api/statuses", description="Application stages")


class StatusSchema(ma.Schema):
    slug = ma.fields.String(metadata={"description": "Stable identifier used by applications"})
    label = ma.fields.String()
    position = ma.fields.Integer(metadata={"description": "Order of the stage in a typical search"})
    is_terminal = ma.fields.Boolean(metadata={"description": "The application ends here"})


@blp.route("")
@blp.response(200, StatusSchema(many=True))
@blp.doc(security=[])
def list_statuses():
    """All stages, in order"""
    return db.session.scalars(select(ApplicationStatus).order_by(ApplicationStatus.position)).all()
