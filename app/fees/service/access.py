"""Who may see a bill (the student, the student's guardians, finance) and how bills are shown.
Anyone else gets a 404, never its data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.auth import Actor, require_roles
from app.core.db import db
from app.fees.models import FeeBill, FeeItem, FeeOrder
from app.fees.service.errors import BillNotFound, ItemNotFound, StudentNotFound
from app.fees.states import FINANCE, FINANCE_ROLES, PAYER
from app.users import service as users


def is_finance(actor: Actor | None) -> bool:
    return actor is not None and actor.has_any(*FINANCE_ROLES)


def require_finance(actor: Actor) -> None:
    require_roles(actor, *FINANCE_ROLES, error_code="fees.forbidden", message="仅财务人员可以执行此操作")


def pays_for(actor: Actor, student_id: int) -> bool:
    """The student themself or one of their guardians."""
    return actor.student_id == student_id or student_id in actor.child_student_ids


def roles_on(actor: Actor | None, bill: FeeBill) -> set[str]:
    if actor is None:
        return {"system"}
    roles = set()
    if pays_for(actor, bill.student_id):
        roles.add(PAYER)
    if is_finance(actor):
        roles.add(FINANCE)
    return roles


def bill_for(actor: Actor | None, bill_id: int, *, lock: bool = False) -> FeeBill:
    """The bill if ``actor`` may see it (``None``: the system), else 404."""
    stmt = select(FeeBill).where(FeeBill.id == bill_id)
    if lock:
        stmt = stmt.with_for_update(of=FeeBill).execution_options(populate_existing=True)
    bill = db.session.scalars(stmt).one_or_none()
    if bill is None or not roles_on(actor, bill):
        raise BillNotFound()
    return bill


def item(item_id: int) -> FeeItem:
    found = db.session.get(FeeItem, item_id)
    if found is None:
        raise ItemNotFound()
    return found


def student_of(actor: Actor, student_id: int | None) -> int:
    """Whose bills ``actor`` means: ``student_id`` if they pay for that student (else 404), else the
    student themself, else their only child; a parent of several children must say which."""
    if student_id is not None:
        if not pays_for(actor, student_id):
            raise StudentNotFound()
        return student_id
    if actor.student_id is not None:
        return actor.student_id
    if len(actor.child_student_ids) == 1:
        return next(iter(actor.child_student_ids))
    if not actor.child_student_ids:
        raise StudentNotFound("fees.no_student", "当前账号未绑定学生")
    raise StudentNotFound("fees.choose_student", "请选择孩子")


def present(bills: list[FeeBill]) -> list[dict[str, Any]]:
    """Bills as the API shows them, with their item and student (one roster query)."""
    infos = users.students([b.student_id for b in bills])
    payers = users.display_names([b.paid_by for b in bills if b.paid_by])
    paid_orders = sorted({b.order_id for b in bills if b.paid_at is not None and b.order_id is not None})
    transactions = dict(db.session.execute(select(FeeOrder.id, FeeOrder.transaction_id)
                                           .where(FeeOrder.id.in_(paid_orders))).all()) if paid_orders else {}
    out = []
    for bill in bills:
        info = infos.get(bill.student_id)
        out.append({
            "id": bill.id, "status": bill.status, "amount_fen": bill.amount_fen,
            "item": bill.item,
            "student": {"id": bill.student_id, "number": info.number if info else "",
                        "name": info.name if info else "", "class_name": info.class_name if info else ""},
            "order_id": bill.order_id, "paid_at": bill.paid_at, "paid_by_name": payers.get(bill.paid_by),
            "receipt_no": bill.receipt_no, "transaction_id": transactions.get(bill.order_id) if bill.paid_at else None,
            "note": bill.note, "refund_requested": bill.refund_id is not None,
        })
    return out
