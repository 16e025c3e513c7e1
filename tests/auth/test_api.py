"""WeChat login, token refresh rotation and reuse, logout — through the simulator over HTTP."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import select

from app.auth.models import AuthSession
from app.core.db import db
from app.users.models import StaffMember, User
from tests.support import race


def test_demo_teacher_logs_in_and_sees_me(login):
    teacher = login("teacher")
    assert teacher.body["expires_in"] == 900
    assert teacher.user["roles"] == ["teacher"] and teacher.user["bound"] is True
    me = teacher.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json["person"] == {"kind": "staff", "name": "张老师", "number": "T0001",
                                 "department": "语文教研组", "class_name": None}
    assert me.json["role_labels"] == ["教职工"]


@pytest.mark.parametrize("role", ["teacher", "student", "parent", "worker", "dispatcher", "canteen", "courier",
                                  "finance", "admin"])
def test_every_demo_role_logs_in(login, role):
    me = login(role).get("/api/v1/me").json
    assert role in me["roles"] and me["bound"]


def test_new_wechat_user_is_created_unbound_and_keeps_unionid(client, demo, sim):
    code = sim.register_login_code(openid="o-new-1", unionid="u-new-1")["code"]
    resp = client.post("/api/v1/auth/wechat-login", json={"code": code})
    assert resp.status_code == 200
    assert resp.json["user"]["bound"] is False and resp.json["user"]["roles"] == []
    user = db.session.scalar(select(User).where(User.openid == "o-new-1"))
    assert user.unionid == "u-new-1"


def test_unbound_user_can_only_bind(client, demo, sim):
    code = sim.register_login_code(openid="o-new-2")["code"]
    token = client.post("/api/v1/auth/wechat-login", json={"code": code}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    resp = client.get("/api/v1/departments", headers=headers)
    assert resp.status_code == 403 and resp.json["error_code"] == "auth.not_bound"
    assert "绑定" in resp.json["message"]


def test_invalid_code_is_401(client, demo):
    resp = client.post("/api/v1/auth/wechat-login", json={"code": "no-such-code"})
    assert resp.status_code == 401
    assert resp.json["error_code"] == "auth.invalid_code"


def test_used_code_is_401(client, demo, sim):
    code = sim.register_login_code(openid="o-once")["code"]
    assert client.post("/api/v1/auth/wechat-login", json={"code": code}).status_code == 200
    resp = client.post("/api/v1/auth/wechat-login", json={"code": code})
    assert resp.status_code == 401 and resp.json["error_code"] == "auth.invalid_code"


@pytest.mark.parametrize("fault", [{"errcode": -1, "errmsg": "system error"}, {"http_status": 500}])
def test_wechat_failure_is_502_and_creates_nothing(client, demo, sim, fault):
    sim.inject_fault("/sns/jscode2session", **fault)
    before = db.session.query(User).count()
    resp = client.post("/api/v1/auth/wechat-login", json={"code": "demo-teacher"})
    assert resp.status_code == 502
    assert resp.json["error_code"] == "wechat.unavailable"
    assert resp.json["message"] == "微信服务暂时不可用，请稍后再试"
    assert db.session.query(User).count() == before


def test_wechat_unreachable_is_502(app, demo, client, monkeypatch):
    app.extensions.pop("wechat", None)
    monkeypatch.setitem(app.config, "WECHAT_API_BASE_URL", "http://127.0.0.1:1/")
    try:
        resp = client.post("/api/v1/auth/wechat-login", json={"code": "demo-teacher"})
    finally:
        app.extensions.pop("wechat", None)
    assert resp.status_code == 502 and resp.json["error_code"] == "wechat.unavailable"


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": "x" * 200}, {"code": "a", "extra": 1}])
def test_login_validation_is_422(client, demo, body):
    resp = client.post("/api/v1/auth/wechat-login", json=body)
    assert resp.status_code == 422 and resp.json["error_code"] == "validation_error"


def test_login_rate_limited_per_code(client, demo):
    statuses = [client.post("/api/v1/auth/wechat-login", json={"code": "bogus-code"}).status_code for _ in range(7)]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]


def test_refresh_rotates_and_old_token_stops_working(client, login):
    teacher = login("teacher")
    first = client.post("/api/v1/auth/refresh", json={"refresh_token": teacher.body["refresh_token"]})
    assert first.status_code == 200
    assert first.json["refresh_token"] != teacher.body["refresh_token"]
    assert first.json["user"]["roles"] == ["teacher"]
    # the new pair works
    headers = {"Authorization": f"Bearer {first.json['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first.json["refresh_token"]})
    assert second.status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_session(client, login):
    teacher = login("teacher")
    rotated = client.post("/api/v1/auth/refresh", json={"refresh_token": teacher.body["refresh_token"]}).json
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": teacher.body["refresh_token"]})
    assert reuse.status_code == 401 and reuse.json["error_code"] == "auth.invalid_refresh_token"
    # the whole family is gone: the newest refresh token and the access tokens stop working too
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code == 401
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert me.status_code == 401 and me.json["error_code"] == "auth.invalid_token"
    session = db.session.scalar(select(AuthSession))
    assert session.revoked_at is not None and session.revoke_reason == "reuse"


def test_concurrent_refresh_with_one_token_issues_at_most_one_pair(app, client, login):
    teacher = login("teacher")

    def refresh():
        return client.post("/api/v1/auth/refresh", json={"refresh_token": teacher.body["refresh_token"]}).status_code

    statuses = race([refresh, refresh])
    assert sorted(statuses) == [200, 401]


def test_unknown_refresh_token_is_401(client, demo):
    resp = client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 43})
    assert resp.status_code == 401


def test_expired_refresh_token_is_401(client, login, clock):
    teacher = login("teacher")
    clock.shift(days=31)
    resp = client.post("/api/v1/auth/refresh", json={"refresh_token": teacher.body["refresh_token"]})
    assert resp.status_code == 401


def test_logout_ends_the_session_at_once(client, login):
    teacher = login("teacher")
    resp = client.post("/api/v1/auth/logout", json={"refresh_token": teacher.body["refresh_token"]})
    assert resp.status_code == 204
    assert teacher.get("/api/v1/me").status_code == 401
    again = client.post("/api/v1/auth/logout", json={"refresh_token": teacher.body["refresh_token"]})
    assert again.status_code == 204


def test_expired_access_token_is_401_with_its_own_code(client, login, clock):
    teacher = login("teacher")
    clock.shift(minutes=16)
    resp = teacher.get("/api/v1/me")
    assert resp.status_code == 401 and resp.json["error_code"] == "auth.token_expired"


def test_a_token_in_use_still_expires_on_time(client, login, clock):
    """The process remembers tokens it has verified; the expiry is checked again on every request."""
    teacher = login("teacher")
    assert teacher.get("/api/v1/me").status_code == 200
    clock.shift(minutes=14)
    assert teacher.get("/api/v1/me").status_code == 200
    clock.shift(minutes=2)
    resp = teacher.get("/api/v1/me")
    assert resp.status_code == 401 and resp.json["error_code"] == "auth.token_expired"


@pytest.mark.parametrize("header", ["", "Bearer", "Basic abc", "Bearer not-a-jwt"])
def test_missing_or_bad_token_is_401(client, demo, header):
    resp = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert resp.status_code == 401
    assert resp.json["error_code"] in ("auth.required", "auth.invalid_token")


def test_forged_token_is_401(client, login):
    teacher = login("teacher")
    claims = jwt.decode(teacher.body["access_token"], options={"verify_signature": False})
    claims["sub"] = "1"
    forged = jwt.encode(claims, "not-the-secret-but-long-enough-for-hs256!", algorithm="HS256")
    resp = client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401 and resp.json["error_code"] == "auth.invalid_token"


def test_role_removed_takes_effect_without_new_token(client, login):
    dispatcher = login("dispatcher")
    assert "dispatcher" in dispatcher.get("/api/v1/me").json["roles"]
    staff = db.session.scalar(select(StaffMember).where(StaffMember.number == "D0001"))
    staff.roles = ["teacher"]
    db.session.commit()
    assert dispatcher.get("/api/v1/me").json["roles"] == ["teacher"]
