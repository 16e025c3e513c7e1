"""Lockers: banks and their compartments, the capacity view, a courier's deposit, the controller's door
events, pickup by code at the locker or from the mini-program, sharing a parcel with a proxy. Keyword-only
functions taking the actor; they flush, never commit (the entry point owns the transaction).

**Compartments are units** of ``app.core.allocation``: ``take_unit`` (``SELECT … FOR UPDATE SKIP
LOCKED``) holds one free compartment of the size for the parcel (``holder_key = parcel:<id>``), so two
couriers never get the same one; ``release_unit`` frees it when the door closes after the pickup.

**Doors**: opening is asked of the bank's controller (``app.devices``) inside the transaction; its door
events arrive later, signed, naming the transaction (``Parcel.door_txn``). An event for a transaction
not committed yet answers 409 and the controller sends it again. ``failed`` takes the compartment out
of service, opens a repair report (repairs' 快递柜 category, at the bank's place, on behalf of the person
at the door) and, for a deposit, holds another compartment and opens it — or, none left, puts the parcel
on the counter (驿站). Every door event is audited on the compartment.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app.core import audit, clock, timers
from app.core.allocation import release_unit, take_unit
from app.core.audit import AuditEvent
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.redis import get_redis
from app.core.statemachine import StateMachine
from app.devices import service as devices
from app.devices.client import LockerController
from app.devices.errors import DeviceOffline, DeviceRefused
from app.devices.models import Device
from app.lockers import errors
from app.lockers.models import LockerBank, LockerCompartment, Parcel
from app.lockers.states import (
    CODE_ATTEMPT_WINDOW_SECONDS,
    CODE_ATTEMPTS,
    COMPARTMENT_LABELS,
    COMPARTMENT_TRANSITIONS,
    DEPOSITORS,
    FEE_BIZ_TYPE,
    OPEN_PARCELS,
    PARCEL_LABELS,
    PARCEL_TRANSITIONS,
    PICKUP_CODE_DIGITS,
    PROXY,
    RECIPIENT,
    REMIND_AFTER,
    REMINDER_TIMER,
    REPAIR_CATEGORY,
    RETURN_AFTER,
    RETURN_TIMER,
    STAFF,
    SYSTEM,
    Size,
    Storage,
    overdue_fee,
)
from app.lockers.states import Compartment as C
from app.lockers.states import Parcel as P
from app.notifications import service as notifications
from app.payments import service as payments
from app.places import service as places
from app.repairs import service as repairs
from app.users import service as users

log = logging.getLogger(__name__)

DEVICE_KIND = "locker"
COMPARTMENT, PARCEL = "locker_compartment", "parcel"
compartment_machine = StateMachine(LockerCompartment, COMPARTMENT_TRANSITIONS, entity=COMPARTMENT,
                                   labels=COMPARTMENT_LABELS)
parcel_machine = StateMachine(Parcel, PARCEL_TRANSITIONS, entity=PARCEL, labels=PARCEL_LABELS)


# --- banks ------------------------------------------------------------------------------------------------


def create_bank(*, actor: Actor | None, code: str, name: str, place_id: int, device_code: str, secret: str,
                base_url: str, compartments: list[tuple[str, str]]) -> LockerBank:
    """A bank at a place with its controller (registered as a device) and its compartments
    (``[(label, size)]``). ``actor`` None: the seed."""
    if actor is not None:
        require_roles(actor, *STAFF)
    places.get_place(place_id)
    device = devices.register(code=device_code, kind=DEVICE_KIND, secret=secret, base_url=base_url, name=name)
    bank = LockerBank(code=code, name=name, place_id=place_id, device_id=device.id)
    db.session.add(bank)
    db.session.flush()
    for label, size in compartments:
        db.session.add(LockerCompartment(bank_id=bank.id, label=label, size=str(Size(size)), status=str(C.FREE)))
    db.session.flush()
    audit.record("locker_bank", bank.id, "create", actor_id=actor.user_id if actor else None,
                 data={"compartments": len(compartments), "device": device_code})
    return bank


def _bank(bank_id: int) -> LockerBank:
    bank = db.session.get(LockerBank, bank_id)
    if bank is None:
        raise errors.BankNotFound()
    return bank


def _online(bank: LockerBank) -> bool:
    return devices.online([bank.device_id]).get(bank.device_id, False)


def capacity(*, actor: Actor) -> list[dict[str, Any]]:
    """Per bank: free compartments by size, out of service, parcels waiting, online or not."""
    require_roles(actor, *DEPOSITORS)
    banks = list(db.session.scalars(select(LockerBank).order_by(LockerBank.id)))
    online = devices.online([b.device_id for b in banks])
    counts = db.session.execute(select(LockerCompartment.bank_id, LockerCompartment.size, LockerCompartment.status,
                                       func.count()).group_by(LockerCompartment.bank_id, LockerCompartment.size,
                                                              LockerCompartment.status)).all()
    waiting = dict(db.session.execute(select(Parcel.bank_id, func.count()).where(Parcel.status == str(P.STORED))
                                      .group_by(Parcel.bank_id)).all())
    out = []
    for bank in banks:
        free = {size.value: 0 for size in Size}
        broken = 0
        for bank_id, size, status, n in counts:
            if bank_id != bank.id:
                continue
            if status == C.FREE:
                free[size] += n
            elif status == C.OUT_OF_SERVICE:
                broken += n
        out.append({"id": bank.id, "code": bank.code, "name": bank.name, "place_id": bank.place_id,
                    "place_name": places.view(places.get_place(bank.place_id)).full_name,
                    "online": online.get(bank.device_id, False), "free": free, "out_of_service": broken,
                    "parcels_waiting": waiting.get(bank.id, 0)})
    return out


# --- views -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParcelView:
    id: int
    tracking_no: str
    status: str
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


def view(parcel: Parcel, *, show_code: bool = True) -> ParcelView:
    bank = db.session.get(LockerBank, parcel.bank_id)
    compartment = db.session.get(LockerCompartment, parcel.compartment_id) if parcel.compartment_id else None
    return ParcelView(
        id=parcel.id, tracking_no=parcel.tracking_no, status=parcel.status, storage=parcel.storage,
        bank_id=bank.id, bank_name=bank.name, place_name=places.view(places.get_place(bank.place_id)).full_name,
        compartment=compartment.label if compartment and parcel.storage == Storage.LOCKER else None,
        shelf_code=parcel.shelf_code, size=parcel.size,
        pickup_code=parcel.pickup_code if show_code and parcel.status == P.STORED else None,
        shared_with=parcel.proxy_id, stored_at=parcel.stored_at, picked_up_at=parcel.picked_up_at)


def _roles_on(actor: Actor, parcel: Parcel) -> set[str]:
    roles = set(actor.roles)
    if parcel.recipient_id == actor.user_id:
        roles.add(RECIPIENT)
    if parcel.proxy_id == actor.user_id:
        roles.add(PROXY)
    return roles


def _mine(actor: Actor, parcel_id: int, *roles: str) -> Parcel:
    """The parcel, if the actor is its recipient (or one of ``roles``); else 404, never its data."""
    parcel = db.session.get(Parcel, parcel_id, with_for_update=True)
    if parcel is None or not _roles_on(actor, parcel).intersection({RECIPIENT, *roles}):
        raise errors.ParcelNotFound()
    return parcel


def my_parcels(*, actor: Actor) -> list[ParcelView]:
    """The actor's parcels and those shared with them, newest first."""
    rows = db.session.scalars(select(Parcel).where(or_(Parcel.recipient_id == actor.user_id,
                                                       Parcel.proxy_id == actor.user_id)).order_by(Parcel.id.desc())
                              .limit(100))
    return [view(p) for p in rows]


