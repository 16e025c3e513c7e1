"""Fixtures of the fees tests: the demo's finance, student and parent logged in, the demo bills of 陈同学
(2026秋 学费、住宿费、教材费), and helpers to pay a fee order at the simulator."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.db import db
from app.fees.models import FeeBill, FeeItem, FeeOrder
from app.payments.models import Payment
from app.users.models import Guardianship, Student, User
from tests.conftest import drain
from tests.payments.conftest import delivered


@pytest.fixture
def stranger(login):
    return login("teacher")


def student_id(number: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(Student.id).where(Student.number == number))


def add_child(user_id: int, number: str) -> int:
    """Bind the user as a guardian of the student ``number`` too; the student's id."""
    sid = student_id(number)
    db.session.add(Guardianship(user_id=user_id, student_id=sid, relation="父亲"))
    db.session.commit()
    return sid


def user_id_of(openid_role: str) -> int:
    return db.session.scalar(select(User.id).where(User.openid == f"demo-openid-{openid_role}"))


@pytest.fixture
def chen_bills(app, demo) -> list[int]:
    """The ids of 陈同学's three demo bills (学费 4800.00、住宿费 1200.00、教材费 356.50)."""
    sid = student_id("S2026001")
    return list(db.session.scalars(select(FeeBill.id).where(FeeBill.student_id == sid).order_by(FeeBill.id)))


def fresh(model, ident):
    db.session.rollback()
    return db.session.get(model, ident)


def bills(ids) -> list[FeeBill]:
    db.session.rollback()
    return list(db.session.scalars(select(FeeBill).where(FeeBill.id.in_(ids)).order_by(FeeBill.id)))


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def new_item(finance, **values) -> dict:
    body = {"name": "校服", "category": "校服费", "amount_fen": 26000, "term": "2026秋", "due_date": "2026-11-30",
            **values}
    resp = finance.post("/api/v1/fees/items", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def pay(app, sim, payment_id: int) -> None:
    """The payer pays at WeChat; its notification is delivered and applied by a real worker."""
    note = sim.pay_order(fresh(Payment, payment_id).out_trade_no)
    delivered(sim, note["notification_id"])
    drain(app)


__all__ = ["FeeBill", "FeeItem", "FeeOrder", "Payment"]
