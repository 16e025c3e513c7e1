"""Payment and refund statuses, the transition tables, and the policy constants (pure data).

A payment: ``created`` → ``paid`` (WeChat says so: a notification or our own query) or ``closed``
(unpaid at its deadline). A paid payment with a refund under way is ``refunding``; when no refund is
under way it is ``paid``, ``partially_refunded`` or ``refunded`` by what was refunded. A success
notification repeated (WeChat retries, a query after the notification) is *ignored*: the table marks
``pay`` repeatable and the service passes the transaction id as the repeat check.

A success for a payment we already closed (the payer paid in the last second, WeChat's notification
came late) is ``pay_late``: closed → paid, then an automatic full refund — the money is never kept for
an order the domain has given up.

Roles: ``system`` (notifications, jobs, timers, a domain), ``finance`` (refunds, alerts), ``payer``
(the person who pays, relative to one payment).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from app.core.statemachine import Labels, t


class Status(StrEnum):
    CREATED = "created"
    PAID = "paid"
    CLOSED = "closed"
    REFUNDING = "refunding"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    PENDING = "pending"  # stored, not yet accepted by WeChat (or its answer was lost): resubmitted
    PROCESSING = "processing"  # WeChat accepted it; its notification (or a query) ends it
    SUCCEEDED = "succeeded"
    ABNORMAL = "abnormal"  # WeChat could not pay it back (the payer's card closed …): finance acts
    CLOSED = "closed"
    FAILED = "failed"  # WeChat refused it (PayRejected): nothing was refunded


class LedgerKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


class AlertKind(StrEnum):
    AMOUNT_MISMATCH = "amount_mismatch"
    FOREIGN_MERCHANT = "foreign_merchant"
    LATE_PAYMENT = "late_payment"
    REFUND_ABNORMAL = "refund_abnormal"
    REFUND_FAILED = "refund_failed"
    UNKNOWN_ORDER = "unknown_order"
    BILL_HASH_MISMATCH = "bill_hash_mismatch"
    RECONCILIATION = "reconciliation_mismatch"


S = Status
R = RefundStatus
SYSTEM, FINANCE, PAYER = "system", "finance", "payer"
# who may read every payment, the alerts and the reconciliation: finance, and admins (the office's heads see all);
# acting on money (refunds, resolving alerts) stays finance's alone
READERS = (FINANCE, "admin")
SETTLED = (S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED)
REFUNDABLE = (S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDING)
OPEN_REFUNDS = (R.PENDING, R.PROCESSING)

TRANSITIONS = {
    (S.CREATED, "pay"): t(S.PAID, SYSTEM, repeatable=True),
    (S.CREATED, "close"): t(S.CLOSED, SYSTEM, repeatable=True),
    (S.CLOSED, "pay_late"): t(S.PAID, SYSTEM),
    # a refund starts (several may be under way at once)
    **{(s, "refund_start"): t(S.REFUNDING, SYSTEM, FINANCE) for s in (S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDING)},
    # no refund under way any more: where the refunded amount leaves the payment
    (S.REFUNDING, "refund_partly"): t(S.PARTIALLY_REFUNDED, SYSTEM),
    (S.REFUNDING, "refund_fully"): t(S.REFUNDED, SYSTEM),
    (S.REFUNDING, "refund_none"): t(S.PAID, SYSTEM),
    # a refund WeChat reports that we never asked for (made in the merchant console)
    (S.PAID, "refund_partly"): t(S.PARTIALLY_REFUNDED, SYSTEM),
    (S.PAID, "refund_fully"): t(S.REFUNDED, SYSTEM),
    (S.PARTIALLY_REFUNDED, "refund_fully"): t(S.REFUNDED, SYSTEM),
}

REFUND_TRANSITIONS = {
    (R.PENDING, "accept"): t(R.PROCESSING, SYSTEM, repeatable=True),
    (R.PENDING, "succeed"): t(R.SUCCEEDED, SYSTEM, repeatable=True),
    (R.PROCESSING, "succeed"): t(R.SUCCEEDED, SYSTEM, repeatable=True),
    (R.PENDING, "abnormal"): t(R.ABNORMAL, SYSTEM, repeatable=True),
    (R.PROCESSING, "abnormal"): t(R.ABNORMAL, SYSTEM, repeatable=True),
    (R.PENDING, "close"): t(R.CLOSED, SYSTEM, repeatable=True),
    (R.PROCESSING, "close"): t(R.CLOSED, SYSTEM, repeatable=True),
    (R.PENDING, "fail"): t(R.FAILED, SYSTEM, repeatable=True),
}

LABELS = Labels(
    noun="支付单",
    statuses={S.CREATED: "待支付", S.PAID: "已支付", S.CLOSED: "已关闭", S.REFUNDING: "退款中",
              S.PARTIALLY_REFUNDED: "已部分退款", S.REFUNDED: "已全额退款"},
    actions={"pay": "支付", "close": "关闭", "refund_start": "退款"},
)
REFUND_LABELS = Labels(
    noun="退款",
    statuses={R.PENDING: "待提交", R.PROCESSING: "处理中", R.SUCCEEDED: "已退款", R.ABNORMAL: "异常",
              R.CLOSED: "已关闭", R.FAILED: "失败"},
    actions={"succeed": "完成", "abnormal": "标记异常", "close": "关闭"},
)

# --- policy -------------------------------------------------------------------------------------------

QUERY_TIMER = "payments.query"
CLOSE_TIMER = "payments.close"
REFUND_RETRY_TIMER = "payments.refund_retry"
QUERY_AFTER_CHECKOUT = timedelta(minutes=3)
"""No notification 3 minutes after checkout: ask WeChat ourselves."""
MIN_OPEN = timedelta(minutes=5)
"""A payment is never closed earlier than this after it was created (the payer may be paying)."""
SYNC_AFTER = timedelta(minutes=2)
"""Reading a payment still unpaid this long after creation asks WeChat (never trust the client)."""
SYNC_EVERY_SECONDS = 10
"""At most one active query per payment in this many seconds, however often the result page polls."""
REFUND_RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
"""A refund WeChat did not answer is resubmitted (same out_refund_no) after these waits (the last repeats)."""
REFUND_QUERY_AFTER = timedelta(minutes=10)
"""A refund WeChat accepted and has not reported on this long after: ask WeChat (again every time)."""
LATE_PAYMENT_REASON = "订单已关闭，自动退款"
MAX_AMOUNT_FEN = 10_000_000
"""One payment of at most 100,000 yuan: a larger one is a bug in the calling domain."""
RECONCILE_AFTER_HOUR = 10
"""WeChat's bill of a day is ready from 10:00 (+08:00) the next day; reconciliation runs after that."""