# --- deposit ---------------------------------------------------------------------------------------------


def find_recipient(*, phone: str | None = None, number: str | None = None, name: str | None = None) -> int:
    found = users.find_user_ids(phone=phone, number=number, name=name)
    if not found:
        raise errors.RecipientNotFound(errors={"recipient": ["找不到收件人"]})
    if len(found) > 1:
        raise errors.RecipientAmbiguous()
    return found[0]


def deposit(*, actor: Actor, bank_id: int, tracking_no: str, size: str, phone: str | None = None,
            number: str | None = None, name: str | None = None) -> ParcelView:
    """A courier deposits a parcel: a compartment of the size is held and its door opened (the parcel is
    ``stored`` when the controller reports the door closed); a full bank puts it on the counter's shelf."""
    require_roles(actor, *DEPOSITORS)
    recipient_id = find_recipient(phone=phone, number=number, name=name)
    bank = _bank(bank_id)
    if not _online(bank):
        raise errors.BankOffline()
    if db.session.scalar(select(Parcel.id).where(Parcel.tracking_no == tracking_no,
                                                 Parcel.status.in_([str(s) for s in OPEN_PARCELS]))):
        raise errors.DuplicateTrackingNo()
    parcel = Parcel(tracking_no=tracking_no, bank_id=bank.id, size=str(Size(size)), storage=str(Storage.LOCKER),
                    status=str(P.DEPOSITING), recipient_id=recipient_id, courier_id=actor.user_id)
    db.session.add(parcel)
    db.session.flush()
    audit.record(PARCEL, parcel.id, "deposit", actor_id=actor.user_id,
                 data={"bank": bank.id, "tracking_no": tracking_no, "size": parcel.size})
    if not _hold_and_open(parcel, bank, actor_id=actor.user_id):
        _to_counter(parcel, actor_id=actor.user_id)
    return view(parcel, show_code=False)


