"""Extension objects, created unbound and initialised in ``create_app``.

The flask-smorest ``Api`` is made per application in ``create_app`` (it holds that app's OpenAPI
spec), so that tests can build several apps side by side.
"""

from __future__ import annotations

from flask_limiter import Limiter as _Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api as _Api

from app.core.db import db
from app.core.errors import ErrorSchema, register_error_handlers
from app.core.ratelimit import storable


class Api(_Api):
    """flask-smorest Api whose errors use our envelope (``error_code`` + Chinese ``message``)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        register_error_handlers(self._app)


class Limiter(_Limiter):
    """Flask-Limiter whose key functions never raise nor make a key Redis cannot store
    (``app.core.ratelimit.storable``): Flask-Limiter would take either for its storage being down."""

    def limit(self, limit_value, *, key_func=None, **kwargs):
        return super().limit(limit_value, key_func=storable(key_func) if key_func else None, **kwargs)

    def shared_limit(self, limit_value, scope, *, key_func=None, **kwargs):
        return super().shared_limit(limit_value, scope, key_func=storable(key_func) if key_func else None, **kwargs)


migrate = Migrate(compare_type=True)
# When its Redis is unreachable the limiter counts in the process (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED in
# app.config): docs/architecture.md, "When Redis is down".
limiter = Limiter(key_func=storable(get_remote_address), default_limits=[], strategy="moving-window")

__all__ = ["Api", "db", "migrate", "limiter"]


def get_api(app) -> Api:
    """The flask-smorest Api of ``app``."""
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
