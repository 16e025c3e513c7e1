"""Underneath every use case: the two state machines, locking a payment, the ledger, alerts to finance,
and where a payment's status goes when a refund ends."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.core.db import db
from app.core.statemachine import StateMachine
from app.notifications import service as notifications
from app.payments.models import LedgerEntry, Payment, PaymentAlert, Refund
from app.payments.states import (
    LABELS,
    OPEN_REFUNDS,
    REFUND_LABELS,
    REFUND_TRANSITIONS,
    SYSTEM,
    TRANSITIONS,
    AlertKind,
    Status,
)
from app.users import service as users

log = logging.getLogger(__name__)

payment_machine = StateMachine(Payment, TRANSITIONS, entity="payment", labels=LABELS)
refund_machine = StateMachine(Refund, REFUND_TRANSITIONS, entity="payment_refund", labels=REFUND_LABELS)

ALERT_TITLES = {
    AlertKind.AMOUNT_MISMATCH: "支付金额与订单不符",
    AlertKind.FOREIGN_MERCHANT: "收到非本商户/应用的支付通知",
    AlertKind.LATE_PAYMENT: "订单关闭后收到付款，已自动退款",
    AlertKind.REFUND_ABNORMAL: "退款异常，需人工处理",
    AlertKind.REFUND_FAILED: "退款被微信支付拒绝",
    AlertKind.UNKNOWN_ORDER: "收到未知订单的支付通知",
    AlertKind.BILL_HASH_MISMATCH: "微信支付对账单校验失败",
    AlertKind.RECONCILIATION: "对账发现差异",
}


def system_fire(obj: Any, action: str, **kwargs: Any) -> str:
    machine = payment_machine if isinstance(obj, Payment) else refund_machine
    return machine.fire(obj, action, actor_id=kwargs.pop("actor_id", None), roles={SYSTEM}, **kwargs)


def lock(payment_id: int) -> Payment | None:
    """The payment, locked for this transaction (``SELECT … FOR UPDATE``): changes to one payment
    happen one at a time, whoever makes them (a notification, a query, a timer, a refund)."""
    return db.session.scalars(select(Payment).where(Payment.id == payment_id).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()


def lock_by_trade_no(out_trade_no: str) -> Payment | None:
    return db.session.scalars(select(Payment).where(Payment.out_trade_no == out_trade_no).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()


def book(payment: Payment, *, refund: Refund | None = None) -> bool:
    """The ledger row of a paid payment (+) or a succeeded refund (−), once: a repeat writes nothing."""
    kind, source, amount = ("refund", refund.id, -refund.amount_fen) if refund else \
        ("payment", payment.id, payment.amount_fen)
    row = db.session.execute(
        insert(LedgerEntry).values(kind=kind, source_id=source, amount_fen=amount, payment_id=payment.id,
                                   refund_id=refund.id if refund else None)
        .on_conflict_do_nothing(index_elements=["kind", "source_id"]).returning(LedgerEntry.id)
    ).first()
    return row is not None


def ledger_balance(payment_id: int | None = None) -> int:
    stmt = select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
    if payment_id is not None:
        stmt = stmt.where(LedgerEntry.payment_id == payment_id)
    return int(db.session.scalar(stmt))


def raise_alert(kind: str, *, source: str, payment: Payment | None, details: dict[str, Any]) -> bool:
    """A ``PaymentAlert`` (once per kind and source) and a message to every finance user."""
    row = db.session.execute(
        insert(PaymentAlert).values(kind=str(kind), source=source[:80], payment_id=payment.id if payment else None,
                                    details=details)
        .on_conflict_do_nothing(index_elements=["kind", "source"]).returning(PaymentAlert.id)
    ).first()
    if row is None:
        return False
    log.warning("payment alert", extra={"kind": str(kind), "payment": payment.id if payment else None})
    title = ALERT_TITLES.get(kind, "支付提醒")
    body = f"订单号 {payment.out_trade_no}，金额 {payment.amount_fen / 100:.2f} 元" if payment else source
    notifications.notify_many(user_ids=users.users_with_roles("finance"), event="payments.alert", title=title,
                              body=body, data={"alert_id": row.id, "kind": str(kind)},
                              link="/pages/payments/alerts", idempotency_key=f"payment-alert:{row.id}")
    return True


def open_refunds_fen(payment_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(
        Refund.payment_id == payment_id, Refund.status.in_([str(s) for s in OPEN_REFUNDS]))))


def settle_after_refund(payment: Payment) -> None:
    """Where a payment stands once a refund has started or ended: ``refunding`` while one is under way,
    else paid / partially refunded / refunded by what was given back."""
    if payment.status in (Status.CREATED, Status.CLOSED):
        return
    if open_refunds_fen(payment.id):
        target, action = Status.REFUNDING, "refund_start"
    elif payment.refunded_fen >= payment.amount_fen:
        target, action = Status.REFUNDED, "refund_fully"
    elif payment.refunded_fen > 0:
        target, action = Status.PARTIALLY_REFUNDED, "refund_partly"
    else:
        target, action = Status.PAID, "refund_none"
    if payment.status != target:
        system_fire(payment, action)
