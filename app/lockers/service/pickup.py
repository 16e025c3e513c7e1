"""Collecting a parcel: a code at the keypad, opening from the mini-program (and the pickup QR), sharing with a
proxy, the counter (its waiting parcels and the hand-over)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.pagination import PageParams, paginate
from app.core.redis import get_redis
from app.devices.models import Device
from app.lockers.models import LockerCompartment, Parcel
from app.lockers.service import errors
from app.lockers.service.deposit import find_recipient
from app.lockers.service.lifecycle import (
    PARCEL,
    bank_of,
    bank_or_404,
    cancel_timers,
    is_online,
    open_door,
    parcel_machine,
)
from app.lockers.service.views import ParcelView, fee_due, mine_or_404, view
from app.lockers.states import (
    CODE_ATTEMPT_WINDOW_SECONDS,
    CODE_ATTEMPTS,
    FEE_BIZ_TYPE,
    PARCELS_PAGE,
    PICKUP_CODE_LINK,
    PROXY,
    STAFF,
    Storage,
)
from app.lockers.states import Parcel as P
from app.notifications import service as notifications
from app.payments import service as payments
from app.users import service as users
from app.wechat import codes


def pickup_by_code(*, device: Device, code: str) -> dict[str, Any]:
    """A code typed on a bank's keypad: its compartment's door opens. Wrong codes count per bank; past
    ``CODE_ATTEMPTS`` in ``CODE_ATTEMPT_WINDOW_SECONDS`` the keypad is refused (429)."""
    bank = bank_of(device)
    redis = get_redis()
    key = f"lockers:code_attempts:{bank.id}"
    if int(redis.get(key) or 0) >= CODE_ATTEMPTS:
        raise errors.TooManyAttempts(headers={"Retry-After": str(max(1, redis.ttl(key)))})
    parcel = db.session.scalar(select(Parcel).where(
        Parcel.bank_id == bank.id, Parcel.pickup_code == code, Parcel.status == str(P.STORED),
        Parcel.storage == str(Storage.LOCKER)).with_for_update())
    if parcel is None:
        attempts = redis.incr(key)
        if attempts == 1:
            redis.expire(key, CODE_ATTEMPT_WINDOW_SECONDS)
        raise errors.CodeNotFound()
    if fee_due(parcel):
        raise errors.FeeDue("lockers.fee_due", "请先在小程序中支付超期保管费，再输入取件码")
    parcel.picked_up_by = parcel.recipient_id
    unit = db.session.get(LockerCompartment, parcel.compartment_id)
    open_door(parcel, bank, unit, "pickup")
    audit.record(PARCEL, parcel.id, "open_by_code", actor_id=None, data={"compartment": unit.label})
    return {"compartment": unit.label, "parcel_id": parcel.id}


def open_for_me(*, actor: Actor, parcel_id: int) -> ParcelView:
    """The recipient (or the person it was shared with) opens the door from the mini-program — once the
    overdue fee, if any, is paid: else 409 ``lockers.fee_due`` naming the payment to check out."""
    parcel = mine_or_404(actor, parcel_id, PROXY)
    if parcel.status != P.STORED:
        raise parcel_machine.invalid(parcel.status, "pick_up")
    if parcel.storage == Storage.COUNTER:
        raise errors.AtCounter()
    bank = bank_or_404(parcel.bank_id)
    if not is_online(bank):
        raise errors.BankOffline()
    due = fee_due(parcel)
    if due:
        payment_id = payments.request_payment(
            biz_type=FEE_BIZ_TYPE, biz_id=parcel.id, amount_fen=due, description=f"快递超期保管费 {parcel.tracking_no}",
            payer=actor, expires_at=clock.now() + timedelta(minutes=10))
        raise errors.FeeDue(errors={"payment_id": payment_id, "amount_fen": due})
    parcel.picked_up_by = actor.user_id
    unit = db.session.get(LockerCompartment, parcel.compartment_id)
    open_door(parcel, bank, unit, "pickup")
    audit.record(PARCEL, parcel.id, "open_from_app", actor_id=actor.user_id,
                 data={"compartment": unit.label, "as": "proxy" if parcel.recipient_id != actor.user_id
                       else "recipient"})
    return view(parcel)


def share(*, actor: Actor, parcel_id: int, phone: str | None = None, number: str | None = None,
          name: str | None = None) -> ParcelView:
    """The recipient lets someone else collect (代取): they see the parcel and its code and may open it."""
    parcel = mine_or_404(actor, parcel_id)
    if parcel.status != P.STORED:
        raise parcel_machine.invalid(parcel.status, "pick_up")
    proxy_id = find_recipient(phone=phone, number=number, name=name)
    parcel.proxy_id = proxy_id
    db.session.flush()
    audit.record(PARCEL, parcel.id, "share", actor_id=actor.user_id, data={"proxy": proxy_id})
    notifications.notify(user_id=proxy_id, event="lockers.shared", title="有人请您代取快递",
                         body=f"取件码 {parcel.pickup_code}，运单号 {parcel.tracking_no}",
                         data={"parcel_id": parcel.id}, link=PARCELS_PAGE,
                         idempotency_key=f"lockers.shared:{parcel.id}:{proxy_id}")
    return view(parcel)


def hand_over(*, actor: Actor, code: str) -> ParcelView:
    """Station staff hand a counter parcel over against its pickup code."""
    require_roles(actor, *STAFF)
    parcel = db.session.scalar(select(Parcel).where(Parcel.pickup_code == code, Parcel.status == str(P.STORED),
                                                    Parcel.storage == str(Storage.COUNTER)).with_for_update())
    if parcel is None:
        raise errors.CodeNotFound()
    parcel_machine.fire(parcel, "pick_up", actor_id=actor.user_id, roles=actor.roles,
                        values={"picked_up_at": clock.now(), "picked_up_by": parcel.recipient_id})
    cancel_timers(parcel)
    return view(parcel)


def parcel_qr(*, actor: Actor, parcel_id: int) -> codes.Image:
    """The QR code of my waiting parcel's pickup code (the recipient or the proxy): a link carrying the code,
    scanned at the station's counter."""
    parcel = mine_or_404(actor, parcel_id, PROXY)
    if parcel.status != P.STORED or not parcel.pickup_code:
        raise errors.NoCode()
    return codes.link_qr(PICKUP_CODE_LINK.format(code=parcel.pickup_code))


def counter_parcels(*, actor: Actor, params: PageParams) -> list[dict[str, Any]]:
    """The parcels waiting on the counter's shelf, oldest first, with whose they are (station staff); never
    their pickup codes, which the recipient shows at the hand-over."""
    require_roles(actor, *STAFF)
    stmt = (select(Parcel).where(Parcel.status == str(P.STORED), Parcel.storage == str(Storage.COUNTER))
            .order_by(Parcel.stored_at, Parcel.id))
    rows = paginate(stmt, params)
    names = users.display_names({p.recipient_id for p in rows})
    return [dict(vars(view(p, show_code=False)), recipient_name=names.get(p.recipient_id, "")) for p in rows]
