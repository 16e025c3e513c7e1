"""Signing in to the console: the QR code confirmed from the mini-program, the bootstrap link, and how
a console session ends (logout, idle, a console role taken away). Every step is audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.config import flask_config, load_settings
from app.core.audit import AuditEvent
from app.core.db import db
from app.users.models import StaffMember
from app.wechat import codes
from tests.console.conftest import HTMX, csrf_of, login_token
from tests.support import race


def audit_actions(*actions: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.id)))


def test_console_pages_need_a_sign_in(browser, app):
    resp = browser.get("/console/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/login"
    resp = browser.get("/console/", headers=HTMX)
    assert resp.headers["HX-Redirect"] == "/console/login"
    assert browser.post("/console/logout").headers["Location"] == "/console/login"


def test_login_page_shows_a_one_time_qr_code_and_polls(browser, app):
    resp = browser.get("/console/login")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "扫码登录" in page
    assert 'src="data:image/png;base64,' in page
    token = login_token(page)
    assert f'hx-get="/console/login/{token}/status" hx-trigger="every 1s"' in page
    again = login_token(browser.get("/console/login").get_data(as_text=True))
    assert again != token  # every visit is a new code


def test_scan_confirm_signs_the_browser_in(browser, login):
    admin = login("admin")
    token = login_token(browser.get("/console/login", headers={"User-Agent": "Firefox/140"}).get_data(as_text=True))
    scan = admin.post(f"/api/v1/console/logins/{token}/scan")
    assert scan.status_code == 200
    assert scan.json["user_agent"] == "Firefox/140" and scan.json["ip"] == "127.0.0.1"
    status = browser.get(f"/console/login/{token}/status", headers=HTMX).get_data(as_text=True)
    assert "孙主任" in status and "请在手机上确认登录" in status and 'hx-trigger="every 1s"' in status

    assert admin.post(f"/api/v1/console/logins/{token}/confirm").json == {"ok": True}
    resp = browser.get(f"/console/login/{token}/status", headers=HTMX)
    assert resp.headers["HX-Redirect"] == "/console/"
    home = browser.get("/console/")
    assert home.status_code == 200 and "孙主任" in home.get_data(as_text=True)
    [event] = audit_actions("console_sign_in")
    assert event.entity_id == admin.user["id"] and event.data["via"] == "qr"


def test_only_console_roles_may_confirm_and_refusals_are_audited(browser, login):
    teacher = login("teacher")
    token = login_token(browser.get("/console/login").get_data(as_text=True))
    resp = teacher.post(f"/api/v1/console/logins/{token}/scan")
    assert resp.status_code == 403 and resp.json["error_code"] == "console.forbidden"
    assert "没有管理后台的权限" in resp.json["message"]
    assert teacher.post(f"/api/v1/console/logins/{token}/confirm").status_code in (403, 409)
    status = browser.get(f"/console/login/{token}/status", headers=HTMX).get_data(as_text=True)
    assert "没有管理后台的权限" in status and "every 1s" not in status
    assert browser.get("/console/").status_code == 302
    [event, *_] = audit_actions("console_sign_in_refused")
    assert event.entity_id == teacher.user["id"]


def test_teacher_confirming_unscanned_code_is_refused(browser, login):
    teacher = login("teacher")
    token = login_token(browser.get("/console/login").get_data(as_text=True))
    resp = teacher.post(f"/api/v1/console/logins/{token}/confirm")
    assert resp.status_code == 403 and resp.json["message"].startswith("你没有管理后台的权限")
    assert len(audit_actions("console_sign_in_refused")) == 1


def test_each_console_role_may_sign_in(browser, login, signed_in):
    for role in ("admin", "dispatcher", "finance"):
        signed_in(role)
        assert browser.get("/console/").status_code == 200


def test_reject_cancels_the_code(browser, login):
    admin = login("admin")
    token = login_token(browser.get("/console/login").get_data(as_text=True))
    admin.post(f"/api/v1/console/logins/{token}/scan")
    assert admin.post(f"/api/v1/console/logins/{token}/reject").status_code == 200
    status = browser.get(f"/console/login/{token}/status", headers=HTMX).get_data(as_text=True)
    assert "已在手机上取消登录" in status and "刷新二维码" in status
    resp = admin.post(f"/api/v1/console/logins/{token}/confirm")
    assert resp.status_code == 409 and resp.json["error_code"] == "console.code_used"
    assert browser.get("/console/").status_code == 302
    assert len(audit_actions("console_sign_in_rejected")) == 1


def test_a_code_scanned_by_one_person_cannot_be_confirmed_by_another(browser, login, client):
    admin = login("admin")
    dispatcher = login("dispatcher")
    token = login_token(browser.get("/console/login").get_data(as_text=True))
    admin.post(f"/api/v1/console/logins/{token}/scan")
    resp = dispatcher.post(f"/api/v1/console/logins/{token}/confirm")
    assert resp.status_code == 409 and resp.json["error_code"] == "console.code_taken"


def test_expired_code_says_so(browser, login, clock):
    admin = login("admin")
    token = login_token(browser.get("/console/login").get_data(as_text=True))
    clock.shift(seconds=121)
    resp = admin.post(f"/api/v1/console/logins/{token}/scan")
    assert resp.status_code == 410 and resp.json["message"] == "二维码已过期，请在电脑上刷新二维码后重新扫码"
    assert admin.post(f"/api/v1/console/logins/{token}/confirm").status_code == 410
    status = browser.get(f"/console/login/{token}/status", headers=HTMX).get_data(as_text=True)
    assert "二维码已过期" in status and "every 1s" not in status


def test_code_is_confirmed_within_two_minutes(browser, login, clock):
    admin = login("admin")
    token = login_token(browser.get("/console/login").get_data(as_text=True))
    clock.shift(seconds=110)
    assert admin.post(f"/api/v1/console/logins/{token}/confirm").status_code == 200


def test_a_code_works_once(browser, login, new_browser):
    admin = login("admin")
    token = login_token(browser.get("/console/login").get_data(as_text=True))
    assert admin.post(f"/api/v1/console/logins/{token}/confirm").status_code == 200
    # another browser that read the code off the screen cannot collect the sign-in
    thief = new_browser()
    thief.get("/console/login")
    status = thief.get(f"/console/login/{token}/status", headers=HTMX)
    assert "HX-Redirect" not in status.headers and thief.get("/console/").status_code == 302
    assert browser.get(f"/console/login/{token}/status", headers=HTMX).headers["HX-Redirect"] == "/console/"
    again = admin.post(f"/api/v1/console/logins/{token}/confirm")
    assert again.status_code == 409 and again.json["message"].startswith("该二维码已使用")
    assert len(audit_actions("console_sign_in")) == 1


def test_unknown_token_is_an_expired_code(login):
    admin = login("admin")
    assert admin.post("/api/v1/console/logins/not-a-token/scan").status_code == 410
    assert admin.post(f"/api/v1/console/logins/{'x' * 32}/confirm").status_code == 410


def test_scanning_needs_a_mini_program_login(client, browser):
    token = login_token(browser.get("/console/login").get_data(as_text=True))
    assert client.post(f"/api/v1/console/logins/{token}/confirm").status_code == 401


def test_post_without_csrf_token_is_refused(browser, signed_in):
    signed_in("admin")
    resp = browser.post("/console/logout", headers=HTMX)
    assert resp.status_code == 403
    assert resp.headers["HX-Retarget"] == "#console-error"
    assert "安全校验未通过" in resp.get_data(as_text=True)
    resp = browser.post("/console/logout", data={"csrf_token": "forged"})
    assert resp.status_code == 403 and "请刷新页面后重试" in resp.get_data(as_text=True)
    assert browser.get("/console/").status_code == 200  # still signed in


def test_logout_ends_the_session(browser, signed_in):
    admin = signed_in("admin")
    page = browser.get("/console/").get_data(as_text=True)
    resp = browser.post("/console/logout", data={"csrf_token": csrf_of(page)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/login?reason=logout"
    assert browser.get("/console/").status_code == 302
    [event] = audit_actions("console_sign_out")
    assert event.entity_id == admin.user["id"]


def test_logout_by_htmx_header_token(browser, signed_in):
    signed_in("admin")
    page = browser.get("/console/").get_data(as_text=True)
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', page).group(1)
    resp = browser.post("/console/logout", headers={**HTMX, "X-CSRF-Token": token})
    assert resp.headers["HX-Redirect"] == "/console/login?reason=logout"


def test_a_stolen_cookie_is_useless_after_logout(browser, signed_in, new_browser):
    signed_in("admin")
    cookie = browser.get_cookie("zhhq_console")
    page = browser.get("/console/").get_data(as_text=True)
    browser.post("/console/logout", data={"csrf_token": csrf_of(page)})
    copy = new_browser()
    copy.set_cookie("zhhq_console", cookie.value)
    resp = copy.get("/console/")
    assert resp.status_code == 302 and "reason=ended" in resp.headers["Location"]


def test_session_cookie_is_httponly_and_lax(browser, signed_in):
    signed_in("admin")
    cookie = browser.get_cookie("zhhq_console")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_role_removal_ends_the_session(browser, signed_in, login):
    dispatcher = signed_in("dispatcher")
    assert browser.get("/console/").status_code == 200
    admin = login("admin")
    staff_id = db.session.scalar(select(StaffMember.id).where(StaffMember.number == "D0001"))
    assert admin.put(f"/api/v1/admin/staff/{staff_id}/roles", json={"roles": ["teacher"]}).status_code == 200
    resp = browser.get("/console/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/login?reason=role"
    assert "权限已被取消" in browser.get(resp.headers["Location"]).get_data(as_text=True)
    [event] = audit_actions("console_session_end")
    assert event.entity_id == dispatcher.user["id"] and event.data["reason"] == "role_removed"
    # the role given back does not revive the old session
    admin.put(f"/api/v1/admin/staff/{staff_id}/roles", json={"roles": ["dispatcher", "teacher"]})
    assert browser.get("/console/").status_code == 302


def test_idle_timeout(browser, signed_in, clock, app):
    signed_in("admin")
    assert app.config["CONSOLE_IDLE_MINUTES"] == 30
    clock.shift(minutes=29)
    assert browser.get("/console/").status_code == 200  # a request resets the idle time
    clock.shift(minutes=29)
    assert browser.get("/console/").status_code == 200
    clock.shift(minutes=31)
    resp = browser.get("/console/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/login?reason=idle"
    assert "长时间未操作" in browser.get(resp.headers["Location"]).get_data(as_text=True)
    [event] = audit_actions("console_session_end")
    assert event.data["reason"] == "idle"


def test_console_link_signs_in_once(app, browser, new_browser, demo):
    result = app.test_cli_runner().invoke(args=["console-link", "A0001"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[0]
    path = link.split("127.0.0.1:5000", 1)[1]
    assert re.fullmatch(r"/console/link/[A-Za-z0-9_-]{32}", path)
    resp = browser.get(path)
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/"
    assert "孙主任" in browser.get("/console/").get_data(as_text=True)
    other = new_browser()
    resp = other.get(path)
    assert resp.headers["Location"] == "/console/login?reason=link"
    assert other.get("/console/").status_code == 302
    events = audit_actions("console_link_issued", "console_sign_in")
    assert [e.action for e in events] == ["console_link_issued", "console_sign_in"]
    assert events[1].data["via"] == "link"


def test_console_link_expires_after_ten_minutes(app, browser, demo, clock):
    link = app.test_cli_runner().invoke(args=["console-link", "F0001"]).output.strip().splitlines()[0]
    clock.shift(minutes=10, seconds=1)
    assert browser.get(link.split("5000", 1)[1]).headers["Location"] == "/console/login?reason=link"


def test_console_link_needs_a_console_role(app, demo):
    result = app.test_cli_runner().invoke(args=["console-link", "T0001"])
    assert result.exit_code == 1 and "没有管理后台的角色" in result.output
    assert len(audit_actions("console_sign_in_refused")) == 1
    result = app.test_cli_runner().invoke(args=["console-link", "NOPE"])
    assert result.exit_code == 1 and "未找到该工号" in result.output


def test_the_sign_in_page_is_rate_limited(browser, app):
    answers = [browser.get("/console/login").status_code for _ in range(31)]
    assert answers[:30] == [200] * 30 and answers[30] == 429
    page = browser.get("/console/login").get_data(as_text=True)
    assert "操作太频繁，请稍后再试" in page


def test_racing_polls_start_one_session(app, browser, login, new_browser):
    admin = login("admin")
    token = login_token(browser.get("/console/login").get_data(as_text=True))
    assert admin.post(f"/api/v1/console/logins/{token}/confirm").status_code == 200
    cookie = browser.get_cookie("zhhq_console").value
    tabs = []
    for _ in range(6):  # the same browser's tabs (the same cookie) polling at once
        tab = new_browser()
        tab.set_cookie("zhhq_console", cookie)
        tabs.append(tab)
    db.session.remove()
    answers = race([lambda tab=tab: tab.get(f"/console/login/{token}/status", headers=HTMX) for tab in tabs])
    signed = [a for a in answers if a.headers.get("HX-Redirect") == "/console/"]
    assert len(signed) == 1
    assert len(audit_actions("console_sign_in")) == 1


def test_racing_confirmations_one_wins(app, browser, login):
    admin, dispatcher = login("admin"), login("dispatcher")
    token = login_token(browser.get("/console/login").get_data(as_text=True))
    db.session.remove()
    answers = race([lambda who=who: who.post(f"/api/v1/console/logins/{token}/confirm") for who in (admin, dispatcher)])
    assert sorted(a.status_code for a in answers) == [200, 409]
    winner = admin if answers[0].status_code == 200 else dispatcher
    browser.get(f"/console/login/{token}/status", headers=HTMX)
    assert winner.user["id"] == audit_actions("console_sign_in")[0].entity_id


def test_a_link_opened_twice_at_once_signs_in_once(app, new_browser, demo):
    link = app.test_cli_runner().invoke(args=["console-link", "A0001"]).output.strip().splitlines()[0]
    path = link.split("5000", 1)[1]
    browsers = [new_browser() for _ in range(6)]
    db.session.remove()
    answers = race([lambda b=b: b.get(path) for b in browsers])
    assert sorted(a.headers["Location"] for a in answers) == ["/console/"] + ["/console/login?reason=link"] * 5
    assert len(audit_actions("console_sign_in")) == 1


def test_a_refused_scan_does_not_spoil_someone_elses(browser, login):
    admin, teacher = login("admin"), login("teacher")
    token = login_token(browser.get("/console/login").get_data(as_text=True))
    assert admin.post(f"/api/v1/console/logins/{token}/scan").status_code == 200
    assert teacher.post(f"/api/v1/console/logins/{token}/scan").status_code == 403
    assert admin.post(f"/api/v1/console/logins/{token}/confirm").status_code == 200
    assert browser.get(f"/console/login/{token}/status", headers=HTMX).headers["HX-Redirect"] == "/console/"


def test_the_qr_code_is_the_mini_program_link_with_the_token(browser, app):
    page = browser.get("/console/login").get_data(as_text=True)
    token = login_token(page)
    src = re.search(r'<img id="login-qr" src="([^"]+)"', page).group(1)
    expected = codes.qr_data_uri(f"{app.config['WECHAT_QR_LINK_BASE']}console-login?token={token}")
    assert src == expected  # what the mini-program's scene parser takes (miniprogram/utils/scene.js)


def test_the_session_cookie_is_secure_in_production():
    assert flask_config(load_settings({"APP_ENV": "production"}))["SESSION_COOKIE_SECURE"] is True
    assert flask_config(load_settings({"APP_ENV": "development"}))["SESSION_COOKIE_SECURE"] is False
