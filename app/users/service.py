"""Rules about people: WeChat users, binding to the roster, roles, roster imports.

Keyword-only functions taking the actor explicitly; they flush, never commit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, any_, bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert

from app.core import audit
from app.core.auth import ROLE_LABELS, ROLES, Actor, require_roles
from app.core.db import db
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.pagination import PageParams, paginate
from app.core.sheets import ImportResult, RowErrors, duplicates, read_rows
from app.users import events
from app.users.models import (
    Department,
    Guardianship,
    SchoolClass,
    StaffMember,
    Student,
    User,
    mask_phone,
)
from app.users.states import (
    MAX_CHILDREN_PER_PARENT,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    STAFF_COLUMNS,
    STAFF_ROLES,
    STUDENT_COLUMNS,
    BindKind,
)
from app.wechat import client as wx
from app.wechat import gateway
from app.wechat.errors import InvalidCode, WeChatError
from app.wechat.gateway import WeChatUnavailable

_LABEL_TO_ROLE = {label: key for key, label in ROLE_LABELS.items()}


class RosterNotFound(NotFound):
    error_code = "users.roster_not_found"
    message = "未在花名册中找到此人，请核对工号/学号和姓名"


class AlreadyBound(Conflict):
    error_code = "users.already_bound"
    message = "该身份已被其他微信账号绑定，如有疑问请联系后勤处"


# --- users and actors -----------------------------------------------------------------------------


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
_ACTOR_QUERY = (
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
    return _ACTOR_QUERY.add_columns(gate.label("gate"))


def load_actor(user_id: int, session_id: str | None = None, *, gate: ColumnElement[bool] | None = None,
               gate_params: dict[str, Any] | None = None) -> Actor | None:
    """The Actor for a token's user, or None when the user is gone or disabled (or ``gate`` is false).

    Every authenticated request runs this, so it is one prebuilt Core query (user, staff, student and
    the active children as an array) on the session's connection rather than three ORM loads: on the
    check-in benchmark the ORM version cost more than the check-in itself. ``gate`` is a boolean SQL
    expression a caller above this layer needs checked in the same round trip (the auth layer's
    "this login session is live"), with its bind parameters in ``gate_params``.
    """
    db.session.flush()  # the query bypasses the ORM: make pending changes visible to it
    stmt = _ACTOR_QUERY if gate is None else _gated(gate)
    row = db.session.connection().execute(stmt, {"actor_user_id": user_id, **(gate_params or {})}).first()
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


@dataclass(frozen=True)
class Contact:
    """How to reach a user on WeChat's channels."""

    user_id: int
    openid: str
    staff_number: str | None  # the WeCom UserID by convention (staff are imported with it)
    name: str


def contact(user_id: int) -> Contact | None:
    return contacts([user_id]).get(user_id)


def contacts(user_ids: list[int]) -> dict[int, Contact]:
    """``contact`` for many users in one query (the notification worker's batches)."""
    if not user_ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(set(user_ids)), User.active.is_(True)))
    out = {}
    for user in users:
        staff = user.staff if user.staff is not None and user.staff.active else None
        name = staff.name if staff else user.student.name if user.student else user.nickname or ""
        out[user.id] = Contact(user_id=user.id, openid=user.openid, staff_number=staff.number if staff else None,
                               name=name)
    return out


def users_with_roles(*roles: str) -> list[int]:
    """Ids of active users holding any of ``roles`` (who to tell about a queue, a notice's audience)."""
    staff_roles = [r for r in roles if r in STAFF_ROLES]
    conditions = []
    if staff_roles:
        conditions.append(User.staff_id.in_(select(StaffMember.id).where(
            StaffMember.active.is_(True), StaffMember.roles.overlap(staff_roles))))
    if "student" in roles:
        conditions.append(User.student_id.in_(select(Student.id).where(Student.active.is_(True))))
    if "parent" in roles:
        conditions.append(User.id.in_(select(Guardianship.user_id)))
    if not conditions:
        return []
    stmt = select(User.id).where(User.active.is_(True), or_(*conditions)).order_by(User.id)
    return list(db.session.scalars(stmt))


def staff_user_ids(*, department_ids: list[int] | None = None) -> list[int]:
    """Active users bound to active staff members: all of them, or those of ``department_ids``."""
    stmt = (select(User.id).join(StaffMember, StaffMember.id == User.staff_id)
            .where(User.active.is_(True), StaffMember.active.is_(True)).order_by(User.id))
    if department_ids is not None:
        stmt = stmt.where(StaffMember.department_id.in_(department_ids))
    return list(db.session.scalars(stmt))