def _key(parcel: Parcel) -> str:
    return f"parcel:{parcel.id}"


def _hold_and_open(parcel: Parcel, bank: LockerBank, *, actor_id: int | None) -> bool:
    """Hold a free compartment of the parcel's size and open its door: False when none is free."""
    compartment_id = take_unit(LockerCompartment, LockerCompartment.bank_id == bank.id,
                               LockerCompartment.size == parcel.size, LockerCompartment.status == str(C.FREE),
                               key=_key(parcel))
    if compartment_id is None:
        return False
    compartment = db.session.get(LockerCompartment, compartment_id)
    compartment_machine.fire(compartment, "reserve", actor_id=actor_id, roles={SYSTEM}, data={"parcel": parcel.id})
    parcel.compartment_id = compartment.id
    _open(parcel, bank, compartment, "deposit")
    return True


def _open(parcel: Parcel, bank: LockerBank, compartment: LockerCompartment, purpose: str) -> None:
    """Ask the bank's controller to open the compartment's door for a new transaction of the parcel."""
    parcel.door_attempts = (parcel.door_attempts or 0) + 1
    parcel.door_txn = f"{purpose}-{parcel.id}-{parcel.door_attempts}-{secrets.token_hex(4)}"
    parcel.door_purpose = purpose
    db.session.flush()
    audit.record(COMPARTMENT, compartment.id, "door_open_requested", actor_id=None,
                 data={"parcel": parcel.id, "txn_id": parcel.door_txn, "purpose": purpose})
    device = devices.get(bank.device_id)
    LockerController(devices.client(device)).open(compartment.label, parcel.door_txn)


def _to_counter(parcel: Parcel, *, actor_id: int | None) -> None:
    """No compartment: the parcel goes on the counter's shelf (驿站) and is stored at once."""
    parcel.storage, parcel.compartment_id = str(Storage.COUNTER), None
    parcel.shelf_code = f"H{parcel.id:05d}"
    db.session.flush()
    _store(parcel, actor_id=actor_id)


def _new_code() -> str:
    return f"{secrets.randbelow(10 ** PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"


