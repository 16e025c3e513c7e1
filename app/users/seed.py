"""Demo people for ``flask seed-demo``: departments, classes, staff, students and one WeChat user per role.

Both ways a parent binds can be tried: 陈同学 (S2026001) lists the parent phone the simulator's
``demo-phone-parent`` code answers (bound at once), and 张老师 (``demo-teacher``) heads 高一(1)班, so
a request without that phone waits for ``demo-student`` or ``demo-teacher`` to approve it.
``demo-parent`` is bound to 陈同学 directly.

``demo_user_ids()`` finds those users again (tests, benchmarks, other domains' demo data).
"""

from __future__ import annotations

from sqlalchemy import select

from app.core.db import db
from app.users.models import Department, Grade, Guardianship, SchoolClass, StaffMember, Student, User

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
DEMO_HEAD_TEACHERS = {"高一(1)班": "T0001"}
DEMO_PARENT_PHONES = {"S2026001": ["13800000009"]}
"""The simulator's phone code ``demo-phone-parent`` answers 13800000009."""
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
    for cname, number in DEMO_HEAD_TEACHERS.items():
        if classes[cname].head_teacher_id is None:
            classes[cname].head_teacher_id = db.session.scalar(
                select(StaffMember.id).where(StaffMember.number == number))
    students = {number: _get_or_add(Student, {"number": number}, name=name, class_id=classes[cname].id,
                                    parent_phones=DEMO_PARENT_PHONES.get(number, []))
                for number, name, cname in DEMO_STUDENTS}
    _demo_user("student", student_id=students["S2026001"].id)
    parent = _demo_user("parent", nickname="陈同学家长")
    _get_or_add(Guardianship, {"user_id": parent.id, "student_id": students["S2026001"].id}, relation="母亲")


def _demo_user(role: str, **values) -> User:
    return _get_or_add(User, {"openid": f"demo-openid-{role}"}, unionid=f"demo-unionid-{role}", **values)


def demo_user_ids() -> dict[str, int]:
    """For tests and benchmarks: role -> user id of the seeded demo users."""
    return {u.openid.removeprefix("demo-openid-"): u.id
            for u in db.session.scalars(select(User).where(User.openid.like("demo-openid-%")))}
