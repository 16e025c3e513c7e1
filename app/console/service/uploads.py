"""An uploaded sheet kept between its dry run and 确认开单: the console checks a file first (every bad row
listed, nothing written), then writes it on confirmation without asking for the file again. The bytes
wait in Redis for ``SHEET_SECONDS`` under a random token bound to the person who uploaded it."""

from __future__ import annotations

import secrets

from app.core.auth import Actor
from app.core.errors import NotFound
from app.core.redis import get_redis

SHEET_SECONDS = 15 * 60
_KEY = "console:sheet:"


class SheetExpired(NotFound):
    error_code, message = "console.sheet_expired", "上传的表格已过期，请重新上传并预览"


def keep_sheet(*, actor: Actor, purpose: str, data: bytes) -> str:
    """Keep ``data`` for ``purpose`` (e.g. ``fees.issue:12``); the token to take it back with."""
    token = secrets.token_urlsafe(24)
    get_redis().set(f"{_KEY}{actor.user_id}:{purpose}:{token}", data, ex=SHEET_SECONDS)
    return token


def sheet(*, actor: Actor, purpose: str, token: str) -> bytes:
    """The sheet kept by this person for this purpose (404 ``console.sheet_expired`` when gone)."""
    data = get_redis().get(f"{_KEY}{actor.user_id}:{purpose}:{token}")
    if data is None:
        raise SheetExpired()
    return data


def drop_sheet(*, actor: Actor, purpose: str, token: str) -> None:
    get_redis().delete(f"{_KEY}{actor.user_id}:{purpose}:{token}")