def _store(parcel: Parcel, *, actor_id: int | None) -> None:
    """The parcel is in (a compartment or the shelf): a pickup code no other stored parcel holds (the
    partial unique index decides a race: the loser draws again) and the recipient is told."""
    for _attempt in range(20):
        code = _new_code()
        if db.session.scalar(select(Parcel.id).where(Parcel.pickup_code == code, Parcel.status == str(P.STORED))):
            continue
        try:
            with db.session.begin_nested():
                parcel_machine.fire(parcel, "store", actor_id=actor_id, roles={SYSTEM},
                                    values={"pickup_code": code, "stored_at": clock.now()},
                                    data={"storage": parcel.storage})
            break
        except IntegrityError:
            db.session.expire(parcel)
            continue
    else:  # pragma: no cover - a million codes and twenty draws
        raise RuntimeError("no free pickup code")
    bank = db.session.get(LockerBank, parcel.bank_id)
    place = places.view(places.get_place(bank.place_id)).full_name
    where = (f"{bank.name}（{place}）" if parcel.storage == Storage.LOCKER
             else f"驿站货架 {parcel.shelf_code}（{place}）")
    body = f"取件码 {parcel.pickup_code}，请到 {where} 取件。运单号 {parcel.tracking_no}"
    timers.schedule(REMINDER_TIMER, parcel.id, parcel.stored_at + REMIND_AFTER)
    timers.schedule(RETURN_TIMER, parcel.id, parcel.stored_at + RETURN_AFTER)
    for user_id in {parcel.recipient_id, parcel.proxy_id} - {None}:
        notifications.notify(user_id=user_id, event="lockers.stored", title="您有快递待取", body=body,
                             data={"parcel_id": parcel.id, "pickup_code": parcel.pickup_code},
                             link="pages/lockers/lockers",
                             idempotency_key=f"lockers.stored:{parcel.id}:{parcel.pickup_code}:{user_id}")


# --- door events ------------------------------------------------------------------------------------------


def authenticate(*, method: str, path: str, headers: dict[str, str], body: bytes) -> Device:
    return devices.authenticate(method=method, path=path, headers=headers, body=body, kind=DEVICE_KIND)


def heartbeat(*, device: Device) -> None:
    devices.heartbeat(device)


def _bank_of(device: Device) -> LockerBank:
    bank = db.session.scalar(select(LockerBank).where(LockerBank.device_id == device.id))
    if bank is None:
        raise errors.BankNotFound()
    return bank


def door_event(*, device: Device, event: str, compartment: str, txn_id: str, code: str | None = None) -> dict:
    """A door event from a bank's controller. ``{"handled": …}``: False for an event of an earlier
    transaction of the parcel (acknowledged, nothing changes); 409 ``lockers.unknown_txn`` for one not
    committed yet (the controller sends it again)."""
    bank = _bank_of(device)
    unit = db.session.scalar(select(LockerCompartment).where(LockerCompartment.bank_id == bank.id,
                                                             LockerCompartment.label == compartment))
    parcel_id = _parcel_id(txn_id)
    parcel = db.session.get(Parcel, parcel_id, with_for_update=True) if parcel_id else None
    if unit is None or parcel is None or parcel.bank_id != bank.id:
        raise errors.UnknownTxn()
    audit.record(COMPARTMENT, unit.id, f"door_{event}", actor_id=None,
                 data={"parcel": parcel.id, "txn_id": txn_id, **({"code": code} if code else {})})
    if parcel.door_txn != txn_id or parcel.compartment_id != unit.id:
        return {"handled": False}
    purpose = parcel.door_purpose
    if purpose == "deposit":
        _deposit_event(parcel, bank, unit, event, code)
    else:  # pickup | return: someone takes the parcel out
        _pickup_event(parcel, bank, unit, event, code)
    return {"handled": True}


def _parcel_id(txn_id: str) -> int | None:
    parts = txn_id.split("-")
    return int(parts[1]) if len(parts) == 4 and parts[1].isdigit() and len(parts[1]) < 18 else None


