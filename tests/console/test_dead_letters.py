"""推送失败: the notifications' dead deliveries in the console, retried through the same service as the API."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import db
from app.notifications.models import Delivery
from tests.conftest import drain
from tests.console.conftest import HTMX


def csrf(browser) -> str:
    page = browser.get("/console/").get_data(as_text=True)
    return re.search(r'"X-CSRF-Token": "([^"]+)"', page).group(1)


def figure(page: str, status: str) -> str:
    return re.search(rf'id="delivery-{status}" title="[^"]+">\s*<div class="label">[^<]*</div>\s*'
                     rf'<div class="figure">(\d+)</div>', page).group(1)


def status_of(delivery_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Delivery, delivery_id).status


def test_admin_sees_dead_deliveries_with_figures(browser, signed_in, dead_letter):
    delivery = dead_letter("停水通知")
    signed_in("admin")
    home = browser.get("/console/").get_data(as_text=True)
    assert 'href="/console/dead-letters"' in home  # 首页's figure and the menu lead here
    page = browser.get("/console/dead-letters").get_data(as_text=True)
    row = re.search(rf'<tr id="delivery-row-{delivery}".*?</tr>', page, re.S).group(0)
    assert "停水通知" in row and "张老师" in row and "订阅消息" in row and "已停止发送" in row
    assert "47003" in row and 'hx-target="#delivery-row-' in row and 'hx-swap="outerHTML"' in row
    assert figure(page, "dead") == "1" and figure(page, "skipped") == "0"
    assert "共 1 条" in page


def test_retry_without_csrf_token_is_refused(browser, signed_in, dead_letter):
    delivery = dead_letter()
    signed_in("admin")
    resp = browser.post(f"/console/dead-letters/{delivery}/retry", headers=HTMX)
    assert resp.status_code == 403 and resp.headers["HX-Retarget"] == "#console-error"
    assert "安全校验未通过" in resp.get_data(as_text=True)
    assert status_of(delivery) == "dead"


def test_retry_queues_it_again_like_the_api(app, browser, signed_in, dead_letter):
    delivery = dead_letter()
    admin = signed_in("admin")
    token = csrf(browser)
    resp = browser.post(f"/console/dead-letters/{delivery}/retry", headers={**HTMX, "X-CSRF-Token": token})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and f'<tr id="delivery-row-{delivery}" data-status="pending">' in body
    assert "待发送" in body and 'class="retry"' not in body
    assert 'id="delivery-figures" hx-swap-oob="true"' in body and figure(body, "dead") == "0"
    assert figure(body, "pending") == "1"
    assert status_of(delivery) == "pending"
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "notification_delivery"))
    assert event.actor_id == admin.user["id"] and event.after == {"status": "pending"}
    again = browser.post(f"/console/dead-letters/{delivery}/retry", headers={**HTMX, "X-CSRF-Token": token})
    assert again.status_code == 200  # a double click: ignored, as in the API
    drain(app)
    assert status_of(delivery) == "sent"
    late = browser.post(f"/console/dead-letters/{delivery}/retry", headers={**HTMX, "X-CSRF-Token": token})
    assert late.status_code == 409 and late.headers["HX-Retarget"] == "#console-error"
    assert "该消息已发送，不能重试" in late.get_data(as_text=True)


def test_dead_letters_are_for_admins(browser, signed_in, dead_letter):
    delivery = dead_letter()
    signed_in("dispatcher")
    assert 'id="nav-dead-letters"' not in browser.get("/console/").get_data(as_text=True)
    resp = browser.get("/console/dead-letters")
    assert resp.status_code == 403 and "没有权限" in resp.get_data(as_text=True)
    resp = browser.post(f"/console/dead-letters/{delivery}/retry", headers={**HTMX, "X-CSRF-Token": csrf(browser)})
    assert resp.status_code == 403 and status_of(delivery) == "dead"


def test_unknown_delivery_and_odd_pages(browser, signed_in):
    signed_in("admin")
    resp = browser.post("/console/dead-letters/999/retry", headers={**HTMX, "X-CSRF-Token": csrf(browser)})
    assert resp.status_code == 404 and "消息不存在" in resp.get_data(as_text=True)
    for page in ("abc", "0", "-1", "99999999999"):
        resp = browser.get(f"/console/dead-letters?page={page}")
        assert resp.status_code == 200 and "暂无推送失败的消息" in resp.get_data(as_text=True)


def test_dead_letters_need_a_sign_in(browser, app):
    assert browser.get("/console/dead-letters").headers["Location"] == "/console/login"
    assert browser.post("/console/dead-letters/1/retry").headers["Location"] == "/console/login"
