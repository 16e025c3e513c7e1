"""The flask-smorest Blueprint every domain uses, with the house defaults."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint as _Blueprint
from flask_smorest.utils import resolve_schema_instance


class Blueprint(_Blueprint):
    # page/page_size query parameters; X-Pagination header (docs/architecture.md)
    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 20, "max_page_size": 100}

    def arguments(self, schema: Any, **kwargs: Any):
        """As flask-smorest's, but a schema class is instantiated once, here: webargs would build a
        new instance (and one of every nested schema, deep-copying their fields) on every request.
        Our schemas keep no per-request state, so one instance serves every request."""
        return super().arguments(resolve_schema_instance(schema), **kwargs)
