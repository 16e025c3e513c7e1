"""Reminders after a day, return to sender after three (the timers' use cases), the parcels a courier has to
take back and taking one back."""

from __future__ import annotations

from sqlalchemy import select

from app.core import audit, clock, timers
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.pagination import PageParams, paginate
from app.lockers.models import LockerBank, LockerCompartment, Parcel
from app.lockers.service import errors
from app.lockers.service.lifecycle import PARCEL, bank_or_404, is_online, open_door, parcel_machine
from app.lockers.service.views import ParcelView, view
from app.lockers.states import (
    DEPOSITORS,
    PARCELS_PAGE,
    REMINDER_TIMER,
    STAFF,
    SYSTEM,
    Storage,
)
from app.lockers.states import Parcel as P
from app.notifications import service as notifications


def remind(parcel_id: int) -> bool:
    """Timer ``lockers.reminder``: a parcel still waiting a day after it was stored — remind, once."""
    parcel = db.session.get(Parcel, parcel_id, with_for_update=True)
    if parcel is None or parcel.status != P.STORED or parcel.reminded_at is not None:
        return False
    parcel.reminded_at = clock.now()
    db.session.flush()
    bank = db.session.get(LockerBank, parcel.bank_id)
    for user_id in {parcel.recipient_id, parcel.proxy_id} - {None}:
        notifications.notify(user_id=user_id, event="lockers.reminder", title="快递已到 24 小时，请尽快取件",
                             body=f"取件码 {parcel.pickup_code}，{bank.name}。超过 3 天未取将退回寄件方。",
                             data={"parcel_id": parcel.id}, link=PARCELS_PAGE,
                             idempotency_key=f"lockers.reminder:{parcel.id}:{user_id}")
    audit.record(PARCEL, parcel.id, "remind", actor_id=None)
    return True


def expire(parcel_id: int) -> bool:
    """Timer ``lockers.return``: a parcel uncollected three days after it was stored goes back to the sender:
    its code stops working (``to_return``), the courier who deposited it and the recipient are told."""
    parcel = db.session.get(Parcel, parcel_id, with_for_update=True)
    if parcel is None or parcel.status != P.STORED:
        return False
    parcel_machine.fire(parcel, "expire", actor_id=None, roles={SYSTEM}, repeat=True)
    timers.cancel(REMINDER_TIMER, parcel.id)
    where = view(parcel)
    spot = where.compartment and f"{where.bank_name} {where.compartment} 格口" or f"驿站货架 {parcel.shelf_code}"
    notifications.notify(user_id=parcel.courier_id, event="lockers.to_return", title="快递超时未取，请取回退件",
                         body=f"运单号 {parcel.tracking_no}，{spot}", data={"parcel_id": parcel.id},
                         idempotency_key=f"lockers.to_return:{parcel.id}")
    notifications.notify(user_id=parcel.recipient_id, event="lockers.returned", title="快递超时未取，已安排退回",
                         body=f"运单号 {parcel.tracking_no} 超过 3 天未取，将退回寄件方。",
                         data={"parcel_id": parcel.id}, idempotency_key=f"lockers.returned:{parcel.id}")
    return True


def collect_return(*, actor: Actor, parcel_id: int) -> ParcelView:
    """The courier who deposited it (or station staff) takes a parcel to return: its door opens (``returned``
    when it does), or a counter parcel is handed over at once."""
    require_roles(actor, *DEPOSITORS)
    parcel = db.session.get(Parcel, parcel_id, with_for_update=True)
    if parcel is None or not (parcel.courier_id == actor.user_id or actor.has_any(*STAFF)):
        raise errors.ParcelNotFound()
    if parcel.status != P.TO_RETURN:
        raise parcel_machine.invalid(parcel.status, "return")
    parcel.picked_up_by = actor.user_id
    if parcel.storage == Storage.COUNTER:
        parcel_machine.fire(parcel, "return", actor_id=actor.user_id, roles=actor.roles,
                            values={"returned_at": clock.now()})
        return view(parcel)
    bank = bank_or_404(parcel.bank_id)
    if not is_online(bank):
        raise errors.BankOffline()
    unit = db.session.get(LockerCompartment, parcel.compartment_id)
    open_door(parcel, bank, unit, "return")
    return view(parcel)


def to_return(*, actor: Actor, params: PageParams) -> list[ParcelView]:
    """The parcels to take back, oldest first: a courier's own deposits, every one for station staff."""
    require_roles(actor, *DEPOSITORS)
    stmt = select(Parcel).where(Parcel.status == str(P.TO_RETURN))
    if not actor.has_any(*STAFF):
        stmt = stmt.where(Parcel.courier_id == actor.user_id)
    return [view(p, show_code=False) for p in paginate(stmt.order_by(Parcel.stored_at, Parcel.id), params)]
