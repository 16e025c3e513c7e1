"""How a payment ends: paid (WeChat's word, from a notification or our own query), closed at its
deadline, or paid after we closed it (refunded at once). Never the client's word: the result page's
"I paid" only makes us ask WeChat.

Timers: ``payments.query`` (3 minutes after the first checkout, no notification yet: ask) and
``payments.close`` (at the deadline, never sooner than 5 minutes after creation: close at WeChat, then
here; if WeChat says it was paid meanwhile, it is paid).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from flask import current_app

from app.core import clock, timers
from app.core.auth import Actor
from app.core.db import db
from app.payments import events
from app.payments.models import Payment
from app.payments.service.access import payment_for
from app.payments.service.lifecycle import book, lock, raise_alert, system_fire
from app.payments.service.payable import close_due
from app.payments.service.refunds import start_refund
from app.payments.states import (
    CLOSE_TIMER,
    LATE_PAYMENT_REASON,
    QUERY_AFTER_CHECKOUT,
    QUERY_TIMER,
    SYNC_AFTER,
    SYNC_EVERY_SECONDS,
    AlertKind,
    Status,
)
from app.wechat import gateway
from app.wechat.errors import PayError, PayRejected, PayUnavailable
from app.wechat.pay import TradeState

log = logging.getLogger(__name__)


def _jsonable(record: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in asdict(record).items()}


def apply_trade_state(payment: Payment, state: TradeState, *, source: str) -> str:
    """Apply what WeChat says of the (locked) payment's order; returns the outcome (``paid``,
    ``duplicate``, ``late``, ``not_paid``, ``amount_mismatch``, ``foreign``)."""
    cfg = current_app.config
    if state.mchid != cfg["WECHATPAY_MCHID"] or (state.appid and state.appid != cfg["WECHAT_APP_ID"]):
        raise_alert(AlertKind.FOREIGN_MERCHANT, source=source, payment=payment, details=_jsonable(state))
        return "foreign"
    if not state.paid:
        return "not_paid"
    if state.amount_fen != payment.amount_fen or state.currency != "CNY":
        raise_alert(AlertKind.AMOUNT_MISMATCH, source=source, payment=payment,
                    details={"expected_fen": payment.amount_fen, "stated_fen": state.amount_fen,
                             "currency": state.currency, "transaction_id": state.transaction_id})
        return "amount_mismatch"
    values = {"transaction_id": state.transaction_id, "paid_at": state.success_time or clock.now()}
    if payment.status == Status.CLOSED:
        system_fire(payment, "pay_late", values=values, data={"source": source})
        book(payment)
        raise_alert(AlertKind.LATE_PAYMENT, source=source, payment=payment,
                    details={"transaction_id": state.transaction_id, "amount_fen": payment.amount_fen})
        start_refund(payment, amount_fen=payment.amount_fen, reason=LATE_PAYMENT_REASON, actor=None,
                     out_refund_no=f"{payment.out_trade_no}L")
        return "late"
    if payment.status != Status.CREATED:
        if payment.transaction_id != state.transaction_id:
            raise_alert(AlertKind.AMOUNT_MISMATCH, source=source, payment=payment,
                        details={"reason": "second transaction", "transaction_id": state.transaction_id})
        if payment.status == Status.PAID:
            system_fire(payment, "pay", repeat={"transaction_id": state.transaction_id})
        log.info("payment success repeated: ignored", extra={"payment": payment.id, "source": source})
        return "duplicate"
    system_fire(payment, "pay", values=values, data={"source": source})
    book(payment)
    timers.cancel(QUERY_TIMER, payment.id)
    timers.cancel(CLOSE_TIMER, payment.id)
    events.payment_succeeded.send(payment.id, biz_type=payment.biz_type, biz_id=payment.biz_id,
                                  amount_fen=payment.amount_fen, payer_id=payment.payer_id,
                                  transaction_id=payment.transaction_id)
    return "paid"


def query_and_apply(payment: Payment) -> str:
    """Ask WeChat about the (locked) payment's order and apply the answer."""
    payment.synced_at = clock.now()
    state = gateway.pay().query(payment.out_trade_no)
    return apply_trade_state(payment, state, source=f"query:{payment.out_trade_no}")


def sync(*, actor: Actor | None, payment_id: int, force: bool = False) -> Payment:
    """A payment as it is now. Still unpaid a while after creation, or polled by the result page
    (``force``), WeChat is asked (at most once per payment every few seconds) and its answer applied as
    a notification would be. WeChat unreachable: the payment as we know it."""
    payment = payment_for(actor, payment_id)
    now = clock.now()
    if payment.status != Status.CREATED or payment.prepaid_at is None:
        return payment
    if not force and now - payment.created_at < SYNC_AFTER:
        return payment
    if payment.synced_at and now - payment.synced_at < timedelta(seconds=SYNC_EVERY_SECONDS):
        return payment
    payment = lock(payment_id)
    if payment.status != Status.CREATED or (
            payment.synced_at and now - payment.synced_at < timedelta(seconds=SYNC_EVERY_SECONDS)):
        return payment
    try:
        with db.session.begin_nested():
            query_and_apply(payment)
    except PayError as exc:
        log.warning("payment sync failed", extra={"payment": payment_id, "code": exc.code})
        payment = lock(payment_id)
        payment.synced_at = now
    return payment


def query_due(payment_id: int) -> bool:
    """Timer ``payments.query``: no notification yet; ask WeChat. Unpaid: ask again later, until closed."""
    payment = lock(payment_id)
    if payment is None or payment.status != Status.CREATED:
        return False
    outcome = query_and_apply(payment)
    if outcome == "not_paid" and clock.now() + QUERY_AFTER_CHECKOUT < close_due(payment):
        timers.schedule(QUERY_TIMER, payment.id, clock.now() + QUERY_AFTER_CHECKOUT)
    return outcome == "paid"


def close_payment(payment_id: int) -> bool:
    """Timer ``payments.close``: unpaid at its deadline; closed at WeChat, then here (``payment_closed``).
    WeChat says it was paid meanwhile: it is paid. WeChat unreachable: the timer tries again."""
    payment = lock(payment_id)
    if payment is None or payment.status != Status.CREATED:
        return False
    due = close_due(payment)
    if clock.now() < due - timers.TOLERANCE:
        timers.schedule(CLOSE_TIMER, payment.id, due)
        return False
    if payment.prepaid_at is not None:
        try:
            gateway.pay().close(payment.out_trade_no)
        except PayRejected as exc:
            if exc.code == "ORDERPAID":
                return query_and_apply(payment) == "paid"
            if exc.code not in ("ORDER_NOT_EXIST", "ORDER_CLOSED", "RESOURCE_NOT_EXISTS"):
                raise
        except PayUnavailable:
            raise  # the timer's transaction rolls back; the sweep tries again with backoff
    system_fire(payment, "close", values={"closed_at": clock.now()})
    timers.cancel(QUERY_TIMER, payment.id)
    events.payment_closed.send(payment.id, biz_type=payment.biz_type, biz_id=payment.biz_id)
    return True