def class_user_ids(class_ids: list[int], *, parents: bool = False) -> list[int]:
    """Active users who are students of ``class_ids`` (or, with ``parents``, their guardians)."""
    students = select(Student.id).where(Student.class_id.in_(class_ids), Student.active.is_(True))
    if parents:
        stmt = select(Guardianship.user_id).join(User, User.id == Guardianship.user_id).where(
            Guardianship.student_id.in_(students), User.active.is_(True))
    else:
        stmt = select(User.id).where(User.student_id.in_(students), User.active.is_(True))
    return sorted(set(db.session.scalars(stmt)))


@dataclass(frozen=True)
class Person:
    """Who a user is on the roster, as lists and exports show them."""

    user_id: int
    name: str
    number: str | None
    department_id: int | None
    is_staff: bool


def people(user_ids: list[int]) -> list[Person]:
    """The active users among ``user_ids`` with their roster name, number and department."""
    if not user_ids:
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(user_ids), User.active.is_(True))
                                    .order_by(User.id)))
    others = [u.id for u in users if u.staff_id is None and u.student_id is None]
    child_names: dict[int, str] = {}
    if others:
        rows = db.session.execute(select(Guardianship.user_id, Student.name).join(
            Student, Student.id == Guardianship.student_id).where(Guardianship.user_id.in_(others))
            .order_by(Student.number)).all()
        for parent_id, child in rows:
            child_names.setdefault(parent_id, child)
    out = []
    for user in users:
        staff = user.staff if user.staff is not None and user.staff.active else None
        student = user.student if user.student is not None and user.student.active else None
        if staff is not None:
            out.append(Person(user.id, staff.name, staff.number, staff.department_id, True))
        elif student is not None:
            out.append(Person(user.id, student.name, student.number, None, False))
        else:
            name = f"{child_names[user.id]}的家长" if user.id in child_names else user.nickname or "家长"
            out.append(Person(user.id, name, None, None, False))
    return out
def display_names(user_ids) -> dict[int, str]:
    """``{user_id: name}`` for showing people in lists (roster name, else nickname); one query."""
    ids = sorted({int(i) for i in user_ids if i is not None})
    if not ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(ids)))
    return {u.id: (u.staff.name if u.staff else u.student.name if u.student else u.nickname or f"用户{u.id}")
            for u in users}


def with_role(user_ids, role: str) -> set[int]:
    """Those of ``user_ids`` who are active and hold the staff ``role`` now (e.g. still a worker)."""
    ids = sorted({int(i) for i in user_ids if i is not None})
    if not ids or role not in STAFF_ROLES:
        return set()
    stmt = select(User.id).join(StaffMember, StaffMember.id == User.staff_id).where(
        User.id.in_(ids), User.active.is_(True), StaffMember.active.is_(True), any_(StaffMember.roles) == role)
    return set(db.session.scalars(stmt))


@dataclass
class Profile:
    id: int
    nickname: str | None
    roles: list[str]
    bound: bool
    phone_masked: str | None
    person: dict | None
    children: list[dict]


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
    return Profile(
        id=user.id,
        nickname=user.nickname or (person["name"] if person else None),
        roles=roles,
        bound=bool(roles),
        phone_masked=mask_phone(user.phone or (user.staff.phone if user.staff else None)),
        person=person,
        children=[{"id": c.id, "name": c.name, "number": c.number, "class_name": c.school_class.name}
                  for c in children],
    )


# --- binding ---------------------------------------------------------------------------------------


