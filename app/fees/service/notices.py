"""What the fees domain tells people: a fee order paid, to the student and their guardians."""

from __future__ import annotations

from app.core import clock
from app.notifications import service as notifications
from app.notifications import templates
from app.notifications.templates import TemplateSpec
from app.users import service as users

BILLS_PAGE = "packageFees/pages/bills/bills"

PAID = templates.register(TemplateSpec(
    event="fees.paid", title="缴费成功通知", page=BILLS_PAGE,
    fields={"thing1": "student", "thing2": "items", "amount3": "amount", "time4": "at"},
))
"""To the student and their guardians: a payment of their bills went through."""


def paid(*, order_id: int, student_id: int, item_names: list[str], amount_fen: int, bill_ids: list[int]) -> int:
    """Tell the student and their guardians (once per order: a repeated call adds nothing)."""
    student = users.students([student_id])[student_id]
    names = "、".join(item_names)
    amount = f"{amount_fen / 100:.2f}"
    return notifications.notify_many(
        user_ids=users.student_and_guardian_user_ids(student_id), event=PAID.event, title="缴费成功",
        body=f"{student.name} {names} 共 {amount} 元已缴费成功", link="/" + BILLS_PAGE,
        data={"order_id": order_id, "bill_ids": bill_ids, "student": student.name, "items": names,
              "amount": f"{amount}元", "at": clock.now().isoformat()},
        idempotency_key=f"fees.paid:{order_id}")