def _deposit_event(parcel: Parcel, bank: LockerBank, unit: LockerCompartment, event: str, code: str | None) -> None:
    if event == "opened":
        return
    if event == "closed":
        if parcel.status == P.DEPOSITING:
            compartment_machine.fire(unit, "fill", actor_id=None, roles={SYSTEM}, repeat=True,
                                     data={"parcel": parcel.id})
            _store(parcel, actor_id=None)
        return
    # failed: this compartment is out of service; another one, or the counter
    release_unit(LockerCompartment, _key(parcel))
    _fail(unit, bank, reporter_id=parcel.courier_id, code=code)
    try:
        if _hold_and_open(parcel, bank, actor_id=None):
            return
    except (DeviceOffline, DeviceRefused):
        release_unit(LockerCompartment, _key(parcel))
        held = db.session.get(LockerCompartment, parcel.compartment_id)
        db.session.refresh(held)
        if held.status == C.RESERVED:
            compartment_machine.fire(held, "release", actor_id=None, roles={SYSTEM}, data={"code": "offline"})
    _to_counter(parcel, actor_id=None)


def _fail(unit: LockerCompartment, bank: LockerBank, *, reporter_id: int, code: str | None) -> None:
    db.session.refresh(unit)
    compartment_machine.fire(unit, "fail", actor_id=None, roles={SYSTEM}, repeat=True, data={"code": code})
    repair_id = repairs.report_device_fault(
        reporter_id=reporter_id, category_code=REPAIR_CATEGORY, place_id=bank.place_id,
        description=f"快递柜 {bank.name} 的 {unit.label} 格口柜门故障（{code or '未知'}），已自动停用。")
    audit.record(COMPARTMENT, unit.id, "repair_reported", actor_id=None, data={"repair": repair_id, "code": code})


def _pickup_event(parcel: Parcel, bank: LockerBank, unit: LockerCompartment, event: str, code: str | None) -> None:
    if event == "opened":
        if parcel.door_purpose == "return" and parcel.status == P.TO_RETURN:
            parcel_machine.fire(parcel, "return", actor_id=parcel.picked_up_by, roles={SYSTEM}, repeat=True,
                                values={"returned_at": clock.now()})
        elif parcel.door_purpose == "pickup" and parcel.status == P.STORED:
            parcel_machine.fire(parcel, "pick_up", actor_id=parcel.picked_up_by, roles={SYSTEM}, repeat=True,
                                values={"picked_up_at": clock.now()})
            _cancel_timers(parcel)
        return
    if event == "closed":
        if unit.status == C.OCCUPIED and parcel.status in (P.PICKED_UP, P.RETURNED):
            release_unit(LockerCompartment, _key(parcel))
            db.session.refresh(unit)
            compartment_machine.fire(unit, "empty", actor_id=None, roles={SYSTEM}, data={"parcel": parcel.id})
        return
    # failed: the parcel is still inside; staff take it out when the door is mended
    _fail(unit, bank, reporter_id=parcel.picked_up_by or parcel.recipient_id, code=code)


# --- pickup ---------------------------------------------------------------------------------------------


def pickup_by_code(*, device: Device, code: str) -> dict[str, Any]:
    """A code typed on a bank's keypad: its compartment's door opens. Wrong codes count per bank; past
    ``CODE_ATTEMPTS`` in ``CODE_ATTEMPT_WINDOW_SECONDS`` the keypad is refused (429)."""
    bank = _bank_of(device)
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
    _open(parcel, bank, unit, "pickup")
    audit.record(PARCEL, parcel.id, "open_by_code", actor_id=None, data={"compartment": unit.label})
    return {"compartment": unit.label, "parcel_id": parcel.id}


