"""Rate-limit keys (Flask-Limiter key functions) every domain uses.

The limiter itself is ``app.extensions.limiter``; with its Redis unreachable it counts in the process
instead (docs/architecture.md, "When Redis is down"). Flask-Limiter takes *any* error while it checks a
limit — a key function that raises included — for its storage being down, so a key function here never
raises and never returns a key Redis cannot store.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from flask import request
from flask_limiter.util import get_remote_address

from app.core.auth import decode_access_token
from app.core.errors import AppError

log = logging.getLogger(__name__)

KeyFunc = Callable[[], str]


def per_user() -> str:
    """The user of the request's access token (checked, without a query), else the client address.

    Per user rather than per login session: logging in again does not reset the count; per user rather
    than per address: a whole school shares one NAT address."""
    _scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if token.strip():
        try:
            return "user:" + decode_access_token(token.strip())["sub"]
        except AppError:
            pass
    return "ip:" + (get_remote_address() or "")


def storable(key_func: KeyFunc) -> KeyFunc:
    """``key_func``, made safe for the limiter: a key with a character UTF-8 cannot encode (a lone surrogate
    taken from a JSON body) is escaped, and a failing key function counts per client address, logged."""

    @functools.wraps(key_func)
    def key() -> str:
        try:
            value = str(key_func())
        except Exception:
            log.exception("rate-limit key function failed; counting per address")
            return "ip:" + (get_remote_address() or "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value

    return key
