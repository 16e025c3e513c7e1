"""The canteen reacting to payments' signals (``app.payments.events``), in the payments transaction.
``create_app`` calls ``connect()``; importing connects nothing. Each receiver is idempotent: the order is
locked and moved by its state machine, a repeat finds it moved already."""

from __future__ import annotations

from typing import Any

from app.canteen import service
from app.payments import events as payments_events


def connect() -> None:
    payments_events.payment_succeeded.connect(_paid)
    payments_events.payment_closed.connect(_closed)
    payments_events.refund_succeeded.connect(_refunded)


def _paid(payment_id: int, *, biz_type: str, biz_id: int, **_kw: Any) -> None:
    if biz_type == service.BIZ_TYPE:
        service.paid(biz_id, payment_id)


def _closed(payment_id: int, *, biz_type: str, biz_id: int, **_kw: Any) -> None:
    if biz_type == service.BIZ_TYPE:
        service.closed(biz_id, payment_id)


def _refunded(payment_id: int, *, biz_type: str, biz_id: int, amount_fen: int, **_kw: Any) -> None:
    if biz_type == service.BIZ_TYPE:
        service.refunded(biz_id, amount_fen)
