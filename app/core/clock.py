"""The one clock of the application.

Every business rule asks this module for the time, never ``datetime.now()`` directly, so tests move
time in one place (``time-machine`` patches the calls below) and stored times are always UTC-aware.
School rules (cut-offs, quiet hours, working days) use ``local_now()`` in the school's zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Shanghai"


def now() -> datetime:
    """Current time, UTC-aware."""
    return datetime.now(UTC)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def school_zone() -> ZoneInfo:
    name = current_app.config.get("SCHOOL_TIMEZONE", DEFAULT_ZONE) if has_app_context() else DEFAULT_ZONE
    return _zone(name)


def local_now() -> datetime:
    """Current time in the school's zone."""
    return now().astimezone(school_zone())


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: store and compare UTC-aware times only")
    return value.astimezone(school_zone())
