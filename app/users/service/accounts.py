"""WeChat users and the actors they become: the user a login finds or creates, the per-request
``Actor`` with its roles, and what a user sees of themselves (``profile``, 我的)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import insert

from app.core.auth import ROLES, Actor
from app.core.db import db, fetch, prebuilt
from app.users.models import Guardianship, StaffMember, Student, User, mask_phone
from app.users.service.guardians import decides_guardians, pending_to_decide


def get_or_create_wechat_user(*, openid: str, unionid: str | None) -> User:
    """The user of this openid, created on first login; safe when two logins race."""
    db.session.execute(
        insert(User).values(openid=openid, unionid=unionid).on_conflict_do_nothing(index_elements=["openid"])
    )
    user = db.session.scalars(select(User).where(User.openid == openid)).one()
    if unionid and user.unionid != unionid:
        user.unionid = unionid
    return user


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def _children(user_id: int) -> list[Student]:
    stmt = select(Student).join(Guardianship, Guardianship.student_id == Student.id).where(
        Guardianship.user_id == user_id, Student.active.is_(True)).order_by(Student.number)
    return list(db.session.scalars(stmt))


def roles_of(user: User, children: list[Student]) -> frozenset[str]:
    roles: set[str] = set()
    if user.staff is not None and user.staff.active:
        roles.update(user.staff.roles or [])
    if user.student is not None and user.student.active:
        roles.add("student")
    if children:
        roles.add("parent")
    return frozenset(roles)


_STAFF = StaffMember.__table__.alias("staff")
_STUDENT = Student.__table__.alias("student")
_ACTOR_QUERY = prebuilt(
    select(User.id, User.active, User.nickname,
           _STAFF.c.id, _STAFF.c.active, _STAFF.c.roles, _STAFF.c.name, _STAFF.c.department_id,
           _STUDENT.c.id, _STUDENT.c.active, _STUDENT.c.name, _STUDENT.c.class_id,
           select(func.coalesce(func.array_agg(Student.id), text("'{}'")))
           .select_from(Guardianship).join(Student, Student.id == Guardianship.student_id)
           .where(Guardianship.user_id == User.id, Student.active.is_(True)).scalar_subquery())
    .select_from(User)
    .outerjoin(_STAFF, _STAFF.c.id == User.staff_id)
    .outerjoin(_STUDENT, _STUDENT.c.id == User.student_id)
    .where(User.id == bindparam("actor_user_id"))
)
"""Built once: every authenticated request runs it."""


@functools.cache
def _gated(gate: ColumnElement[bool]) -> Select:
    """The actor query with ``gate``: the auth layer builds its own at import (``prebuild_gate``)."""
    return prebuilt(_ACTOR_QUERY.add_columns(gate.label("gate")))


def prebuild_gate(gate: ColumnElement[bool]) -> None:
    """Build the actor query with ``gate`` now, at import, so that it is compiled with the other prebuilt
    statements when the app starts rather than on the first request."""
    _gated(gate)


def load_actor(user_id: int, session_id: str | None = None, *, gate: ColumnElement[bool] | None = None,
               gate_params: dict[str, Any] | None = None) -> Actor | None:
    """The Actor for a token's user, or None when the user is gone or disabled (or ``gate`` is false).

    Every authenticated request runs this, so it is one prebuilt Core query (user, staff, student and
    the active children as an array) run by ``fetch`` rather than three ORM loads: on the
    check-in benchmark the ORM version cost more than the check-in itself. ``gate`` is a boolean SQL
    expression a caller above this layer needs checked in the same round trip (the auth layer's
    "this login session is live"), with its bind parameters in ``gate_params``.
    """
    stmt = _ACTOR_QUERY if gate is None else _gated(gate)
    rows = fetch(stmt, {"actor_user_id": user_id, **(gate_params or {})})
    row = rows[0] if rows else None
    if row is None or not row[1] or (gate is not None and not row.gate):
        return None
    (uid, _active, nickname, staff_id, staff_active, staff_roles, staff_name, department_id,
     student_id, student_active, student_name, class_id, child_ids) = row[:13]
    roles: set[str] = set()
    if staff_id is not None and staff_active:
        roles.update(staff_roles or [])
    if student_id is not None and student_active:
        roles.add("student")
    if child_ids:
        roles.add("parent")
    return Actor(
        user_id=uid,
        roles=frozenset(roles),
        bound=bool(roles),
        name=(staff_name if staff_id is not None else student_name if student_id is not None else nickname or ""),
        session_id=session_id,
        staff_id=staff_id if staff_id is not None and staff_active else None,
        student_id=student_id if student_id is not None and student_active else None,
        department_id=department_id if staff_id is not None else None,
        class_id=class_id if student_id is not None else None,
        child_student_ids=frozenset(child_ids or ()),
    )


@dataclass
class Profile:
    id: int
    nickname: str | None
    roles: list[str]
    bound: bool
    phone_masked: str | None
    person: dict | None
    children: list[dict]
    student_id: int | None = None
    decides_guardians: bool = False
    guardian_requests_to_decide: int = 0


def profile(*, user_id: int) -> Profile:
    """What the user sees of themselves (我的)."""
    user = db.session.get(User, user_id)
    children = _children(user.id)
    person = None
    if user.staff is not None:
        person = {"kind": "staff", "name": user.staff.name, "number": user.staff.number,
                  "department": user.staff.department.name if user.staff.department else None, "class_name": None}
    elif user.student is not None:
        person = {"kind": "student", "name": user.student.name, "number": user.student.number,
                  "department": None, "class_name": user.student.school_class.name}
    elif children:
        person = {"kind": "parent", "name": user.nickname or f"{children[0].name}的家长", "number": None,
                  "department": None, "class_name": None}
    roles = sorted(roles_of(user, children), key=ROLES.index)
    actor = load_actor(user.id)
    decides = actor is not None and decides_guardians(actor)
    return Profile(
        id=user.id,
        nickname=user.nickname or (person["name"] if person else None),
        roles=roles,
        bound=bool(roles),
        phone_masked=mask_phone(user.phone or (user.staff.phone if user.staff else None)),
        person=person,
        children=[{"id": c.id, "name": c.name, "number": c.number, "class_name": c.school_class.name}
                  for c in children],
        student_id=user.student.id if user.student is not None and user.student.active else None,
        decides_guardians=decides,
        guardian_requests_to_decide=pending_to_decide(actor) if decides else 0,
    )
