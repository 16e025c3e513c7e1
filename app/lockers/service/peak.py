"""Peak days: how many compartments are expected to become free in each coming hour (the console's
capacity chart, beside the free compartments by size and the parcels waiting).

The rule, kept simple on purpose (an estimate to plan by, not a promise), for each parcel ``stored`` in a
compartment:

1. it is expected at the **start of the pickup slot its message suggested** (``service.slots``), or —
   no slot suggested — ``TYPICAL_PICKUP_AFTER`` (4 h) **after it was stored**;
2. if that time has already passed (the recipient is late), it is expected when it is **returned to the
   sender** (stored + 3 days: the code stops working, the courier takes it back), if that falls within
   the horizon; otherwise it is not counted (nobody can say when a late recipient comes).

Hours run from the current school-time hour, ``RELEASE_HORIZON_HOURS`` (12) of them. Parcels on the
counter's shelf hold no compartment and ``to_return`` parcels wait for their courier: neither counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.lockers.models import Parcel
from app.lockers.states import RELEASE_HORIZON_HOURS, RETURN_AFTER, STAFF, TYPICAL_PICKUP_AFTER, Storage
from app.lockers.states import Parcel as P

HOUR = timedelta(hours=1)


def expected_at(*, stored_at: datetime, pickup_slot_at: datetime | None, hour_start: datetime) -> datetime | None:
    """When one stored parcel's compartment is expected to be free (the rule above), or None."""
    expected = pickup_slot_at or stored_at + TYPICAL_PICKUP_AFTER
    if expected >= hour_start:
        return expected
    returned = stored_at + RETURN_AFTER
    return returned if returned >= hour_start else None


def expected_releases(*, actor: Actor, bank_id: int | None = None) -> dict[str, Any]:
    """``{"hours": ["10:00", …], "releases": [n, …]}``: compartments expected to become free in each hour
    from the current one (school time), of one bank or all."""
    require_roles(actor, *STAFF)
    hour_start = clock.local_now().replace(minute=0, second=0, microsecond=0)
    starts = [hour_start + i * HOUR for i in range(RELEASE_HORIZON_HOURS)]
    end = starts[-1] + HOUR
    stmt = select(Parcel.stored_at, Parcel.pickup_slot_at).where(
        Parcel.status == str(P.STORED), Parcel.storage == str(Storage.LOCKER), Parcel.stored_at.is_not(None))
    if bank_id is not None:
        stmt = stmt.where(Parcel.bank_id == bank_id)
    releases = [0] * RELEASE_HORIZON_HOURS
    for stored_at, slot in db.session.execute(stmt):
        at = expected_at(stored_at=stored_at, pickup_slot_at=slot, hour_start=hour_start)
        if at is not None and at < end:
            releases[int((at - hour_start) // HOUR)] += 1
    return {"hours": [f"{s:%H}:00" for s in starts], "releases": releases}
