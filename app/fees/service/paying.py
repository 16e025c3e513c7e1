"""What the payer side does — a student and their guardians: see the bills, pay several of one student
as one WeChat payment (a fee order), the receipt — and how the payments signals end a fee order."""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from flask import current_app
from sqlalchemy import case, select

from app.core import audit, clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import ValidationFailed
from app.fees.models import FeeBill, FeeOrder
from app.fees.service import notices
from app.fees.service.access import bill_for, pays_for, present, student_of
from app.fees.service.errors import BillBusy, BillNotFound, NotPaid, NotPayable, OneStudentOnly
from app.fees.service.lifecycle import bills_machine, lock_bills, lock_order, orders_machine
from app.fees.states import (
    BIZ_TYPE,
    LIST_ORDER,
    MAX_BILLS_PER_ORDER,
    ORDER_MINUTES,
    PAYER,
    SYSTEM,
    BillStatus,
    OrderStatus,
)
from app.payments import service as payments
from app.users import service as users

log = logging.getLogger(__name__)


# --- the payer's bills ------------------------------------------------------------------------------------


def my_bills(*, actor: Actor, student_id: int | None = None) -> list[dict[str, Any]]:
    """The bills of the student ``actor`` pays for (themself, or the child ``student_id``), unpaid first,
    then by due date."""
    sid = student_of(actor, student_id)
    rank = case({s.value: i for i, s in enumerate(LIST_ORDER)}, value=FeeBill.status)
    bills = list(db.session.scalars(select(FeeBill).where(FeeBill.student_id == sid)
                                    .order_by(rank, FeeBill.id.desc())))
    bills.sort(key=lambda b: (LIST_ORDER.index(b.status), b.item.due_date or clock.local_now().date(), -b.id))
    return present(bills)


def bill(*, actor: Actor, bill_id: int) -> dict[str, Any]:
    return present([bill_for(actor, bill_id)])[0]


# --- checkout -------------------------------------------------------------------------------------------


def _description(student_name: str, bills: list[FeeBill]) -> str:
    first = bills[0].item
    text = f"{student_name} {first.term} {first.name}"
    if len(bills) > 1:
        text += f"等{len(bills)}项"
    return text[:127]


def checkout(*, actor: Actor, bill_ids: list[int]) -> dict[str, Any]:
    """One fee order for several unpaid bills of one student, paid by ``actor`` as one payment, and the
    ``wx.requestPayment`` parameters. The bills are locked in id order and move to ``paying``; a bill in
    another open order is a 409; the same set again (a double tap, two at once) answers the same order."""
    ids = sorted(set(bill_ids))
    if not ids or len(ids) > MAX_BILLS_PER_ORDER:
        raise ValidationFailed(errors={"bill_ids": [f"请选择 1 到 {MAX_BILLS_PER_ORDER} 张账单"]})
    bills = lock_bills(ids)
    if len(bills) != len(ids) or not all(pays_for(actor, b.student_id) for b in bills):
        raise BillNotFound()
    if len({b.student_id for b in bills}) != 1:
        raise OneStudentOnly()
    order = _same_open_order(actor, bills, ids)
    if order is None:
        order = _new_order(actor, bills, ids)
    answer = payments.checkout(actor=actor, payment_id=order.payment_id)
    return {"order_id": order.id, "payment_id": order.payment_id, "amount_fen": order.amount_fen,
            "bill_ids": list(order.bill_ids), "params": answer["params"]}


def _same_open_order(actor: Actor, bills: list[FeeBill], ids: list[int]) -> FeeOrder | None:
    """The open order of exactly these bills by this payer (a repeat), None when all are unpaid; else 409."""
    if all(b.status == BillStatus.UNPAID for b in bills):
        return None
    order_ids = {b.order_id for b in bills}
    if all(b.status == BillStatus.PAYING for b in bills) and len(order_ids) == 1:
        order_id = order_ids.pop()
        order = db.session.get(FeeOrder, order_id) if order_id is not None else None
        if order is not None and order.status == OrderStatus.OPEN and list(order.bill_ids) == ids \
                and order.payer_id == actor.user_id:
            return order
    if any(b.status == BillStatus.PAYING for b in bills):
        raise BillBusy()
    taken = next(b for b in bills if b.status != BillStatus.UNPAID)
    raise NotPayable(message=f"账单“{taken.item.name}”{bills_machine.labels.statuses[taken.status]}，不能缴费")


def _new_order(actor: Actor, bills: list[FeeBill], ids: list[int]) -> FeeOrder:
    now = clock.now()
    student = users.students([bills[0].student_id])[bills[0].student_id]
    order = FeeOrder(student_id=student.id, payer_id=actor.user_id, amount_fen=sum(b.amount_fen for b in bills),
                     status=OrderStatus.OPEN, bill_ids=ids)
    db.session.add(order)
    db.session.flush()
    for fee_bill in bills:
        bills_machine.fire(fee_bill, "checkout", actor_id=actor.user_id, roles={PAYER},
                           values={"order_id": order.id}, data={"order_id": order.id})
    order.payment_id = payments.request_payment(
        biz_type=BIZ_TYPE, biz_id=order.id, amount_fen=order.amount_fen,
        description=_description(student.name, bills), payer=actor, expires_at=now + ORDER_MINUTES)
    db.session.flush()
    audit.record("fee_order", order.id, "create", actor_id=actor.user_id,
                 data={"bill_ids": ids, "amount_fen": order.amount_fen, "payment_id": order.payment_id})
    return order