def _same_name(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def bind_with_phone_code(*, actor: Actor, kind: str, number: str, name: str, phone_code: str | None) -> None:
    """``bind`` after exchanging the mini-program's phone code for the number WeChat verified."""
    phone = None
    if phone_code:
        try:
            phone = wx.get_phone_number(gateway.mini_program(), phone_code)
        except InvalidCode as exc:
            raise ValidationFailed("users.invalid_phone_code", "手机号授权已失效，请重新授权",
                                   errors={"phone_code": ["授权已失效"]}) from exc
        except WeChatError as exc:
            raise WeChatUnavailable() from exc
    bind(actor=actor, kind=kind, number=number, name=name, phone=phone)


def bind(*, actor: Actor, kind: str, number: str, name: str, phone: str | None = None) -> None:
    """Bind the actor's WeChat account to the roster. ``phone`` is the number WeChat verified (the
    caller exchanged the phone code); required when the roster has a phone for that staff member."""
    user = db.session.get(User, actor.user_id)
    kind = BindKind(kind)
    if kind is BindKind.STAFF:
        _bind_staff(user, number, name, phone)
    elif kind is BindKind.STUDENT:
        _bind_student(user, number, name)
    else:
        _bind_parent(user, number, name)
    if phone:
        user.phone = phone
    db.session.flush()
    audit.record("user", user.id, "bind", actor_id=user.id, after={"kind": str(kind), "number": number})
    events.user_bound.send(user.id, kind=str(kind))


def _find(model, number: str, name: str):
    person = db.session.scalars(select(model).where(model.number == number.strip(), model.active.is_(True))).first()
    if person is None or not _same_name(person.name, name):
        raise RosterNotFound()
    return person


def _bind_staff(user: User, number: str, name: str, phone: str | None) -> None:
    staff = _find(StaffMember, number, name)
    if user.staff_id == staff.id:
        return
    if user.staff_id is not None:
        raise Conflict("users.already_bound", "你的微信已绑定其他教职工身份，如需更换请联系后勤处")
    if staff.phone and phone != staff.phone:
        raise ValidationFailed("users.phone_mismatch", "手机号与花名册登记的不一致，请使用登记的手机号授权",
                               errors={"phone_code": ["手机号与花名册登记的不一致"]})
    if db.session.scalar(select(User.id).where(User.staff_id == staff.id)) is not None:
        raise AlreadyBound()
    user.staff_id = staff.id


def _bind_student(user: User, number: str, name: str) -> None:
    student = _find(Student, number, name)
    if user.student_id == student.id:
        return
    if user.student_id is not None:
        raise Conflict("users.already_bound", "你的微信已绑定其他学生身份，如需更换请联系后勤处")
    if db.session.scalar(select(User.id).where(User.student_id == student.id)) is not None:
        raise AlreadyBound()
    user.student_id = student.id


def _bind_parent(user: User, number: str, name: str) -> None:
    student = _find(Student, number, name)
    existing = db.session.scalar(select(Guardianship.id).where(
        Guardianship.user_id == user.id, Guardianship.student_id == student.id))
    if existing is not None:
        return
    count = db.session.scalar(select(func.count()).select_from(Guardianship).where(Guardianship.user_id == user.id))
    if count >= MAX_CHILDREN_PER_PARENT:
        raise ValidationFailed("users.too_many_children", f"一个微信最多绑定 {MAX_CHILDREN_PER_PARENT} 个孩子")
    db.session.execute(insert(Guardianship).values(user_id=user.id, student_id=student.id)
                       .on_conflict_do_nothing(index_elements=["user_id", "student_id"]))


# --- organisation and roster -----------------------------------------------------------------------


def list_departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.id)))


def list_classes() -> list[SchoolClass]:
    return list(db.session.scalars(select(SchoolClass).order_by(SchoolClass.grade_id, SchoolClass.id)))


def list_staff(*, actor: Actor, params: PageParams, q: str | None = None, role: str | None = None) -> list:
    require_roles(actor, "admin")
    stmt = select(StaffMember).order_by(StaffMember.number)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(StaffMember.name.ilike(like) | StaffMember.number.ilike(like))
    if role:
        stmt = stmt.where(any_(StaffMember.roles) == role)
    return paginate(stmt, params)


def set_staff_roles(*, actor: Actor, staff_id: int, roles: list[str]) -> StaffMember:
    require_roles(actor, "admin")
    staff = db.session.get(StaffMember, staff_id)
    if staff is None:
        raise NotFound("users.staff_not_found", "未找到该教职工")
    unknown = sorted(set(roles) - set(STAFF_ROLES))
    if unknown:
        raise ValidationFailed(errors={"roles": [f"未知角色：{', '.join(unknown)}"]})
    if not roles:
        raise ValidationFailed(errors={"roles": ["至少保留一个角色"]})
    if staff.id == actor.staff_id and "admin" not in roles:
        raise ValidationFailed("users.cannot_drop_own_admin", "不能取消自己的管理员角色")
    before = sorted(staff.roles or [])
    staff.roles = sorted(set(roles), key=ROLES.index)
    db.session.flush()
    audit.record("staff_member", staff.id, "set_roles", actor_id=actor.user_id,
                 before={"roles": before}, after={"roles": staff.roles})
    events.roles_changed.send(staff.id, before=before, after=staff.roles)
    return staff


