"""What station staff watch (the console's 快递柜 pages): every bank's compartments live, parcels waiting and
overdue with the fee due now, compartments out of service with the repair report their door opened, and
the overdue fees collected per day. Staff only (``STAFF``); read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.audit import AuditEvent
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import ValidationFailed
from app.core.pagination import PageParams, paginate
from app.devices import service as devices
from app.lockers.models import LockerBank, LockerCompartment, Parcel
from app.lockers.service.lifecycle import COMPARTMENT, PARCEL
from app.lockers.service.views import fee_due
from app.lockers.states import (
    COMPARTMENT_LABELS,
    FEE_FREE,
    PARCEL_LABELS,
    STAFF,
    Storage,
)
from app.lockers.states import Compartment as C
from app.lockers.states import Parcel as P
from app.places import service as places
from app.users import service as users

PARCEL_FILTERS = {"waiting": "待取件（全部）", "overdue": "已超期（超过 18 小时）", "to_return": "待退回"}
"""The parcel list's status filter: ``waiting`` every stored parcel, ``overdue`` those past the free
storage time (a fee is due), ``to_return`` those uncollected after three days."""
MAX_FEE_DAYS = 366


def require_staff(actor: Actor) -> None:
    require_roles(actor, *STAFF)


def _place_names(place_ids) -> dict[int, str]:
    return {pid: places.view(places.get_place(pid)).full_name for pid in set(place_ids)}


def bank_grid(*, actor: Actor) -> list[dict[str, Any]]:
    """Every bank with its compartments in label order (``label``, ``size``, ``status``, its label in
    Chinese), online or not, and counts by status."""
    require_staff(actor)
    banks = list(db.session.scalars(select(LockerBank).order_by(LockerBank.id)))
    online = devices.online([b.device_id for b in banks])
    names = _place_names(b.place_id for b in banks)
    units = db.session.scalars(select(LockerCompartment).order_by(LockerCompartment.bank_id, LockerCompartment.label))
    by_bank: dict[int, list[dict[str, Any]]] = {b.id: [] for b in banks}
    for u in units:
        by_bank.setdefault(u.bank_id, []).append({"id": u.id, "label": u.label, "size": u.size, "status": u.status,
                                                  "status_label": COMPARTMENT_LABELS.statuses[u.status]})
    out = []
    for bank in banks:
        compartments = by_bank[bank.id]
        counts = {str(s): sum(1 for c in compartments if c["status"] == s) for s in C}
        out.append({"id": bank.id, "code": bank.code, "name": bank.name, "place_name": names[bank.place_id],
                    "online": online.get(bank.device_id, False), "compartments": compartments, "counts": counts})
    return out


@dataclass(frozen=True)
class StaffParcel:
    id: int
    tracking_no: str
    status: str
    status_label: str
    storage: str
    bank_id: int
    bank_name: str
    spot: str
    size: str
    recipient: str
    stored_at: datetime | None
    overdue: bool
    fee_paid_fen: int
    fee_due_fen: int


def list_parcels(*, actor: Actor, params: PageParams, status: str = "waiting",
                 bank_id: int | None = None) -> list[StaffParcel]:
    """Parcels waiting (``PARCEL_FILTERS``), the longest waiting first, one page; each with the overdue fee
    still to pay now."""
    require_staff(actor)
    if status not in PARCEL_FILTERS:
        raise ValidationFailed(message="状态筛选不正确", errors={"status": ["状态筛选不正确"]})
    stmt = select(Parcel)
    if status == "to_return":
        stmt = stmt.where(Parcel.status == str(P.TO_RETURN))
    else:
        stmt = stmt.where(Parcel.status == str(P.STORED))
        if status == "overdue":
            stmt = stmt.where(Parcel.storage == str(Storage.LOCKER), Parcel.stored_at < clock.now() - FEE_FREE)
    if bank_id is not None:
        stmt = stmt.where(Parcel.bank_id == bank_id)
    rows = paginate(stmt.order_by(Parcel.stored_at, Parcel.id), params)
    banks = {b.id: b for b in db.session.scalars(select(LockerBank).where(
        LockerBank.id.in_({p.bank_id for p in rows})))}
    labels = dict(db.session.execute(select(LockerCompartment.id, LockerCompartment.label).where(
        LockerCompartment.id.in_({p.compartment_id for p in rows if p.compartment_id}))).all())
    names = users.display_names(p.recipient_id for p in rows)
    now = clock.now()
    return [StaffParcel(
        id=p.id, tracking_no=p.tracking_no, status=p.status, status_label=PARCEL_LABELS.statuses[p.status],
        storage=p.storage, bank_id=p.bank_id, bank_name=banks[p.bank_id].name,
        spot=(f"{labels.get(p.compartment_id, '')} 格口" if p.storage == Storage.LOCKER
              else f"驿站货架 {p.shelf_code}"),
        size=p.size, recipient=names.get(p.recipient_id, ""), stored_at=p.stored_at,
        overdue=bool(p.stored_at and p.storage == Storage.LOCKER and now - p.stored_at > FEE_FREE),
        fee_paid_fen=p.fee_paid_fen or 0, fee_due_fen=fee_due(p) if p.status == P.STORED else 0) for p in rows]


@dataclass(frozen=True)
class DoorFault:
    compartment_id: int
    bank_id: int
    bank_name: str
    label: str
    size: str
    since: datetime | None
    repair_id: int | None
    code: str | None


def door_faults(*, actor: Actor, params: PageParams) -> list[DoorFault]:
    """Compartments out of service, the most recent fault first: the repair report their door opened
    (repairs' 快递柜 category) and when."""
    require_staff(actor)
    stmt = (select(LockerCompartment).where(LockerCompartment.status == str(C.OUT_OF_SERVICE))
            .order_by(LockerCompartment.updated_at.desc(), LockerCompartment.id))
    rows = paginate(stmt, params)
    reports: dict[int, AuditEvent] = {}
    for event in db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == COMPARTMENT, AuditEvent.action == "repair_reported",
            AuditEvent.entity_id.in_([u.id for u in rows])).order_by(AuditEvent.id)):
        reports[event.entity_id] = event  # the latest wins
    banks = {b.id: b.name for b in db.session.scalars(select(LockerBank).where(
        LockerBank.id.in_({u.bank_id for u in rows})))}
    out = []
    for u in rows:
        report = reports.get(u.id)
        data = (report.data or {}) if report else {}
        out.append(DoorFault(compartment_id=u.id, bank_id=u.bank_id, bank_name=banks[u.bank_id], label=u.label,
                             size=u.size, since=report.created_at if report else u.updated_at,
                             repair_id=data.get("repair"), code=data.get("code")))
    return out