# --- the payments signals -----------------------------------------------------------------------------------


def _receipt_no(fee_bill: FeeBill) -> str:
    return f"SF{clock.to_local(clock.now()):%Y%m%d}{fee_bill.id:08d}"


def order_paid(*, order_id: int, payer_id: int, transaction_id: str | None) -> bool:
    """``payment_succeeded`` of a fee order: its bills paid with receipt numbers, the student and the
    guardians told. A repeat changes nothing."""
    order = lock_order(order_id)
    if order is None or order.status == OrderStatus.PAID:
        return False
    now = clock.now()
    orders_machine.fire(order, "pay", actor_id=None, roles={SYSTEM},
                        values={"paid_at": now, "transaction_id": transaction_id})
    bills = lock_bills(order.bill_ids)
    for fee_bill in bills:
        if fee_bill.status == BillStatus.PAYING and fee_bill.order_id == order.id:
            bills_machine.fire(fee_bill, "pay", actor_id=None, roles={SYSTEM},
                               values={"paid_at": now, "paid_by": payer_id, "receipt_no": _receipt_no(fee_bill)})
        else:  # cannot happen while the order was open; say so rather than lose money silently
            log.error("fee order paid with a bill not paying in it", extra={"order_id": order.id,
                                                                          "bill_id": fee_bill.id})
    notices.paid(order_id=order.id, student_id=order.student_id, item_names=[b.item.name for b in bills],
                 amount_fen=order.amount_fen, bill_ids=list(order.bill_ids))
    return True


def order_closed(*, order_id: int) -> bool:
    """``payment_closed`` of a fee order: its bills unpaid again (payable anew). A repeat changes nothing."""
    order = lock_order(order_id)
    if order is None or order.status != OrderStatus.OPEN:
        return False
    orders_machine.fire(order, "close", actor_id=None, roles={SYSTEM})
    for fee_bill in lock_bills(order.bill_ids):
        if fee_bill.status == BillStatus.PAYING and fee_bill.order_id == order.id:
            bills_machine.fire(fee_bill, "release", actor_id=None, roles={SYSTEM}, values={"order_id": None})
    return True


def bill_refunded(*, refund_id: int) -> bool:
    """``refund_succeeded`` of a refund finance asked for a bill: the bill is ``refunded``. A repeat (or a
    refund that is no bill's) changes nothing."""
    fee_bill = db.session.scalars(select(FeeBill).where(FeeBill.refund_id == refund_id).with_for_update(of=FeeBill)
                                  .execution_options(populate_existing=True)).one_or_none()
    if fee_bill is None or fee_bill.status != BillStatus.PAID:
        return False
    bills_machine.fire(fee_bill, "refund", actor_id=None, roles={SYSTEM}, data={"refund_id": refund_id})
    return True


# --- the receipt --------------------------------------------------------------------------------------------


def receipt_html(*, actor: Actor, bill_id: int) -> str:
    """A printable receipt (收据) of a paid bill, for the payer's side and finance."""
    fee_bill = bill_for(actor, bill_id)
    if fee_bill.status not in (BillStatus.PAID, BillStatus.REFUNDED) or fee_bill.receipt_no is None:
        raise NotPaid()
    order = db.session.get(FeeOrder, fee_bill.order_id)
    shown = present([fee_bill])[0]
    student = shown["student"]
    paid_at = clock.to_local(fee_bill.paid_at).strftime("%Y-%m-%d %H:%M:%S")
    school = current_app.config.get("SCHOOL_NAME", "")
    rows = [("学校", school), ("学生", f"{student['name']}（{student['number']}）"), ("班级", student["class_name"]),
            ("收费项目", f"{fee_bill.item.term} {fee_bill.item.name}（{fee_bill.item.category}）"),
            ("金额", f"¥{fee_bill.amount_fen / 100:.2f} 元"), ("缴费时间", paid_at),
            ("收据编号", fee_bill.receipt_no), ("微信支付单号", order.transaction_id if order else "")]
    if fee_bill.status == BillStatus.REFUNDED:
        rows.append(("状态", "已退费"))
    cells = "\n".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v or ''))}</td></tr>" for k, v in rows)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>缴费收据 {escape(fee_bill.receipt_no)}</title>
<style>body{{font-family:sans-serif;max-width:640px;margin:2em auto}}table{{width:100%;border-collapse:collapse}}
th,td{{border:1px solid #333;padding:.5em;text-align:left}}th{{width:30%}}@media print{{button{{display:none}}}}</style>
</head><body><h1>{escape(school)} 缴费收据</h1><table>
{cells}
</table><p><button onclick="window.print()">打印</button></p></body></html>"""
