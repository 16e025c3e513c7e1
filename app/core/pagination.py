"""In-view pagination for SQLAlchemy 2 ``select()`` statements.

A view decorated with ``@blp.paginate()`` receives ``pagination_parameters`` and hands it to the
service, which calls ``paginate(stmt, pagination_parameters)``: the total goes into
``pagination_parameters.item_count`` (flask-smorest then writes the ``X-Pagination`` header) and
only the requested page is loaded.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Select, func, select

from app.core.db import db


class PageParams(Protocol):
    page: int
    page_size: int
    item_count: int | None


MAX_OFFSET = 10**9
"""Past this many rows a page is empty anyway; the check keeps absurd page numbers out of SQL."""


def paginate(stmt: Select, params: PageParams, *, scalars: bool = True) -> list[Any]:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    params.item_count = int(total or 0)
    offset = (params.page - 1) * params.page_size
    if offset >= min(params.item_count, MAX_OFFSET):
        return []
    page = stmt.limit(params.page_size).offset(offset)
    result = db.session.execute(page)
    return list(result.scalars().all() if scalars else result.all())
