"""The overdue fee: a payment of it counted once (what is due now is ``views.fee_due``: a parcel shows it)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.core import audit
from app.core.audit import AuditEvent
from app.core.db import db
from app.lockers.models import Parcel
from app.lockers.service.lifecycle import PARCEL


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
