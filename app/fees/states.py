"""Fee bill and fee order statuses, their transition tables, labels and policy constants (pure data).

A bill: ``unpaid`` → ``paying`` (its payer checked it out in a fee order) → ``paid`` (the order's payment
succeeded) or back to ``unpaid`` (the payment closed unpaid). Finance ``waive``s an unpaid bill or
``adjust``s its amount (a move to itself, so the compare-and-set and the audit row come with it); a paid
bill finance refunds is ``refunded`` when the refund succeeds. A repeated payments signal is ignored.

A fee order (several bills of one student paid as one WeChat payment): ``open`` → ``paid`` | ``closed``.

Roles: ``finance`` (finance staff and admins), ``payer`` (the student or a guardian, relative to a bill),
``system`` (the payments signals).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from app.core.statemachine import Labels, t


class BillStatus(StrEnum):
    UNPAID = "unpaid"
    PAYING = "paying"
    PAID = "paid"
    WAIVED = "waived"
    REFUNDED = "refunded"


class OrderStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    CLOSED = "closed"


class Category(StrEnum):
    TUITION = "学费"
    BOARDING = "住宿费"
    TEXTBOOKS = "教材费"
    UNIFORM = "校服费"
    OTHER = "其他"


B = BillStatus
O = OrderStatus  # noqa: E741
SYSTEM, FINANCE, PAYER = "system", "finance", "payer"
FINANCE_ROLES = ("finance", "admin")
"""Who works as finance on fees."""

BIZ_TYPE = "fees.order"
ORDER_MINUTES = timedelta(minutes=30)
"""How long a fee order's payment stays open."""
MAX_BILL_FEN = 10_000_000
"""A bill's largest amount (100 000 元), the payments domain's limit for one payment too."""
MAX_BILLS_PER_ORDER = 20

BILL_TRANSITIONS = {
    (B.UNPAID, "checkout"): t(B.PAYING, PAYER),
    (B.PAYING, "release"): t(B.UNPAID, SYSTEM),
    (B.PAYING, "pay"): t(B.PAID, SYSTEM, repeatable=True),
    (B.UNPAID, "waive"): t(B.WAIVED, FINANCE),
    (B.UNPAID, "adjust"): t(B.UNPAID, FINANCE),
    (B.PAID, "refund"): t(B.REFUNDED, SYSTEM, repeatable=True),
}

ORDER_TRANSITIONS = {
    (O.OPEN, "pay"): t(O.PAID, SYSTEM, repeatable=True),
    (O.OPEN, "close"): t(O.CLOSED, SYSTEM, repeatable=True),
}

BILL_LABELS = Labels("账单", {B.UNPAID: "待缴费", B.PAYING: "支付中", B.PAID: "已缴费", B.WAIVED: "已减免",
                              B.REFUNDED: "已退费"},
                     {"checkout": "缴费", "waive": "减免", "adjust": "调整金额", "refund": "退费", "pay": "入账",
                      "release": "释放"})
ORDER_LABELS = Labels("缴费单", {O.OPEN: "待支付", O.PAID: "已支付", O.CLOSED: "已关闭"},
                      {"pay": "入账", "close": "关闭"})

LIST_ORDER = [B.UNPAID, B.PAYING, B.PAID, B.REFUNDED, B.WAIVED]
"""How a payer's bills are listed: unpaid first."""
