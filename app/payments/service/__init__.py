"""Payments: the payable contract, WeChat Pay's notifications, refunds and what finance sees.
Keyword-only functions taking the actor (``None``: the system — a domain, a job, a timer); they flush,
never commit.

**The payable contract** — all a domain needs to sell something:

* ``request_payment(*, biz_type, biz_id, amount_fen, description, payer, expires_at)`` → the id of
  the open payment of the domain's object, created if there is none (idempotent: two requests at once get one
  payment; another amount while one is open is a 409).
* ``checkout(*, actor, payment_id)`` → ``{"payment_id", "status", "params"}``: prepaid at WeChat with
  ``time_expire = expires_at``, ``params`` for ``wx.requestPayment`` (None once not payable). Safe twice.
* signals in ``app.payments.events``: ``payment_succeeded``, ``payment_closed``, ``refund_succeeded`` —
  their receivers run in the payments transaction and must be idempotent.
* ``refund(*, actor=None, payment_id, amount_fen, reason, out_refund_no=None)`` when the domain gives
  money back (a cancelled order).

The use-case modules, each importing only those below it:

* ``notify`` — WeChat's notifications: verify and store (``receive``), apply one (``apply_stored``), the
  sweep of stored ones never applied.
* ``settle`` — how a payment ends: paid (``apply_trade_state``), our own query (``sync``, the
  ``payments.query`` timer), closed at its deadline (``payments.close``), paid after closing (refunded).
* ``reconcile`` — the daily reconciliation with WeChat's trade bill, and what finance sees of it.
* ``views`` — my payments, finance's list, the alerts and their resolution.
* ``refunds`` — refunds stored before WeChat is asked, submitted and retried with the same number, their
  end from notifications.
* ``payable`` — ``request_payment``, ``checkout``.
* ``access`` — who may see a payment (its payer, finance) and who may refund (finance).
* ``lifecycle`` — the state machines, the payment lock, the ledger, alerts to finance.
"""

from __future__ import annotations

from app.payments.service.access import payment_for
from app.payments.service.errors import (
    AlertNotFound,
    AmountConflict,
    NotRefundable,
    PaymentExpired,
    PaymentNotFound,
    RefundNumberTaken,
    RefundTooLarge,
)
from app.payments.service.lifecycle import ledger_balance
from app.payments.service.notify import NotificationRefused, apply_stored, receive
from app.payments.service.notify import sweep as sweep_notifications
from app.payments.service.payable import checkout, request_payment
from app.payments.service.reconcile import reconcile, reconcile_due, reconciliation
from app.payments.service.refunds import list_refunds, refund, retry_due, submit_refund
from app.payments.service.settle import close_payment, query_due, sync
from app.payments.service.views import (
    admin_payments,
    alerts,
    my_payments,
    open_alert_count,
    paid_figures,
    present,
    resolve_alert,
)

__all__ = [
    "AlertNotFound",
    "AmountConflict",
    "NotRefundable",
    "NotificationRefused",
    "PaymentExpired",
    "PaymentNotFound",
    "RefundNumberTaken",
    "RefundTooLarge",
    "admin_payments",
    "alerts",
    "apply_stored",
    "checkout",
    "close_payment",
    "ledger_balance",
    "list_refunds",
    "my_payments",
    "open_alert_count",
    "paid_figures",
    "payment_for",
    "present",
    "query_due",
    "receive",
    "reconcile",
    "reconcile_due",
    "reconciliation",
    "refund",
    "request_payment",
    "resolve_alert",
    "retry_due",
    "submit_refund",
    "sweep_notifications",
    "sync",
]
