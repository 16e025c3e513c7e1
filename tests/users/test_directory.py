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