def fees_collected(*, actor: Actor, date_from: date, date_to: date) -> dict[str, Any]:
    """Overdue fees paid per school day from ``date_from`` to ``date_to`` (every day listed, zero too) and
    the total: ``{"days": [{"day", "count", "amount_fen"}], "count", "total_fen"}``. Each payment counts
    once, on the day it succeeded (the ``fee_paid`` audit row ``fee_paid`` writes once per payment)."""
    require_staff(actor)
    if date_to < date_from or (date_to - date_from).days >= MAX_FEE_DAYS:
        raise ValidationFailed(message=f"日期范围应在 1 到 {MAX_FEE_DAYS} 天之间", errors={"to": ["日期范围不正确"]})
    zone = clock.school_zone()
    start = datetime.combine(date_from, time(0), zone)
    end = datetime.combine(date_to + timedelta(days=1), time(0), zone)
    days = {date_from + timedelta(days=i): [0, 0] for i in range((date_to - date_from).days + 1)}
    for at, data in db.session.execute(select(AuditEvent.created_at, AuditEvent.data).where(
            AuditEvent.entity_type == PARCEL, AuditEvent.action == "fee_paid",
            AuditEvent.created_at >= start, AuditEvent.created_at < end)):
        figures = days[clock.to_local(at).date()]
        figures[0] += 1
        figures[1] += int((data or {}).get("amount_fen", 0))
    rows = [{"day": day, "count": n, "amount_fen": fen} for day, (n, fen) in days.items()]
    return {"days": rows, "count": sum(r["count"] for r in rows), "total_fen": sum(r["amount_fen"] for r in rows)}
