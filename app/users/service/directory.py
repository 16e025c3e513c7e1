"""How other domains find people and name them.

Finding (ids of active users only): ``users_with_roles``, ``staff_user_ids``, ``class_user_ids``,
``with_role``; ``search_people`` (the lockers' recipient search: a few matches, phones masked).

Naming: three lookups, each keeping the rule its callers show today (tests pin the demo parent as
"陈同学的家长" in ``people`` and as "陈同学家长", the nickname, in ``display_names``):

- ``contacts`` (notifications: where to push, the recipient column): active users; openid and
  staff number (WeCom id); name = active staff name, else student name (deactivated or not), else
  nickname, else "".
- ``people`` (meetings: invitations, organisers, attendance): active users, ordered by id; roster
  number and department; name = active staff name, else active student name, else
  "<first child>的家长" for a guardian with no roster identity, else nickname, else "家长".
- ``display_names`` (repairs: reporters, workers, history, exports): every user, disabled ones
  too, so old records keep their names; name = staff name, else student name (active or not), else
  nickname, else "用户<id>".
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import any_, func, or_, select

from app.core.db import db
from app.users.models import Guardianship, SchoolClass, StaffMember, Student, User, mask_phone
from app.users.states import STAFF_ROLES


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


def user_id_of_staff(number: str) -> int | None:
    """The active user bound to the active staff member with this staff number (工号), if any."""
    return db.session.scalar(
        select(User.id).join(StaffMember, StaffMember.id == User.staff_id)
        .where(StaffMember.number == number.strip(), StaffMember.active.is_(True), User.active.is_(True)))


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


@dataclass(frozen=True)
class StudentInfo:
    """A student on the roster as other domains show them (bills, receipts, figures by class)."""

    id: int
    number: str
    name: str
    class_id: int
    class_name: str
    grade_id: int
    grade_name: str
    active: bool


def _student_info(student: Student) -> StudentInfo:
    klass = student.school_class
    return StudentInfo(student.id, student.number, student.name, klass.id, klass.name, klass.grade_id,
                       klass.grade.name, student.active)


def students(student_ids) -> dict[int, StudentInfo]:
    """``{student id: StudentInfo}`` for the students among ``student_ids`` (inactive ones too, so old
    records keep their names); one query."""
    ids = sorted({int(i) for i in student_ids if i is not None})
    if not ids:
        return {}
    return {s.id: _student_info(s) for s in db.session.scalars(select(Student).where(Student.id.in_(ids)))}


def students_of(*, grade_ids=(), class_ids=()) -> list[StudentInfo]:
    """The active students of the grades ``grade_ids`` and the classes ``class_ids``, by 学号."""
    grade_ids, class_ids = list(grade_ids or ()), list(class_ids or ())
    if not grade_ids and not class_ids:
        return []
    conditions = []
    if class_ids:
        conditions.append(Student.class_id.in_(class_ids))
    if grade_ids:
        conditions.append(Student.class_id.in_(select(SchoolClass.id).where(SchoolClass.grade_id.in_(grade_ids))))
    stmt = select(Student).where(Student.active.is_(True), or_(*conditions)).order_by(Student.number)
    return [_student_info(s) for s in db.session.scalars(stmt)]


def students_by_number(numbers) -> dict[str, StudentInfo]:
    """``{学号: StudentInfo}`` of the active students among ``numbers`` (unknown ones are left out)."""
    wanted = sorted({str(n).strip() for n in numbers if n})
    if not wanted:
        return {}
    stmt = select(Student).where(Student.number.in_(wanted), Student.active.is_(True))
    return {s.number: _student_info(s) for s in db.session.scalars(stmt)}


def student_and_guardian_user_ids(student_id: int) -> list[int]:
    """The active users acting for a student: the student's own account and their guardians'."""
    own = select(User.id).where(User.student_id == student_id, User.active.is_(True))
    parents = select(Guardianship.user_id).join(User, User.id == Guardianship.user_id).where(
        Guardianship.student_id == student_id, User.active.is_(True))
    return sorted(set(db.session.scalars(own)) | set(db.session.scalars(parents)))


def find_user_ids(*, phone: str | None = None, number: str | None = None, name: str | None = None) -> list[int]:
    """Active users a counter clerk or a courier means (the parcel lockers' recipient): by phone (the
    user's verified phone or the roster's staff phone), by 学号/工号, or by exact roster name (staff or
    student). Ordered by id; several for a common name — the caller asks which one."""
    if not (phone or number or name):
        return []
    conditions = []
    if phone:
        conditions += [User.phone == phone, StaffMember.phone == phone]
    if number:
        conditions += [StaffMember.number == number, Student.number == number]
    if name:
        conditions += [StaffMember.name == name, Student.name == name]
    stmt = (select(User.id).outerjoin(StaffMember, User.staff_id == StaffMember.id)
            .outerjoin(Student, User.student_id == Student.id)
            .where(User.active.is_(True), or_(*conditions)).order_by(User.id))
    return list(dict.fromkeys(db.session.scalars(stmt)))


@dataclass(frozen=True)
class Match:
    """Someone a search on the roster found, shown with enough to tell namesakes apart and no more:
    a class or department and a masked phone, never the phone or the 学号/工号 itself."""

    user_id: int
    name: str
    kind: str  # staff | student | parent
    unit: str | None  # 高一(1)班, 语文教研组 …
    phone_masked: str | None


def search_people(query: str, *, limit: int) -> list[Match]:
    """Active users a courier may mean by ``query``: a whole phone (verified or the roster's staff phone),
    a whole 学号/工号, or part of a roster name (staff or student). At most ``limit``, ordered by name."""
    query = query.strip()
    if not query:
        return []
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conditions = [User.phone == query, StaffMember.phone == query, StaffMember.number == query,
                  Student.number == query, StaffMember.name.like(pattern, escape="\\"),
                  Student.name.like(pattern, escape="\\")]
    stmt = (select(User).outerjoin(StaffMember, User.staff_id == StaffMember.id)
            .outerjoin(Student, User.student_id == Student.id)
            .where(User.active.is_(True), or_(*conditions))
            .order_by(func.coalesce(StaffMember.name, Student.name, User.nickname), User.id).limit(limit))
    out = []
    for user in db.session.scalars(stmt).unique():
        staff = user.staff if user.staff is not None and user.staff.active else None
        student = user.student if user.student is not None and user.student.active else None
        if staff is not None:
            out.append(Match(user.id, staff.name, "staff", staff.department.name if staff.department else None,
                             mask_phone(user.phone or staff.phone)))
        elif student is not None:
            out.append(Match(user.id, student.name, "student", student.school_class.name, mask_phone(user.phone)))
        else:
            out.append(Match(user.id, user.nickname or "家长", "parent", None, mask_phone(user.phone)))
    return out