def _parse_roles(text: str) -> list[str] | None:
    if not text:
        return ["teacher"]
    roles = []
    for part in text.replace("，", ",").replace("、", ",").split(","):
        part = part.strip()
        if not part:
            continue
        role = part if part in STAFF_ROLES else _LABEL_TO_ROLE.get(part)
        if role is None or role not in STAFF_ROLES:
            return None
        roles.append(role)
    return sorted(set(roles), key=ROLES.index) or ["teacher"]


def import_staff(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportResult:
    """Create or update staff from an xlsx (工号, 姓名, 部门, 手机号, 角色): all rows or none."""
    require_roles(actor, "admin")
    rows = read_rows(data, STAFF_COLUMNS, max_rows=MAX_IMPORT_ROWS, max_bytes=MAX_IMPORT_BYTES)
    departments = {d.name: d.id for d in list_departments()}
    errors = RowErrors()
    duplicates(rows, "number", errors, "工号", "工号重复")
    parsed = []
    for number, r in rows:
        if not r["number"]:
            errors.add(number, "工号", "缺少工号")
        if not r["name"]:
            errors.add(number, "姓名", "缺少姓名")
        if r["department"] and r["department"] not in departments:
            errors.add(number, "部门", f"未知部门“{r['department']}”")
        if r["phone"] and not (r["phone"].isdigit() and len(r["phone"]) == 11):
            errors.add(number, "手机号", "手机号应为 11 位数字")
        roles = _parse_roles(r["roles"])
        if roles is None:
            errors.add(number, "角色", f"无法识别的角色“{r['roles']}”")
        parsed.append((r, roles))
    errors.raise_if_any("users.import_invalid", f"表格有 {len(errors.errors)} 处错误，未导入任何数据")
    return _upsert(StaffMember, [
        {"number": r["number"], "name": r["name"], "department_id": departments.get(r["department"]),
         "phone": r["phone"] or None, "roles": roles}
        for r, roles in parsed
    ], actor=actor, dry_run=dry_run, entity="staff_import")


def import_students(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportResult:
    """Create or update students from an xlsx (学号, 姓名, 班级): all rows or none."""
    require_roles(actor, "admin")
    rows = read_rows(data, STUDENT_COLUMNS, max_rows=MAX_IMPORT_ROWS, max_bytes=MAX_IMPORT_BYTES)
    classes = {c.name: c.id for c in list_classes()}
    errors = RowErrors()
    duplicates(rows, "number", errors, "学号", "学号重复")
    for number, r in rows:
        if not r["number"]:
            errors.add(number, "学号", "缺少学号")
        if not r["name"]:
            errors.add(number, "姓名", "缺少姓名")
        if not r["class_name"]:
            errors.add(number, "班级", "缺少班级")
        elif r["class_name"] not in classes:
            errors.add(number, "班级", f"未知班级“{r['class_name']}”")
    errors.raise_if_any("users.import_invalid", f"表格有 {len(errors.errors)} 处错误，未导入任何数据")
    return _upsert(Student, [
        {"number": r["number"], "name": r["name"], "class_id": classes[r["class_name"]]} for _n, r in rows
    ], actor=actor, dry_run=dry_run, entity="student_import")


def _upsert(model, records: list[dict], *, actor: Actor, dry_run: bool, entity: str) -> ImportResult:
    numbers = [r["number"] for r in records]
    existing = set(db.session.scalars(select(model.number).where(model.number.in_(numbers)))) if numbers else set()
    result = ImportResult(created=len(numbers) - len(existing), updated=len(existing), dry_run=dry_run)
    if dry_run or not records:
        return result
    for start in range(0, len(records), 1000):
        chunk = records[start:start + 1000]
        stmt = insert(model).values(chunk)
        stmt = stmt.on_conflict_do_update(
            index_elements=["number"],
            set_={k: stmt.excluded[k] for k in chunk[0] if k != "number"} | {"active": True},
        )
        db.session.execute(stmt)
    audit.record(entity, 0, "import", actor_id=actor.user_id,
                 after={"created": result.created, "updated": result.updated})
    return result

