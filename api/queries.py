"""What every resource view needs: owned lookups that 404 on other users' ids, paging, sorting."""
from __future__ import annotations

import uuid
from functools import lru_cache
from typing import TypeVar

from flask_jwt_extended import current_user
from flask_smorest import abort
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import Select, String, bindparam, func, select

from models import db

Model = TypeVar("Model")
# flask-smorest bounds page_size but not page; a huge page overflows the SQL OFFSET (a bigint).
# No list here reaches a million pages; the OpenAPI document states the bound (api/openapi.py).
MAX_PAGE = 1_000_000


def get_owned_or_404(model: type[Model], object_id: uuid.UUID, *, what: str) -> Model:
    """The current user's ``model`` row with ``object_id``; another user's id is a 404 too,
    so ids cannot be probed."""
    row = db.session.scalar(_owned_statement(model), {"object_id": object_id, "user_id": current_user.id})
    if row is None:
        abort(404, message=f"{what} not found.")
    return row


@lru_cache(maxsize=None)
def _owned_statement(model: type) -> Select:
    # Built once per model: building a statement costs about as much CPU as running it, and
    # every request for one resource runs this one.
    return select(model).where(model.id == bindparam("object_id"), model.user_id == bindparam("user_id"))


def like_pattern(text: str) -> str:
    """A case-insensitive substring pattern in which ``%`` and ``_`` are literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def paginate(statement: Select, pagination: PaginationParameters, *, count: Select | None = None) -> list:
    """The page of ``statement``'s rows, and its total in the X-Pagination header. ``count``
    counts the same rows more cheaply (no joins that only load columns); by default the
    statement itself, without its order, is counted."""
    if pagination.page > MAX_PAGE:
        abort(422, message=f"page must be at most {MAX_PAGE:,}.",
              errors={"query": {"page": [f"Must be less than or equal to {MAX_PAGE}."]}})
    offset = (pagination.page - 1) * pagination.page_size
    if count is None:
        count = select(func.count()).select_from(statement.order_by(None).subquery())
    # One round trip, not two: the total rides on every row of the page as an uncounted
    # subquery, which PostgreSQL runs once (an InitPlan), so the page itself is still read in
    # index order and stops at LIMIT. (A count(*) OVER () window, as before, made every page
    # fetch and sort all of the user's rows: 130 ms at 20,000 applications.) Only a page past
    # the end has no row to carry the total and is counted on its own.
    rows = db.session.execute(
        statement.add_columns(count.scalar_subquery().label("total")).limit(pagination.page_size).offset(offset)
    ).all()
    if rows:
        pagination.item_count = rows[0].total
    elif offset == 0:
        pagination.item_count = 0
    else:
        pagination.item_count = db.session.scalar(count)
    return [row[0] for row in rows]


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
