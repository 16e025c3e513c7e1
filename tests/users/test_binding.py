"""Binding a WeChat account to the roster as staff, student or parent, through the API."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.core.audit import AuditEvent
from app.core.db import db
from app.users.models import Guardianship, StaffMember, Student
from tests.users.conftest import parent_bind


def test_staff_binds_with_number_and_name(newcomer):
    user = newcomer()
    resp = user.post("/api/v1/me/bind", json={"kind": "staff", "number": "T0002", "name": "周老师"})
    assert resp.status_code == 200, resp.json
    assert resp.json["bound"] is True and resp.json["roles"] == ["teacher"]
    assert resp.json["person"]["department"] == "数学教研组"
    # the same access token now works everywhere (roles are loaded per request)
    assert user.get("/api/v1/departments").status_code == 200
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.entity_type == "user")) == "bind"


def test_name_tolerates_spaces_but_not_a_wrong_name(newcomer):
    user = newcomer()
    wrong = user.post("/api/v1/me/bind", json={"kind": "staff", "number": "T0002", "name": "周老帅"})
    assert wrong.status_code == 404 and wrong.json["error_code"] == "users.roster_not_found"
    assert "花名册" in wrong.json["message"]
    ok = user.post("/api/v1/me/bind", json={"kind": "staff", "number": " T0002 ", "name": "周 老师"})
    assert ok.status_code == 200


def test_staff_with_roster_phone_must_prove_it(newcomer, sim):
    staff = db.session.scalar(select(StaffMember).where(StaffMember.number == "T0003"))
    staff.phone = "13900000003"
    db.session.commit()
    user = newcomer()
    missing = user.post("/api/v1/me/bind", json={"kind": "staff", "number": "T0003", "name": "吴老师"})
    assert missing.status_code == 422 and missing.json["error_code"] == "users.phone_mismatch"
    wrong_code = sim.register_phone_code("13900000999")
    wrong = user.post("/api/v1/me/bind", json={"kind": "staff", "number": "T0003", "name": "吴老师",
                                               "phone_code": wrong_code})
    assert wrong.status_code == 422 and "phone_code" in wrong.json["errors"]
    right_code = sim.register_phone_code("13900000003")
    ok = user.post("/api/v1/me/bind", json={"kind": "staff", "number": "T0003", "name": "吴老师",
                                            "phone_code": right_code})
    assert ok.status_code == 200
    assert ok.json["phone_masked"] == "139****0003"


def test_invalid_phone_code_is_422(newcomer):
    user = newcomer()
    resp = user.post("/api/v1/me/bind", json={"kind": "staff", "number": "T0002", "name": "周老师",
                                              "phone_code": "never-issued"})
    assert resp.status_code == 422 and resp.json["error_code"] == "users.invalid_phone_code"


def test_phone_service_down_is_502_and_binds_nothing(newcomer, sim):
    user = newcomer()
    sim.inject_fault("/wxa/business/getuserphonenumber", http_status=500)
    resp = user.post("/api/v1/me/bind", json={"kind": "staff", "number": "T0002", "name": "周老师",
                                              "phone_code": "whatever"})
    assert resp.status_code == 502
    assert user.get("/api/v1/me").json["bound"] is False


def test_a_roster_identity_binds_to_one_wechat_only(newcomer):
    first, second = newcomer(), newcomer()
    body = {"kind": "student", "number": "S2026002", "name": "林同学"}
    assert first.post("/api/v1/me/bind", json=body).status_code == 200
    resp = second.post("/api/v1/me/bind", json=body)
    assert resp.status_code == 409 and resp.json["error_code"] == "users.already_bound"


def test_binding_twice_is_harmless(newcomer):
    user = newcomer()
    body = {"kind": "student", "number": "S2026002", "name": "林同学"}
    assert user.post("/api/v1/me/bind", json=body).status_code == 200
    again = user.post("/api/v1/me/bind", json=body)
    assert again.status_code == 200 and again.json["person"]["class_name"] == "高一(1)班"


def test_parent_binds_to_children_and_acts_for_them(newcomer, login, sim):
    """Binding by 学号 + 姓名 alone used to make a parent at once (anyone knowing them could). Now one
    child is proved by the roster's parent phone, the other is approved by the class teacher."""
    db.session.execute(update(Student).where(Student.number == "S2026003").values(parent_phones=["13900000003"]))
    db.session.commit()
    parent = newcomer()
    asked = parent_bind(parent, "S2026002", "林同学")
    assert asked.status_code == 202 and asked.json["status"] == "pending"
    head_teacher = login("teacher")  # 张老师 heads 高一(1)班
    assert head_teacher.post(f"/api/v1/guardian-requests/{asked.json['request']['id']}/approve").status_code == 200
    proved = parent_bind(parent, "S2026003", "黄同学", phone_code=sim.register_phone_code("13900000003"))
    assert proved.status_code == 200 and proved.json["roles"] == ["parent"]
    me = parent.get("/api/v1/me").json
    assert me["roles"] == ["parent"]
    assert [c["number"] for c in me["children"]] == ["S2026002", "S2026003"]
    assert db.session.query(Guardianship).count() == 3  # the demo parent's child too


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "staff", "name": "周老师"}, "number"),
        ({"kind": "student", "number": "S1"}, "name"),
        ({"kind": "parent", "number": "S2026002", "name": "林同学"}, "student_number"),
        ({"kind": "alien", "number": "1", "name": "x"}, "kind"),
    ],
)
def test_bind_validation_names_the_field_in_chinese(newcomer, body, field):
    resp = newcomer().post("/api/v1/me/bind", json=body)
    assert resp.status_code == 422
    message = resp.json["errors"]["json"][field][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
