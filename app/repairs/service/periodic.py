"""The periodic sweep (``jobs.sweep``, every ``REPAIRS_SWEEP_SECONDS``): the safety net behind the timers."""

from __future__ import annotations

from datetime import timedelta

from app.core import clock, timers
from app.repairs.service.deadlines import DEADLINE_TIMER
from app.repairs.service.dispatch import redispatch_queued
from app.repairs.service.photos import delete_unattached
from app.repairs.service.workflow import AUTO_CONFIRM_TIMER
from app.repairs.states import UNATTACHED_PHOTO_HOURS


def sweep(*, limit: int = 500) -> dict[str, int]:
    """The periodic safety net: fire the repairs' timers that are due and were not fired (their jobs were
    lost), retry dispatch for queued work, and delete photos nobody attached. ``escalated`` counts the
    repairs whose deadline timer escalated something, ``auto_confirmed`` the repairs confirmed; ``limit``
    bounds each part."""
    now = clock.now()
    done = timers.sweep(kinds=[DEADLINE_TIMER, AUTO_CONFIRM_TIMER], limit=limit)["done"]
    assigned = redispatch_queued(limit=limit)
    removed = delete_unattached(now - timedelta(hours=UNATTACHED_PHOTO_HOURS), limit)
    return {"escalated": done.get(DEADLINE_TIMER, 0), "auto_confirmed": done.get(AUTO_CONFIRM_TIMER, 0),
            "dispatched": assigned, "photos_deleted": removed}
