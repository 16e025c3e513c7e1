"""Extension objects, created unbound and initialised in ``create_app``.

The flask-smorest ``Api`` is made per application in ``create_app`` (it holds that app's OpenAPI
spec), so that tests can build several apps side by side.
"""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api as _Api

from app.core.db import db
from app.core.errors import ErrorSchema, register_error_handlers


class Api(_Api):
    """flask-smorest Api whose errors use our envelope (``error_code`` + Chinese ``message``)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        register_error_handlers(self._app)


migrate = Migrate(compare_type=True)
limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="moving-window")

__all__ = ["Api", "db", "migrate", "limiter"]


def get_api(app) -> Api:
    """The flask-smorest Api of ``app``."""
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
