"""The flask-smorest Blueprint every domain uses, with the house defaults."""

from __future__ import annotations

from flask_smorest import Blueprint as _Blueprint


class Blueprint(_Blueprint):
    # page/page_size query parameters; X-Pagination header (DESIGN.md §5)
    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 20, "max_page_size": 100}
