"""The state machines of bills and fee orders, and how they are locked."""

from __future__ import annotations

from sqlalchemy import select

from app.core.db import db
from app.core.statemachine import StateMachine
from app.fees.models import FeeBill, FeeOrder
from app.fees.states import BILL_LABELS, BILL_TRANSITIONS, ORDER_LABELS, ORDER_TRANSITIONS

bills_machine = StateMachine(FeeBill, BILL_TRANSITIONS, entity="fee_bill", labels=BILL_LABELS)
orders_machine = StateMachine(FeeOrder, ORDER_TRANSITIONS, entity="fee_order", labels=ORDER_LABELS)


def lock_bills(bill_ids) -> list[FeeBill]:
    """``SELECT … FOR UPDATE`` of the bills in id order (two payers locking overlapping sets never deadlock)."""
    return list(db.session.scalars(
        select(FeeBill).where(FeeBill.id.in_(sorted(set(bill_ids)))).order_by(FeeBill.id)
        .with_for_update(of=FeeBill).execution_options(populate_existing=True)))


def lock_order(order_id: int) -> FeeOrder | None:
    return db.session.scalars(select(FeeOrder).where(FeeOrder.id == order_id).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()


def order_of(bill: FeeBill) -> FeeOrder | None:
    return db.session.get(FeeOrder, bill.order_id) if bill.order_id is not None else None
