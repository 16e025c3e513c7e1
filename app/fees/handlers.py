"""Fees reacting to the payments signals (only fee orders, ``biz_type`` ``fees.order``). ``create_app``
calls ``connect()``; the receivers run in the payments transaction and are idempotent: a repeated signal
changes nothing."""

from __future__ import annotations

from typing import Any

from app.fees import service
from app.fees.states import BIZ_TYPE
from app.payments import events as payments_events


def connect() -> None:
    payments_events.payment_succeeded.connect(_paid)
    payments_events.payment_closed.connect(_closed)
    payments_events.refund_succeeded.connect(_refunded)


def _paid(_payment_id: int, *, biz_type: str, biz_id: int, payer_id: int, transaction_id: str | None = None,
          **_kw: Any) -> None:
    if biz_type == BIZ_TYPE:
        service.order_paid(order_id=biz_id, payer_id=payer_id, transaction_id=transaction_id)


def _closed(_payment_id: int, *, biz_type: str, biz_id: int, **_kw: Any) -> None:
    if biz_type == BIZ_TYPE:
        service.order_closed(order_id=biz_id)


def _refunded(_payment_id: int, *, refund_id: int, biz_type: str, **_kw: Any) -> None:
    if biz_type == BIZ_TYPE:
        service.bill_refunded(refund_id=refund_id)
