"""What every resource view needs: owned lookups that 404 on other users' ids, paging, sorting."""
from __future__ import annotations

import uuid
from typing import TypeVar

from flask_jwt_extended import current_user
from flask_smorest import abort
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import Select, String, func, select

from models import db

Model = TypeVar("Model")
# flask-smorest bounds page_size but not page; a huge page overflows the SQL OFFSET (a bigint).
# No list here reaches a million pages; the OpenAPI document states the bound (api/openapi.py).
MAX_PAGE = 1_000_000


def get_owned_or_404(model: type[Model], object_id: uuid.UUID, *, what: str) -> Model:
    """The current user's ``model`` row with ``object_id``; another user's id is a 404 too,
    so ids cannot be probed."""
    row = db.session.scalar(select(model).where(model.id == object_id, model.user_id == current_user.id))
    if row is None:
        abort(404, message=f"{what} not found.")
    return row


def like_pattern(text: str) -> str:
    """A case-insensitive substring pattern in which ``%`` and ``_`` are literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def paginate(statement: Select, pagination: PaginationParameters) -> list:
    if pagination.page > MAX_PAGE:
        abort(422, message=f"page must be at most {MAX_PAGE:,}.",
              errors={"query": {"page": [f"Must be less than or equal to {MAX_PAGE}."]}})
    pagination.item_count = db.session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    offset = (pagination.page - 1) * pagination.page_size
    return list(db.session.scalars(statement.limit(pagination.page_size).offset(offset)).unique())


def apply_sort(statement: Select, sort: str, columns: dict, *, tiebreaker) -> Select:
    """``sort`` is a comma-separated list of field names, ``-`` for descending (validated by the
    query schema against ``columns``); ``tiebreaker`` keeps pages stable."""
    order = []
    for field in sort.split(","):
        descending = field.startswith("-")
        column = columns[field.lstrip("-")]
        if isinstance(column.type, String):
            column = func.lower(column)  # people sort names alphabetically, not by code point
        order.append(column.desc().nulls_last() if descending else column.asc().nulls_last())
    return statement.order_by(*order, tiebreaker)
