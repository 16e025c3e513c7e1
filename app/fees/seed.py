"""Demo fee items for ``flask seed-demo``: 2026秋 学费、住宿费、教材费 billed to 高一's students, so the
demo student and parent (陈同学) see three unpaid bills. Idempotent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core import clock
from app.core.db import db
from app.fees.models import FeeBill, FeeItem
from app.fees.states import BillStatus
from app.users import service as users

DEMO_TERM = "2026秋"
DEMO_ITEMS = [
    ("学费", "学费", 480000, date(2026, 10, 31), "2026 年秋季学期学费"),
    ("住宿费", "住宿费", 120000, date(2026, 10, 31), "2026 年秋季学期住宿费"),
    ("教材费", "教材费", 35650, date(2026, 11, 15), "高一上学期教材、教辅"),
]
DEMO_CLASSES = ["高一(1)班", "高一(2)班"]


def seed_demo() -> None:
    class_ids = [c.id for c in users.list_classes() if c.name in DEMO_CLASSES]
    students = users.students_of(class_ids=class_ids)
    now = clock.now()
    for name, category, amount_fen, due, description in DEMO_ITEMS:
        fee_item = db.session.scalars(select(FeeItem).where(FeeItem.name == name, FeeItem.term == DEMO_TERM)).first()
        if fee_item is None:
            fee_item = FeeItem(name=name, category=category, amount_fen=amount_fen, term=DEMO_TERM, due_date=due,
                               description=description)
            db.session.add(fee_item)
            db.session.flush()
        if students:
            db.session.execute(insert(FeeBill).values([
                {"item_id": fee_item.id, "student_id": s.id, "amount_fen": amount_fen, "status": BillStatus.UNPAID,
                 "created_at": now, "updated_at": now} for s in students])
                .on_conflict_do_nothing(index_elements=["item_id", "student_id"]))
