"""Shared by the scenarios that need people on the roster: students bound to users (openids
``<prefix>-<number>``), inserted in bulk."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core.db import db
from app.users.models import SchoolClass, Student, User


def seed_students(prefix: str, numbers: list[str], name: str) -> None:
    """A roster student per number (named ``<name><n>``, in the first class) and a user bound to each."""
    class_id = db.session.scalar(select(SchoolClass.id).order_by(SchoolClass.id).limit(1))
    db.session.execute(insert(Student).values([{"number": n, "name": f"{name}{i}", "class_id": class_id}
                                               for i, n in enumerate(numbers)])
                       .on_conflict_do_nothing(index_elements=["number"]))
    students = dict(db.session.execute(select(Student.number, Student.id).where(Student.number.in_(numbers))).all())
    db.session.execute(insert(User).values([{"openid": f"{prefix}-{n}", "student_id": students[n]} for n in numbers])
                       .on_conflict_do_nothing(index_elements=["openid"]))
