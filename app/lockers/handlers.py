"""The lockers reacting to payments' signals (only overdue fees, ``biz_type`` ``lockers.fee``). ``create_app``
calls ``connect()``; the receivers run in the payments transaction and are idempotent."""

from __future__ import annotations

from typing import Any

from app.lockers import service
from app.lockers.states import FEE_BIZ_TYPE
from app.payments import events as payments_events


def connect() -> None:
    payments_events.payment_succeeded.connect(_paid)


def _paid(payment_id: int, *, biz_type: str, biz_id: int, amount_fen: int, **_kw: Any) -> None:
    if biz_type == FEE_BIZ_TYPE:
        service.fee_paid(parcel_id=biz_id, payment_id=payment_id, amount_fen=amount_fen)
