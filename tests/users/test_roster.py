"""Admin: staff roles and roster imports, through the API."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import db
from app.users import seed as users_seed
from app.users import service as users_service
from app.users.models import SchoolClass, StaffMember, Student
from tests.support import race, xlsx


def test_admin_sets_roles_and_it_is_audited(login):
    admin = login("admin")
    staff_id = db.session.scalar(select(StaffMember.id).where(StaffMember.number == "T0002"))
    resp = admin.put(f"/api/v1/admin/staff/{staff_id}/roles", json={"roles": ["teacher", "worker"]})
    assert resp.status_code == 200 and resp.json["roles"] == ["teacher", "worker"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "set_roles"))
    assert event.before == {"roles": ["teacher"]} and event.after == {"roles": ["teacher", "worker"]}


def test_admin_cannot_drop_own_admin_role(login):
    admin = login("admin")
    staff_id = db.session.scalar(select(StaffMember.id).where(StaffMember.number == "A0001"))
    resp = admin.put(f"/api/v1/admin/staff/{staff_id}/roles", json={"roles": ["teacher"]})
    assert resp.status_code == 422 and resp.json["error_code"] == "users.cannot_drop_own_admin"


@pytest.mark.parametrize("role", ["teacher", "worker", "student", "finance"])
def test_admin_endpoints_refuse_other_roles(login, role):
    session = login(role)
    assert session.get("/api/v1/admin/staff").status_code == 403
    assert session.put("/api/v1/admin/staff/1/roles", json={"roles": ["admin"]}).status_code == 403
    assert session.post("/api/v1/admin/roster/staff", data={"file": (io.BytesIO(b"x"), "a.xlsx")}).status_code == 403


def test_admin_lists_and_searches_staff(login):
    admin = login("admin")
    resp = admin.get("/api/v1/admin/staff?q=老师&page_size=2")
    assert resp.status_code == 200 and len(resp.json) == 2
    assert '"total": 3' in resp.headers["X-Pagination"]
    workers = admin.get("/api/v1/admin/staff?role=worker").json
    assert {s["number"] for s in workers} == {"W0001", "W0002"}


STAFF_HEADER = ["工号", "姓名", "部门", "手机号", "角色"]


def test_staff_import_all_good(login):
    admin = login("admin")
    sheet = xlsx([STAFF_HEADER,
                   ["T1001", "新老师", "语文教研组", "13800001001", "教职工"],
                   [1002, "新师傅", "后勤处", None, "维修工、教职工"],
                   ["T0002", "周老师改名", "数学教研组", None, None]])
    resp = admin.post("/api/v1/admin/roster/staff", data={"file": (sheet, "staff.xlsx")})
    assert resp.status_code == 200, resp.json
    assert resp.json == {"created": 2, "updated": 1, "dry_run": False}
    worker = db.session.scalar(select(StaffMember).where(StaffMember.number == "1002"))
    assert worker.roles == ["teacher", "worker"]
    assert db.session.scalar(select(StaffMember.name).where(StaffMember.number == "T0002")) == "周老师改名"


def test_staff_import_bad_file_lists_every_row_and_imports_nothing(login):
    admin = login("admin")
    before = db.session.query(StaffMember).count()
    sheet = xlsx([STAFF_HEADER,
                   ["T2001", "好老师", "语文教研组", None, None],
                   ["T2002", "", "语文教研组", None, None],
                   ["T2001", "重复", "语文教研组", None, None],
                   ["T2003", "某人", "火星部", "123", "宇航员"]])
    resp = admin.post("/api/v1/admin/roster/staff", data={"file": (sheet, "staff.xlsx")})
    assert resp.status_code == 422 and resp.json["error_code"] == "users.import_invalid"
    problems = {(e["row"], e["column"]) for e in resp.json["errors"]["rows"]}
    assert problems == {(3, "姓名"), (4, "工号"), (5, "部门"), (5, "手机号"), (5, "角色")}
    assert "未导入" in resp.json["message"]
    assert db.session.query(StaffMember).count() == before


def test_student_import_unknown_class_and_dry_run(login):
    admin = login("admin")
    bad = xlsx([["学号", "姓名", "班级"], ["S3001", "甲", "高一(1)班"], ["S3002", "乙", "高九(9)班"]])
    resp = admin.post("/api/v1/admin/roster/students", data={"file": (bad, "s.xlsx")})
    assert resp.status_code == 422
    assert resp.json["errors"]["rows"] == [{"row": 3, "column": "班级", "reason": "未知班级“高九(9)班”"}]
    good = xlsx([["学号", "姓名", "班级"], ["S3001", "甲", "高一(1)班"]])
    dry = admin.post("/api/v1/admin/roster/students?dry_run=true", data={"file": (good, "s.xlsx")})
    assert dry.json == {"created": 1, "updated": 0, "dry_run": True}
    assert db.session.scalar(select(Student).where(Student.number == "S3001")) is None


def test_student_import_with_parent_phones_and_head_teachers(login):
    admin = login("admin")
    header = ["学号", "姓名", "班级", "家长手机号", "班主任工号"]
    sheet = xlsx([header,
                   ["S3001", "甲", "高二(1)班", "13900000001", "T0002"],
                   ["S3002", "乙", "高二(1)班", "13900000002、13900000003", None],
                   ["S2026001", "陈同学", "高一(1)班", None, None]])
    resp = admin.post("/api/v1/admin/roster/students", data={"file": (sheet, "s.xlsx")})
    assert resp.status_code == 200, resp.json
    phones = dict(db.session.execute(select(Student.number, Student.parent_phones)).all())
    assert phones["S3001"] == ["13900000001"] and phones["S3002"] == ["13900000002", "13900000003"]
    assert phones["S2026001"] == []  # an empty cell clears them
    head = db.session.scalar(select(SchoolClass.head_teacher_id).where(SchoolClass.name == "高二(1)班"))
    assert head == db.session.scalar(select(StaffMember.id).where(StaffMember.number == "T0002"))
    # the demo head teacher of 高一(1)班 stays: an empty 班主任工号 changes nothing
    assert db.session.scalar(select(SchoolClass.head_teacher_id).where(SchoolClass.name == "高一(1)班")) is not None
    # a sheet without the optional columns keeps what the roster has
    plain = xlsx([["学号", "姓名", "班级"], ["S3001", "甲改名", "高二(1)班"]])
    assert admin.post("/api/v1/admin/roster/students", data={"file": (plain, "s.xlsx")}).status_code == 200
    assert db.session.scalar(select(Student.parent_phones).where(Student.number == "S3001")) == ["13900000001"]


def test_student_import_bad_phones_and_head_teachers_list_every_row(login):
    admin = login("admin")
    header = ["学号", "姓名", "班级", "家长手机号", "班主任工号"]
    sheet = xlsx([header,
                   ["S3001", "甲", "高二(1)班", "1390000", "T0002"],
                   ["S3002", "乙", "高二(1)班", "13900000001,13900000002,13900000003", "T0003"],
                   ["S3003", "丙", "高二(2)班", "abc", "T9999"]])
    resp = admin.post("/api/v1/admin/roster/students", data={"file": (sheet, "s.xlsx")})
    assert resp.status_code == 422
    problems = {(e["row"], e["column"]) for e in resp.json["errors"]["rows"]}
    assert problems == {(2, "家长手机号"), (3, "家长手机号"), (3, "班主任工号"), (4, "家长手机号"), (4, "班主任工号")}
    reasons = {(e["row"], e["column"]): e["reason"] for e in resp.json["errors"]["rows"]}
    assert reasons[(3, "班主任工号")] == "与第 2 行的班主任“T0002”不一致"
    assert db.session.scalar(select(Student).where(Student.number == "S3001")) is None


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"this is not a spreadsheet", "import.unreadable"),
        (xlsx([["编号", "名字"], ["1", "x"]]).getvalue(), "import.missing_columns"),
    ],
)
def test_unreadable_or_wrong_sheet_is_422(login, payload, code):
    resp = login("admin").post("/api/v1/admin/roster/students", data={"file": (io.BytesIO(payload), "x.xlsx")})
    assert resp.status_code == 422 and resp.json["error_code"] == code


def test_import_without_file_is_422(login):
    resp = login("admin").post("/api/v1/admin/roster/staff", data={})
    assert resp.status_code == 422


def test_two_admins_grant_different_roles_at_once_and_both_count(app, demo):
    """``change_staff_role`` reads the roles under a row lock: two grants racing on separate connections
    both land (a read-then-set without the lock would lose one), each audited."""
    staff_id = db.session.scalar(select(StaffMember.id).where(StaffMember.number == "T0002"))
    admin_id = users_seed.demo_user_ids()["admin"]
    db.session.remove()

    def grant(role: str):
        staff = users_service.change_staff_role(actor=users_service.load_actor(admin_id), staff_id=staff_id,
                                                role=role, grant=True)
        roles = list(staff.roles)
        db.session.commit()
        return roles

    answers = race([lambda: grant("worker"), lambda: grant("dispatcher")], app=app)
    assert sorted(db.session.get(StaffMember, staff_id).roles) == ["dispatcher", "teacher", "worker"]
    assert sorted(len(a) for a in answers) == [2, 3]
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "set_roles")).all()) == 2
    # granting a held role, or revoking one not held, changes nothing and is not audited
    actor = users_service.load_actor(admin_id)
    users_service.change_staff_role(actor=actor, staff_id=staff_id, role="worker", grant=True)
    users_service.change_staff_role(actor=actor, staff_id=staff_id, role="finance", grant=False)
    db.session.commit()
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "set_roles")).all()) == 2