def fee_due(parcel: Parcel) -> int:
    """What is still to pay of the overdue fee now (fen)."""
    if parcel.stored_at is None or parcel.storage != Storage.LOCKER:
        return 0
    return max(0, overdue_fee(parcel.stored_at, clock.now()) - (parcel.fee_paid_fen or 0))


def open_for_me(*, actor: Actor, parcel_id: int) -> ParcelView:
    """The recipient (or the person it was shared with) opens the door from the mini-program — once the
    overdue fee, if any, is paid: else 409 ``lockers.fee_due`` naming the payment to check out."""
    parcel = _mine(actor, parcel_id, PROXY)
    if parcel.status != P.STORED:
        raise parcel_machine.invalid(parcel.status, "pick_up")
    if parcel.storage == Storage.COUNTER:
        raise errors.AtCounter()
    bank = _bank(parcel.bank_id)
    if not _online(bank):
        raise errors.BankOffline()
    due = fee_due(parcel)
    if due:
        payment = payments.request_payment(
            biz_type=FEE_BIZ_TYPE, biz_id=parcel.id, amount_fen=due, description=f"快递超期保管费 {parcel.tracking_no}",
            payer=actor, expires_at=clock.now() + timedelta(minutes=10))
        raise errors.FeeDue(errors={"payment_id": payment.id, "amount_fen": due})
    parcel.picked_up_by = actor.user_id
    unit = db.session.get(LockerCompartment, parcel.compartment_id)
    _open(parcel, bank, unit, "pickup")
    audit.record(PARCEL, parcel.id, "open_from_app", actor_id=actor.user_id,
                 data={"compartment": unit.label, "as": "proxy" if parcel.recipient_id != actor.user_id
                       else "recipient"})
    return view(parcel)


def share(*, actor: Actor, parcel_id: int, phone: str | None = None, number: str | None = None,
          name: str | None = None) -> ParcelView:
    """The recipient lets someone else collect (代取): they see the parcel and its code and may open it."""
    parcel = _mine(actor, parcel_id)
    if parcel.status != P.STORED:
        raise parcel_machine.invalid(parcel.status, "pick_up")
    proxy_id = find_recipient(phone=phone, number=number, name=name)
    parcel.proxy_id = proxy_id
    db.session.flush()
    audit.record(PARCEL, parcel.id, "share", actor_id=actor.user_id, data={"proxy": proxy_id})
    notifications.notify(user_id=proxy_id, event="lockers.shared", title="有人请您代取快递",
                         body=f"取件码 {parcel.pickup_code}，运单号 {parcel.tracking_no}",
                         data={"parcel_id": parcel.id}, link="pages/lockers/lockers",
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
    _cancel_timers(parcel)
    return view(parcel)


def fee_paid(*, parcel_id: int, payment_id: int, amount_fen: int) -> bool:
    """payments' ``payment_succeeded`` for an overdue fee: counted once per payment."""
    parcel = db.session.get(Parcel, parcel_id, with_for_update=True)
    if parcel is None:
        return False
    seen = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == PARCEL, AuditEvent.entity_id == parcel.id, AuditEvent.action == "fee_paid",
        AuditEvent.data["payment"].as_integer() == payment_id))
    if seen:
        return False
    parcel.fee_paid_fen = (parcel.fee_paid_fen or 0) + amount_fen
    db.session.flush()
    audit.record(PARCEL, parcel.id, "fee_paid", actor_id=None, data={"payment": payment_id, "amount_fen": amount_fen})
    return True


def _cancel_timers(parcel: Parcel) -> None:
    timers.cancel(REMINDER_TIMER, parcel.id)
    timers.cancel(RETURN_TIMER, parcel.id)


# --- reminders and return to sender (timers) -------------------------------------------------------------


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
                             data={"parcel_id": parcel.id}, link="pages/lockers/lockers",
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
    bank = _bank(parcel.bank_id)
    if not _online(bank):
        raise errors.BankOffline()
    unit = db.session.get(LockerCompartment, parcel.compartment_id)
    _open(parcel, bank, unit, "return")
    return view(parcel)
