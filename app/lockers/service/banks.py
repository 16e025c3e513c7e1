"""Banks and their compartments; the capacity view couriers and staff see; staff restoring a compartment
taken out of service (empty, or with the parcel its failed door kept inside)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.core import audit
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.devices import service as devices
from app.lockers.models import LockerBank, LockerCompartment, Parcel
from app.lockers.service import errors
from app.lockers.service.lifecycle import DEVICE_KIND, bank_or_404, compartment_machine, door_mended
from app.lockers.states import (
    COMPARTMENT_LABELS,
    DEPOSITORS,
    STAFF,
    Size,
)
from app.lockers.states import Compartment as C
from app.lockers.states import Parcel as P
from app.places import service as places


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


def _compartment(unit: LockerCompartment) -> dict[str, Any]:
    return {"id": unit.id, "bank_id": unit.bank_id, "label": unit.label, "size": unit.size, "status": unit.status,
            "status_label": COMPARTMENT_LABELS.statuses.get(unit.status, unit.status),
            "holds_parcel": unit.holder_key is not None}


def compartments(*, actor: Actor, bank_id: int) -> list[dict[str, Any]]:
    """A bank's compartments in label order, with their status (station staff)."""
    require_roles(actor, *STAFF)
    bank = bank_or_404(bank_id)
    rows = db.session.scalars(select(LockerCompartment).where(LockerCompartment.bank_id == bank.id)
                              .order_by(LockerCompartment.label))
    return [_compartment(unit) for unit in rows]


def restore(*, actor: Actor, compartment_id: int) -> dict[str, Any]:
    """Station staff put a mended compartment back in service (audited): an empty one is free again
    (``restore``); one whose door failed at pickup with the parcel still inside holds it again
    (``restore_held``), its pickup code works again and the recipient (and proxy) are told. Of two staff
    restoring at once, the second finds it restored already (409) and nothing is written twice."""
    require_roles(actor, *STAFF)
    unit = db.session.get(LockerCompartment, compartment_id, with_for_update=True)
    if unit is None:
        raise errors.CompartmentNotFound()
    held = unit.status == C.OUT_OF_SERVICE and unit.holder_key is not None
    compartment_machine.fire(unit, "restore_held" if held else "restore", actor_id=actor.user_id,
                             roles=actor.roles, data={"bank": unit.bank_id, "label": unit.label})
    if held:
        parcel = db.session.scalars(select(Parcel).where(Parcel.compartment_id == unit.id,
                                                         Parcel.status == P.STORED)).one_or_none()
        if parcel is not None:
            door_mended(parcel, unit)
    return _compartment(unit)
