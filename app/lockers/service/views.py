"""A parcel as its recipient sees it (with the overdue fee due now), who may see one, my parcels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from app.core import clock
from app.core.auth import Actor
from app.core.db import db
from app.lockers.models import LockerBank, LockerCompartment, Parcel
from app.lockers.service import errors
from app.lockers.states import (
    PARCEL_LABELS,
    PROXY,
    RECIPIENT,
    Storage,
    overdue_fee,
)
from app.lockers.states import Parcel as P
from app.places import service as places


@dataclass(frozen=True)
class ParcelView:
    id: int
    tracking_no: str
    status: str
    status_label: str
    storage: str
    bank_id: int
    bank_name: str
    place_name: str
    compartment: str | None
    shelf_code: str | None
    size: str
    pickup_code: str | None
    shared_with: int | None
    stored_at: Any
    picked_up_at: Any
    fee_due_fen: int


def fee_due(parcel: Parcel) -> int:
    """What is still to pay of the overdue fee now (fen)."""
    if parcel.stored_at is None or parcel.storage != Storage.LOCKER:
        return 0
    return max(0, overdue_fee(parcel.stored_at, clock.now()) - (parcel.fee_paid_fen or 0))


def view(parcel: Parcel, *, show_code: bool = True) -> ParcelView:
    """``show_code``: the recipient's (or proxy's) view, with the pickup code and the fee due; the courier's
    and the station's views have neither."""
    bank = db.session.get(LockerBank, parcel.bank_id)
    compartment = db.session.get(LockerCompartment, parcel.compartment_id) if parcel.compartment_id else None
    return ParcelView(
        id=parcel.id, tracking_no=parcel.tracking_no, status=parcel.status,
        status_label=PARCEL_LABELS.statuses.get(parcel.status, parcel.status), storage=parcel.storage,
        bank_id=bank.id, bank_name=bank.name, place_name=places.view(places.get_place(bank.place_id)).full_name,
        compartment=compartment.label if compartment and parcel.storage == Storage.LOCKER else None,
        shelf_code=parcel.shelf_code, size=parcel.size,
        pickup_code=parcel.pickup_code if show_code and parcel.status == P.STORED else None,
        shared_with=parcel.proxy_id, stored_at=parcel.stored_at, picked_up_at=parcel.picked_up_at,
        fee_due_fen=fee_due(parcel) if show_code and parcel.status == P.STORED else 0)


def roles_on(actor: Actor, parcel: Parcel) -> set[str]:
    roles = set(actor.roles)
    if parcel.recipient_id == actor.user_id:
        roles.add(RECIPIENT)
    if parcel.proxy_id == actor.user_id:
        roles.add(PROXY)
    return roles


def mine_or_404(actor: Actor, parcel_id: int, *roles: str) -> Parcel:
    """The parcel, if the actor is its recipient (or one of ``roles``); else 404, never its data."""
    parcel = db.session.get(Parcel, parcel_id, with_for_update=True)
    if parcel is None or not roles_on(actor, parcel).intersection({RECIPIENT, *roles}):
        raise errors.ParcelNotFound()
    return parcel


def my_parcels(*, actor: Actor) -> list[ParcelView]:
    """The actor's parcels and those shared with them, newest first."""
    rows = db.session.scalars(select(Parcel).where(or_(Parcel.recipient_id == actor.user_id,
                                                       Parcel.proxy_id == actor.user_id)).order_by(Parcel.id.desc())
                              .limit(100))
    return [view(p) for p in rows]
