"""Rules about people: WeChat users, binding to the roster, roles, roster imports.

Keyword-only functions taking the actor explicitly; they flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import any_, func, or_, select
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
    Grade,
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


def load_actor(user_id: int, session_id: str | None = None) -> Actor | None:
    """The Actor for a token's user, or None when the user is gone or disabled."""
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return None
    children = _children(user.id)
    roles = roles_of(user, children)
    staff, student = user.staff, user.student
    return Actor(
        user_id=user.id,
        roles=roles,
        bound=bool(roles),
        name=(staff.name if staff else student.name if student else user.nickname or ""),
        session_id=session_id,
        staff_id=staff.id if staff and staff.active else None,
        student_id=student.id if student and student.active else None,
        department_id=staff.department_id if staff else None,
        class_id=student.class_id if student else None,
        child_student_ids=frozenset(c.id for c in children),
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


# --- demo data ---------------------------------------------------------------------------------------

DEMO_DEPARTMENTS = ["校长办公室", "后勤处", "教务处", "语文教研组", "数学教研组", "英语教研组", "信息中心", "食堂"]
DEMO_CLASSES = {"高一": ["高一(1)班", "高一(2)班"], "高二": ["高二(1)班", "高二(2)班"], "高三": ["高三(1)班"]}
# role -> (number, name, department, extra roles); login code `demo-<role>` maps to openid `demo-openid-<role>`
DEMO_STAFF = {
    "teacher": ("T0001", "张老师", "语文教研组", ["teacher"]),
    "worker": ("W0001", "李师傅", "后勤处", ["worker"]),
    "dispatcher": ("D0001", "王调度", "后勤处", ["dispatcher", "teacher"]),
    "canteen": ("C0001", "赵师傅", "食堂", ["canteen"]),
    "courier": ("K0001", "刘快递", None, ["courier"]),
    "finance": ("F0001", "钱会计", "校长办公室", ["finance", "teacher"]),
    "admin": ("A0001", "孙主任", "后勤处", ["admin", "teacher"]),
}
DEMO_UNBOUND_STAFF = [
    ("T0002", "周老师", "数学教研组"),
    ("T0003", "吴老师", "英语教研组"),
    ("W0002", "郑师傅", "后勤处"),
]
DEMO_STUDENTS = [
    ("S2026001", "陈同学", "高一(1)班"),
    ("S2026002", "林同学", "高一(1)班"),
    ("S2026003", "黄同学", "高一(2)班"),
    ("S2025001", "何同学", "高二(1)班"),
]


def _get_or_add(model, lookup: dict, **values):
    obj = db.session.scalars(select(model).filter_by(**lookup)).first()
    if obj is None:
        obj = model(**lookup, **values)
        db.session.add(obj)
        db.session.flush()
    return obj


def seed_demo() -> None:
    departments = {name: _get_or_add(Department, {"name": name}) for name in DEMO_DEPARTMENTS}
    classes = {}
    for year, (grade_name, class_names) in zip((2026, 2025, 2024), DEMO_CLASSES.items(), strict=True):
        grade = _get_or_add(Grade, {"name": grade_name}, entry_year=year)
        for cname in class_names:
            classes[cname] = _get_or_add(SchoolClass, {"name": cname}, grade_id=grade.id)
    for role, (number, name, dept, roles) in DEMO_STAFF.items():
        staff = _get_or_add(StaffMember, {"number": number}, name=name, roles=roles,
                            department_id=departments[dept].id if dept else None)
        _demo_user(role, staff_id=staff.id)
    for number, name, dept in DEMO_UNBOUND_STAFF:
        _get_or_add(StaffMember, {"number": number}, name=name, roles=["teacher"] if number[0] == "T" else ["worker"],
                    department_id=departments[dept].id)
    students = {number: _get_or_add(Student, {"number": number}, name=name, class_id=classes[cname].id)
                for number, name, cname in DEMO_STUDENTS}
    _demo_user("student", student_id=students["S2026001"].id)
    parent = _demo_user("parent", nickname="陈同学家长")
    _get_or_add(Guardianship, {"user_id": parent.id, "student_id": students["S2026001"].id})


def _demo_user(role: str, **values) -> User:
    return _get_or_add(User, {"openid": f"demo-openid-{role}"}, unionid=f"demo-unionid-{role}", **values)


def demo_user_ids() -> dict[str, int]:
    """For tests and benchmarks: role -> user id of the seeded demo users."""
    return {u.openid.removeprefix("demo-openid-"): u.id
            for u in db.session.scalars(select(User).where(User.openid.like("demo-openid-%")))}
