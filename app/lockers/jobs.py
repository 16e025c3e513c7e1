"""Timer handlers of the lockers: take the parcel's id, re-check it as it is now, act once."""

from __future__ import annotations

from app.lockers import service


def reminder_due(parcel_id: int) -> bool:
    """Timer ``lockers.reminder``: still waiting a day after it was stored — the recipient is reminded."""
    return service.remind(parcel_id)


def return_due(parcel_id: int) -> bool:
    """Timer ``lockers.return``: still waiting three days after — back to the sender."""
    return service.expire(parcel_id)
