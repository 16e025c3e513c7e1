"""The machines of compartments and parcels and the moves every use case shares: holding a compartment and
opening its door, storing a parcel (its pickup code, timers and message), the counter, a failed door."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import audit, clock, timers
from app.core.allocation import take_unit
from app.core.db import db
from app.core.statemachine import StateMachine
from app.devices import service as devices
from app.devices.client import LockerController
from app.devices.models import Device
from app.lockers.models import LockerBank, LockerCompartment, Parcel
from app.lockers.service import errors, slots
from app.lockers.states import (
    COMPARTMENT_LABELS,
    COMPARTMENT_TRANSITIONS,
    PARCEL_LABELS,
    PARCEL_TRANSITIONS,
    PARCELS_PAGE,
    PICKUP_CODE_DIGITS,
    REMIND_AFTER,
    REMINDER_TIMER,
    REPAIR_CATEGORY,
    RETURN_AFTER,
    RETURN_TIMER,
    SYSTEM,
    Storage,
)
from app.lockers.states import Compartment as C
from app.lockers.states import Parcel as P
from app.notifications import service as notifications
from app.places import service as places
from app.repairs import service as repairs

log = logging.getLogger(__name__)

DEVICE_KIND = "locker"
COMPARTMENT, PARCEL = "locker_compartment", "parcel"
compartment_machine = StateMachine(LockerCompartment, COMPARTMENT_TRANSITIONS, entity=COMPARTMENT,
                                   labels=COMPARTMENT_LABELS)
parcel_machine = StateMachine(Parcel, PARCEL_TRANSITIONS, entity=PARCEL, labels=PARCEL_LABELS)


def bank_or_404(bank_id: int) -> LockerBank:
    bank = db.session.get(LockerBank, bank_id)
    if bank is None:
        raise errors.BankNotFound()
    return bank


def is_online(bank: LockerBank) -> bool:
    return devices.online([bank.device_id]).get(bank.device_id, False)


def holder_key(parcel: Parcel) -> str:
    return f"parcel:{parcel.id}"


def hold_and_open(parcel: Parcel, bank: LockerBank, *, actor_id: int | None) -> bool:
    """Hold a free compartment of the parcel's size and open its door: False when none is free."""
    compartment_id = take_unit(LockerCompartment, LockerCompartment.bank_id == bank.id,
                               LockerCompartment.size == parcel.size, LockerCompartment.status == str(C.FREE),
                               key=holder_key(parcel))
    if compartment_id is None:
        return False
    compartment = db.session.get(LockerCompartment, compartment_id)
    compartment_machine.fire(compartment, "reserve", actor_id=actor_id, roles={SYSTEM}, data={"parcel": parcel.id})
    parcel.compartment_id = compartment.id
    open_door(parcel, bank, compartment, "deposit")
    return True


def open_door(parcel: Parcel, bank: LockerBank, compartment: LockerCompartment, purpose: str) -> None:
    """Ask the bank's controller to open the compartment's door for a new transaction of the parcel."""
    parcel.door_attempts = (parcel.door_attempts or 0) + 1
    parcel.door_txn = f"{purpose}-{parcel.id}-{parcel.door_attempts}-{secrets.token_hex(4)}"
    parcel.door_purpose = purpose
    db.session.flush()
    audit.record(COMPARTMENT, compartment.id, "door_open_requested", actor_id=None,
                 data={"parcel": parcel.id, "txn_id": parcel.door_txn, "purpose": purpose})
    device = devices.get(bank.device_id)
    LockerController(devices.client(device)).open(compartment.label, parcel.door_txn)


def to_counter(parcel: Parcel, *, actor_id: int | None) -> None:
    """No compartment: the parcel goes on the counter's shelf (驿站) and is stored at once."""
    parcel.storage, parcel.compartment_id = str(Storage.COUNTER), None
    parcel.shelf_code = f"H{parcel.id:05d}"
    db.session.flush()
    store(parcel, actor_id=actor_id)


def new_code() -> str:
    return f"{secrets.randbelow(10 ** PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"


def store(parcel: Parcel, *, actor_id: int | None) -> None:
    """The parcel is in (a compartment or the shelf): a pickup code no other stored parcel holds (the
    partial unique index decides a race: the loser draws again) and the recipient is told."""
    for _attempt in range(20):
        code = new_code()
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
    parcel.pickup_slot_at = slots.suggest()
    db.session.flush()
    bank = db.session.get(LockerBank, parcel.bank_id)
    place = places.view(places.get_place(bank.place_id)).full_name
    where = (f"{bank.name}（{place}）" if parcel.storage == Storage.LOCKER
             else f"驿站货架 {parcel.shelf_code}（{place}）")
    body = f"取件码 {parcel.pickup_code}，请到 {where} 取件。运单号 {parcel.tracking_no}"
    if parcel.pickup_slot_at is not None:
        body += f"。{slots.phrase(parcel.pickup_slot_at)}"
    timers.schedule(REMINDER_TIMER, parcel.id, parcel.stored_at + REMIND_AFTER)
    timers.schedule(RETURN_TIMER, parcel.id, parcel.stored_at + RETURN_AFTER)
    for user_id in {parcel.recipient_id, parcel.proxy_id} - {None}:
        notifications.notify(user_id=user_id, event="lockers.stored", title="您有快递待取", body=body,
                             data={"parcel_id": parcel.id, "pickup_code": parcel.pickup_code,
                                   "pickup_slot_at": parcel.pickup_slot_at.isoformat() if parcel.pickup_slot_at
                                   else None},
                             link=PARCELS_PAGE,
                             idempotency_key=f"lockers.stored:{parcel.id}:{parcel.pickup_code}:{user_id}")


def bank_of(device: Device) -> LockerBank:
    bank = db.session.scalar(select(LockerBank).where(LockerBank.device_id == device.id))
    if bank is None:
        raise errors.BankNotFound()
    return bank


def fail(unit: LockerCompartment, bank: LockerBank, *, reporter_id: int, code: str | None) -> None:
    db.session.refresh(unit)
    compartment_machine.fire(unit, "fail", actor_id=None, roles={SYSTEM}, repeat=True, data={"code": code})
    repair_id = repairs.report_device_fault(
        reporter_id=reporter_id, category_code=REPAIR_CATEGORY, place_id=bank.place_id,
        description=f"快递柜 {bank.name} 的 {unit.label} 格口柜门故障（{code or '未知'}），已自动停用。")
    audit.record(COMPARTMENT, unit.id, "repair_reported", actor_id=None, data={"repair": repair_id, "code": code})


def door_mended(parcel: Parcel, unit: LockerCompartment) -> None:
    """The door that kept ``parcel`` inside is mended: its recipient (and proxy) may collect it again."""
    bank = db.session.get(LockerBank, unit.bank_id)
    for user_id in {parcel.recipient_id, parcel.proxy_id} - {None}:
        notifications.notify(user_id=user_id, event="lockers.door_mended", title="柜门已修好，可以取件了",
                             body=f"{bank.name} {unit.label} 格口的柜门已修好，凭原取件码或在小程序中开柜取件。",
                             data={"parcel_id": parcel.id}, link=PARCELS_PAGE,
                             idempotency_key=f"lockers.door_mended:{parcel.id}:{unit.id}:{user_id}:"
                                             f"{clock.now().isoformat()}")


def cancel_timers(parcel: Parcel) -> None:
    timers.cancel(REMINDER_TIMER, parcel.id)
    timers.cancel(RETURN_TIMER, parcel.id)
