"""What a bank's controller tells us: heartbeats and door events (opened, closed, failed)."""

from __future__ import annotations

from sqlalchemy import select

from app.core import audit, clock
from app.core.allocation import release_unit
from app.core.db import db
from app.devices import service as devices
from app.devices.errors import DeviceOffline, DeviceRefused
from app.devices.models import Device
from app.lockers.models import LockerBank, LockerCompartment, Parcel
from app.lockers.service import errors
from app.lockers.service.lifecycle import (
    COMPARTMENT,
    DEVICE_KIND,
    bank_of,
    cancel_timers,
    compartment_machine,
    fail,
    hold_and_open,
    holder_key,
    parcel_machine,
    store,
    to_counter,
)
from app.lockers.states import SYSTEM
from app.lockers.states import Compartment as C
from app.lockers.states import Parcel as P


def authenticate(*, method: str, path: str, headers: dict[str, str], body: bytes) -> Device:
    return devices.authenticate(method=method, path=path, headers=headers, body=body, kind=DEVICE_KIND)


def heartbeat(*, device: Device) -> None:
    devices.heartbeat(device)


def door_event(*, device: Device, event: str, compartment: str, txn_id: str, code: str | None = None) -> dict:
    """A door event from a bank's controller. ``{"handled": …}``: False for an event of an earlier
    transaction of the parcel (acknowledged, nothing changes); 409 ``lockers.unknown_txn`` for one not
    committed yet (the controller sends it again)."""
    bank = bank_of(device)
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
            store(parcel, actor_id=None)
        return
    # failed: this compartment is out of service; another one, or the counter
    release_unit(LockerCompartment, holder_key(parcel))
    fail(unit, bank, reporter_id=parcel.courier_id, code=code)
    try:
        if hold_and_open(parcel, bank, actor_id=None):
            return
    except (DeviceOffline, DeviceRefused):
        release_unit(LockerCompartment, holder_key(parcel))
        held = db.session.get(LockerCompartment, parcel.compartment_id)
        db.session.refresh(held)
        if held.status == C.RESERVED:
            compartment_machine.fire(held, "release", actor_id=None, roles={SYSTEM}, data={"code": "offline"})
    to_counter(parcel, actor_id=None)


def _pickup_event(parcel: Parcel, bank: LockerBank, unit: LockerCompartment, event: str, code: str | None) -> None:
    if event == "opened":
        if parcel.door_purpose == "return" and parcel.status == P.TO_RETURN:
            parcel_machine.fire(parcel, "return", actor_id=parcel.picked_up_by, roles={SYSTEM}, repeat=True,
                                values={"returned_at": clock.now()})
        elif parcel.door_purpose == "pickup" and parcel.status == P.STORED:
            parcel_machine.fire(parcel, "pick_up", actor_id=parcel.picked_up_by, roles={SYSTEM}, repeat=True,
                                values={"picked_up_at": clock.now()})
            cancel_timers(parcel)
        return
    if event == "closed":
        if unit.status == C.OCCUPIED and parcel.status in (P.PICKED_UP, P.RETURNED):
            release_unit(LockerCompartment, holder_key(parcel))
            db.session.refresh(unit)
            compartment_machine.fire(unit, "empty", actor_id=None, roles={SYSTEM}, data={"parcel": parcel.id})
        return
    # failed: the parcel is still inside; staff take it out when the door is mended
    fail(unit, bank, reporter_id=parcel.picked_up_by or parcel.recipient_id, code=code)
