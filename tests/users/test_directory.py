"""How other domains name people: the three lookups and where their rules differ (see directory's docstring).

The finding helpers (``staff_user_ids``, ``class_user_ids``, ``people``) are also exercised in
tests/meetings/test_service.py, ``display_names`` and ``with_role`` in tests/repairs/test_service.py.
"""

from __future__ import annotations

from sqlalchemy import update

from app.core.db import db
from app.users import seed as users_seed
from app.users import service
from app.users.models import User


def _names(user_ids):
    return ({k: c.name for k, c in service.contacts(user_ids).items()},
            {p.user_id: p.name for p in service.people(user_ids)},
            service.display_names(user_ids))


def test_a_parent_is_named_by_nickname_for_contacts_and_repairs_and_by_child_for_meetings(app, demo):
    parent = users_seed.demo_user_ids()["parent"]
    assert _names([parent]) == ({parent: "陈同学家长"}, {parent: "陈同学的家长"}, {parent: "陈同学家长"})


def test_staff_are_named_alike_everywhere(app, demo):
    teacher = users_seed.demo_user_ids()["teacher"]
    assert _names([teacher]) == ({teacher: "张老师"}, {teacher: "张老师"}, {teacher: "张老师"})
    assert service.contact(teacher).staff_number == "T0001"


def test_a_disabled_user_keeps_a_name_only_in_display_names(app, demo):
    worker = users_seed.demo_user_ids()["worker"]
    db.session.execute(update(User).where(User.id == worker).values(active=False))
    assert _names([worker]) == ({}, {}, {worker: "李师傅"})
    assert service.contact(worker) is None


def test_students_are_found_by_grade_class_and_number_and_named_with_their_class(app, demo):
    grades = {c.name: c.grade_id for c in service.list_classes()}
    classes = {c.name: c.id for c in service.list_classes()}
    by_grade = service.students_of(grade_ids=[grades["高一(1)班"]])
    assert [s.number for s in by_grade] == ["S2026001", "S2026002", "S2026003"]
    by_class = service.students_of(class_ids=[classes["高二(1)班"]])
    assert [(s.name, s.class_name, s.grade_name) for s in by_class] == [("何同学", "高二(1)班", "高二")]
    assert service.students_of() == []
    found = service.students_by_number(["S2026002", "S0000000", " S2025001 "])
    assert sorted(found) == ["S2025001", "S2026002"]
    assert service.students([found["S2026002"].id])[found["S2026002"].id].name == "林同学"


def test_the_users_acting_for_a_student_are_the_student_and_their_guardians(app, demo):
    ids = users_seed.demo_user_ids()
    chen = service.students_by_number(["S2026001"])["S2026001"].id
    assert service.student_and_guardian_user_ids(chen) == sorted([ids["student"], ids["parent"]])
    db.session.execute(update(User).where(User.id == ids["parent"]).values(active=False))
    assert service.student_and_guardian_user_ids(chen) == [ids["student"]]


def test_a_recipient_is_found_by_phone_number_or_roster_name_active_users_only(app, demo):
    ids = users_seed.demo_user_ids()
    db.session.execute(update(User).where(User.id == ids["student"]).values(phone="13900000001"))
    assert service.find_user_ids(number="T0001") == [ids["teacher"]]
    assert service.find_user_ids(number="S2026001") == [ids["student"]]
    assert service.find_user_ids(phone="13900000001") == [ids["student"]]
    assert service.find_user_ids(name="张老师") == [ids["teacher"]]
    assert service.find_user_ids(name="周老师") == []  # on the roster, never bound: nobody to tell
    assert service.find_user_ids() == []
    db.session.execute(update(User).where(User.id == ids["teacher"]).values(active=False))
    assert service.find_user_ids(number="T0001") == []
