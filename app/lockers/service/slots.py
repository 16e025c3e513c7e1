"""Pickup time slots (peak days): the message telling a recipient their parcel is in suggests the coming
half-hour slot of the pickup hours where the fewest parcels are already suggested, to spread the evening
wave (everyone collecting at 21:00 after their last class).

The rule, on ``app.core.clock`` in the school's zone:

* the pickup hours are the setting ``LOCKERS_PICKUP_SLOTS`` (``"11:30-13:30,17:00-22:00"``: windows cut
  into half-hour slots); empty, or unreadable, means no suggestion;
* the candidates are today's slots that have not started yet, or — none left today — tomorrow's;
* a slot's load is the number of parcels still waiting (``stored``) whose message suggested it;
* the least-loaded candidate wins, the earliest on a tie (a parcel is best collected soon).

Two parcels stored at the same instant may be suggested the same slot (no lock: a suggestion is advice,
and the next one sees both). The slot is kept on the parcel (``pickup_slot_at``) so the next suggestions
count it and the capacity view expects its compartment to be released then (``service.peak``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.core import clock
from app.core.db import db
from app.lockers.models import Parcel
from app.lockers.states import Parcel as P

SLOT = timedelta(minutes=30)


def pickup_windows(spec: str) -> list[tuple[time, time]]:
    """``"11:30-13:30,17:00-22:00"`` → the windows; anything unreadable → none (no suggestion)."""
    windows = []
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        try:
            start, end = (time.fromisoformat(t.strip()) for t in part.split("-"))
        except ValueError:
            return []
        if end <= start:
            return []
        windows.append((start, end))
    return windows


def slots_of_day(windows: list[tuple[time, time]], day_start: datetime) -> list[datetime]:
    """The half-hour slot starts of a day (``day_start``: local midnight, aware) within the windows."""
    starts = []
    for start, end in windows:
        at = day_start.replace(hour=start.hour, minute=start.minute)
        last = day_start.replace(hour=end.hour, minute=end.minute)
        while at + SLOT <= last:
            starts.append(at)
            at += SLOT
    return sorted(set(starts))


def candidates(windows: list[tuple[time, time]], now: datetime) -> list[datetime]:
    """Today's slots not started yet at ``now`` (local, aware), else tomorrow's."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    ahead = [s for s in slots_of_day(windows, today) if s >= now]
    return ahead or slots_of_day(windows, today + timedelta(days=1))


def least_loaded(slots: list[datetime], load: Mapping[datetime, int]) -> datetime | None:
    """The slot with the fewest parcels, the earliest on a tie."""
    return min(slots, key=lambda s: (load.get(s, 0), s), default=None)


def suggest() -> datetime | None:
    """The slot to suggest now (its start, UTC-aware), or None when the pickup hours are not set."""
    windows = pickup_windows(current_app.config.get("LOCKERS_PICKUP_SLOTS", ""))
    slots = candidates(windows, clock.local_now())
    if not slots:
        return None
    rows = db.session.execute(select(Parcel.pickup_slot_at, func.count()).where(
        Parcel.status == str(P.STORED), Parcel.pickup_slot_at.in_(slots)).group_by(Parcel.pickup_slot_at)).all()
    load = {clock.to_local(at): n for at, n in rows}
    return least_loaded(slots, load)


def phrase(slot: datetime) -> str:
    """``建议 19:30–20:00 取件，此时段人少`` (``明天`` when the slot is tomorrow)."""
    local, today = clock.to_local(slot), clock.local_now().date()
    day = "" if local.date() == today else "明天 " if local.date() == today + timedelta(days=1) else \
        f"{local.month}月{local.day}日 "
    return f"建议 {day}{local:%H:%M}–{local + SLOT:%H:%M} 取件，此时段人少"
