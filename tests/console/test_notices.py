"""通知 in the console: a notice to roles through the service the API's admin notice endpoint calls (the
page asks before sending; audited; the form checked by the API's schema), and the deliveries by day
(已发送 / 失败待重试 / 已停止发送) with a chart; admins only, CSRF."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import db
from app.notifications.models import Notification
from app.users import seed as users_seed
from tests.console.conftest import HTMX
from tests.console.test_finance import count, csrf, post

TODAY = "2026-10-14"  # the fixed clock's day


def test_send_a_notice_to_roles_through_the_service(browser, signed_in):
    signed_in("admin")
    page = browser.get("/console/notices").get_data(as_text=True)
    assert 'hx-confirm="确定把这条通知发送给所选角色的所有人？发送后不能撤回。"' in page  # asks first
    resp = post(browser, "/console/notices", {"title": "停水通知", "body": "明天 8:00-12:00 停水",
                                              "roles": ["worker", "canteen"], "urgency": "urgent"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and '<strong class="recipients">2</strong>' in body
    demo = users_seed.demo_user_ids()
    db.session.rollback()
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.title == "停水通知")))
    assert told == {demo["worker"], demo["canteen"]}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "notice"))
    assert event.action == "send" and event.after["roles"] == ["canteen", "worker"] and event.after["audience"] == 2


def test_a_bad_notice_is_refused_and_sends_nothing(browser, signed_in):
    signed_in("admin")
    token = csrf(browser)
    for form, words in [({"title": "", "body": "x", "roles": ["worker"]}, "标题"),
                        ({"title": "停电", "body": "x"}, "发送对象"),
                        ({"title": "停电\n通知", "body": "x", "roles": ["worker"]}, "不能换行"),
                        ({"title": "停电", "body": "x", "roles": ["nobody"]}, "发送对象"),
                        ({"title": "停电", "body": "x", "roles": ["worker"], "urgency": "now"}, "紧急程度")]:
        resp = post(browser, "/console/notices", form, token)
        assert resp.status_code == 422 and resp.headers["HX-Retarget"] == "#console-error", form
        assert words in resp.get_data(as_text=True), form
    resp = browser.post("/console/notices", data={"title": "停电", "body": "x", "roles": "worker"}, headers=HTMX)
    assert resp.status_code == 403 and "安全校验未通过" in resp.get_data(as_text=True)
    assert count(Notification) == 0 and count(AuditEvent, AuditEvent.entity_type == "notice") == 0


def test_only_admins_send_notices(browser, signed_in):
    signed_in("dispatcher")
    assert 'id="nav-notices"' not in browser.get("/console/").get_data(as_text=True)
    assert browser.get("/console/notices").status_code == 403
    resp = post(browser, "/console/notices", {"title": "停电", "body": "x", "roles": ["worker"]})
    assert resp.status_code == 403 and count(Notification) == 0
    signed_in("finance")
    assert browser.get("/console/notices").status_code == 403


def test_the_notices_page_needs_a_sign_in(browser, app):
    assert browser.get("/console/notices").headers["Location"] == "/console/login"
    assert browser.post("/console/notices").headers["Location"] == "/console/login"


def test_deliveries_by_day_with_their_chart(browser, signed_in, dead_letter):
    dead_letter("停水通知")
    signed_in("admin")
    page = browser.get("/console/notices").get_data(as_text=True)
    days = re.findall(r'<tr id="day-([\d-]+)">', page)
    assert len(days) == 14 and days[-1] == TODAY
    today = re.search(rf'<tr id="day-{TODAY}">(.*?)</tr>', page).group(1)
    assert re.search(r'<td class="dead">(\d+)</td>', today).group(1) == "1"
    assert re.search(r'<td class="sent">(\d+)</td>', today).group(1) == "0"
    chart = json.loads(re.search(r'<script id="deliveries-data" type="application/json">(.*?)</script>', page).group(1))
    assert chart["days"][-1] == TODAY
    assert {s["status"]: s["data"][-1] for s in chart["series"]} == {"sent": 0, "failed": 0, "dead": 1}
    assert "vendor/echarts/echarts.min.js" in page and 'id="chart-deliveries"' in page
    earlier = browser.get("/console/notices?start=2026-09-01&end=2026-09-30").get_data(as_text=True)
    assert len(re.findall(r'<tr id="day-', earlier)) == 30 and '<td class="dead">1</td>' not in earlier
    assert browser.get("/console/notices?start=2026-01-01&end=2026-12-31").status_code == 422
    assert browser.get("/console/notices?start=2026-10-14&end=2026-10-01").status_code == 422
