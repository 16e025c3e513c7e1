"""报修 in the console: the dispatcher's working queue (the lists 首页's repair figures lead to; 派单 and 转派
through the repairs service, filters, sort, pages), a repair's detail with its photos, and the statistics."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.console.finance import XLSX
from app.core.audit import AuditEvent
from app.core.db import db
from tests.console.conftest import HTMX, post
from tests.repairs.conftest import category_id, demo_group_id, place_id, repair, report, upload, user_id


def listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="repair-(\d+)"', page)]


def test_dashboard_figures_lead_to_the_queue(browser, signed_in, login, clock):
    teacher = login("teacher")
    first = report(teacher, category_id=category_id("water_electric"))["repair"]
    clock.shift(days=20)
    second = report(login("teacher"), category_id=category_id("network"))["repair"]
    signed_in("dispatcher")
    home = browser.get("/console/").get_data(as_text=True)
    for view in ("open", "overdue", "unassigned"):
        assert f'href="/console/repairs?view={view}"' in home
    page = browser.get("/console/repairs?view=open").get_data(as_text=True)
    assert listed(page) == [first["id"], second["id"]]  # overdue first
    assert "（已超时）" in re.search(rf'<tr id="repair-{first["id"]}".*?</tr>', page, re.S).group(0)
    assert "东校区" in page and "共 2 条" in page
    overdue = browser.get("/console/repairs?view=overdue").get_data(as_text=True)
    assert listed(overdue) == [first["id"]]
    unassigned = browser.get("/console/repairs?view=unassigned").get_data(as_text=True)
    api = login("dispatcher").get("/api/v1/repairs/queue?unassigned=true").json
    assert listed(unassigned) == [r["id"] for r in api]


def test_an_unknown_view_is_the_open_queue(browser, signed_in):
    signed_in("admin")
    page = browser.get("/console/repairs?view=nope&page=x").get_data(as_text=True)
    assert "报修 · 未完成工单" in page and "没有未完成工单" in page


def test_the_queue_is_for_dispatchers_and_admins(browser, signed_in):
    signed_in("finance")
    assert 'id="nav-repairs"' not in browser.get("/console/").get_data(as_text=True)
    resp = browser.get("/console/repairs")
    assert resp.status_code == 403 and "仅调度员可查看派单队列" in resp.get_data(as_text=True)


def test_the_queue_needs_a_sign_in(browser, app):
    assert browser.get("/console/repairs").headers["Location"] == "/console/login"


# --- the working queue: 派单 / 转派, filters, sort, pages ------------------------------------------------


@pytest.fixture
def off_duty(login):
    """李师傅 (the demo's only worker on duty) off duty: new reports wait in the queue for a dispatcher."""
    resp = login("dispatcher").put(f"/api/v1/repairs/groups/{demo_group_id()}/members/{user_id('worker')}",
                                   json={"on_duty": False})
    assert resp.status_code == 200, resp.json


def queued(session, **kw) -> int:
    return report(session, insist=True, **kw)["repair"]["id"]


def row_of(page: str, repair_id: int) -> str:
    return re.search(rf'<tr id="repair-{repair_id}".*?</tr>', page, re.S).group(0)


def audited(repair_id: int, action: str) -> list[int | None]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.actor_id).where(
        AuditEvent.entity_type == "repairs", AuditEvent.entity_id == repair_id, AuditEvent.action == action)))


def test_a_dispatcher_assigns_from_the_queue_and_the_worker_has_the_task(browser, signed_in, login, off_duty):
    rid = queued(login("teacher"))
    dispatcher = signed_in("dispatcher")
    row = row_of(browser.get("/console/repairs?view=unassigned").get_data(as_text=True), rid)
    assert f'hx-post="/console/repairs/{rid}/assign"' in row and f'hx-target="#repair-{rid}"' in row
    assert "李师傅（不在岗，未完成 0）" in row and f'href="/console/repairs/{rid}"' in row
    resp = post(browser, f"/console/repairs/{rid}/assign", {"worker_id": str(user_id("worker"))})
    assert resp.status_code == 200
    swapped = resp.get_data(as_text=True)
    assert swapped.lstrip().startswith(f'<tr id="repair-{rid}"')  # the row as it now is, for hx-swap outerHTML
    assert "待接单" in swapped and "李师傅" in swapped and "hx-confirm" in swapped  # now 转派, asked first
    assert audited(rid, "assign") == [dispatcher.user["id"]]  # the service's audit, with the console's actor
    assert rid in [t["id"] for t in login("worker").get("/api/v1/repairs/tasks?tab=new").json]
    assert login("dispatcher").get(f"/api/v1/repairs/{rid}").json["assignee_name"] == "李师傅"


def test_assigning_what_someone_already_assigned_is_the_services_409(browser, signed_in, login, off_duty,
                                                                      second_worker):
    rid = queued(login("teacher"))
    signed_in("dispatcher")
    assert f"/console/repairs/{rid}/assign" in browser.get("/console/repairs").get_data(as_text=True)
    other = login("admin")  # meanwhile, in the mini-program
    assert other.post(f"/api/v1/repairs/{rid}/assign", json={"worker_id": second_worker.user["id"]}).status_code == 200
    resp = post(browser, f"/console/repairs/{rid}/assign", {"worker_id": str(user_id("worker"))})
    api = other.post(f"/api/v1/repairs/{rid}/assign", json={"worker_id": user_id("worker")})
    assert (resp.status_code, api.status_code) == (409, 409)
    assert resp.headers["HX-Retarget"] == "#console-error"
    assert api.json["message"] in resp.get_data(as_text=True) and "待接单" in api.json["message"]
    assert repair(rid).assignee_id == second_worker.user["id"]


def test_transfer_asks_first_and_bad_choices_are_refused(browser, signed_in, login, second_worker):
    rid = report(login("teacher"))["repair"]["id"]  # dispatched to 李师傅 at once
    signed_in("admin")
    row = row_of(browser.get("/console/repairs").get_data(as_text=True), rid)
    assert f'hx-post="/console/repairs/{rid}/transfer"' in row and 'hx-confirm="将工单' in row
    assert "/assign" not in row
    missing = post(browser, f"/console/repairs/{rid}/transfer", {"worker_id": ""})
    assert missing.status_code == 422 and "请选择维修工" in missing.get_data(as_text=True)
    same = post(browser, f"/console/repairs/{rid}/transfer", {"worker_id": str(user_id("worker"))})
    assert same.status_code == 422 and "已经是这位维修工" in same.get_data(as_text=True)
    teacher = post(browser, f"/console/repairs/{rid}/transfer", {"worker_id": str(user_id("teacher"))})
    assert teacher.status_code == 422 and "该用户不是在职维修工" in teacher.get_data(as_text=True)
    resp = post(browser, f"/console/repairs/{rid}/transfer", {"worker_id": str(second_worker.user["id"]),
                                                              "reason": "李师傅请假"})
    assert resp.status_code == 200 and "郑师傅" in resp.get_data(as_text=True)
    last = login("dispatcher").get(f"/api/v1/repairs/{rid}").json["timeline"][-1]
    assert (last["action"], last["note"]) == ("transfer", "派给郑师傅：李师傅请假")


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(browser, signed_in, login, off_duty):
    rid = queued(login("teacher"))
    signed_in("dispatcher")
    for action, data in [("assign", {"worker_id": str(user_id("worker"))}), ("transfer", {"worker_id": "1"}),
                         ("cancel", {}), ("reopen", {"reason": "x"}), ("reprioritise", {"urgency": "urgent"})]:
        resp = browser.post(f"/console/repairs/{rid}/{action}", data=data, headers=HTMX)
        assert resp.status_code == 403 and resp.headers["HX-Retarget"] == "#console-error", action
        assert "安全校验未通过" in resp.get_data(as_text=True)
        wrong = post(browser, f"/console/repairs/{rid}/{action}", data, token="forged")
        assert wrong.status_code == 403, action
    r = repair(rid)
    assert (r.status, r.assignee_id, r.urgency) == ("submitted", None, "normal")
    assert audited(rid, "assign") == [] and audited(rid, "cancel") == []


def test_filters_sort_and_pages_on_the_server(browser, signed_in, login, off_duty, clock):
    teacher = login("teacher")
    water = queued(teacher)
    clock.shift(minutes=5)
    network = queued(teacher, category_id=category_id("network"), place_id=place_id("E-TA-101"))
    signed_in("dispatcher")

    def ids(query: str) -> list[int]:
        return listed(browser.get(f"/console/repairs?{query}").get_data(as_text=True))

    assert ids("") == [water, network]
    assert ids(f"category_id={category_id('network')}") == [network]
    assert ids(f"building_id={place_id('E-ADM')}") == [water]
    assert ids(f"building_id={place_id('E-TA')}&category_id={category_id('water_electric')}") == []
    assert ids("sort=newest") == [network, water] and ids("sort=oldest") == [water, network]
    assert ids("status=assigned") == [] and ids("status=submitted") == [water, network]
    assert ids("status=nope&sort=nope&category_id=x") == [water, network]  # unknown values: no filter
    page = browser.get(f"/console/repairs?category_id={category_id('network')}").get_data(as_text=True)
    assert f'<option value="{category_id("network")}" selected>' in page  # the filter stays chosen

    more = [queued(teacher) for _ in range(20)]
    first = browser.get("/console/repairs?sort=oldest").get_data(as_text=True)
    assert listed(first) == [water, network, *more[:18]] and "共 22 条 · 第 1 / 2 页" in first
    assert 'href="/console/repairs?page=2&amp;view=open&amp;sort=oldest"' in first
    assert ids("sort=oldest&page=2") == more[18:]
    api = login("dispatcher").get("/api/v1/repairs/queue?page=1&page_size=20").json
    assert ids("") == [r["id"] for r in api]  # the default order is the API's


@pytest.mark.parametrize("role", ["dispatcher", "admin"])
def test_dispatchers_and_admins_have_the_repairs_pages(browser, signed_in, login, role):
    rid = report(login("teacher"), photos=1)["repair"]["id"]
    signed_in(role)
    home = browser.get("/console/").get_data(as_text=True)
    assert 'id="nav-repairs"' in home and 'id="nav-repair-stats"' in home
    photo = repair(rid).photos[0].id
    for url in ("/console/repairs", f"/console/repairs/{rid}", "/console/repairs/stats",
                "/console/repairs/stats/export", f"/console/repairs/photos/{photo}"):
        assert browser.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["finance", "canteen"])
def test_finance_and_canteen_get_403(browser, signed_in, login, role):
    rid = report(login("teacher"))["repair"]["id"]
    signed_in(role)
    home = browser.get("/console/").get_data(as_text=True)
    assert 'id="nav-repairs"' not in home and 'id="nav-repair-stats"' not in home
    for url in ("/console/repairs", f"/console/repairs/{rid}", "/console/repairs/stats",
                "/console/repairs/stats/export"):
        resp = browser.get(url)
        assert resp.status_code == 403, url
        assert "仅调度员" in resp.get_data(as_text=True), url
    for action, data in [("assign", {"worker_id": str(user_id("worker"))}), ("transfer", {"worker_id": "1"}),
                         ("cancel", {}), ("reopen", {"reason": "x"}), ("reprioritise", {"urgency": "urgent"})]:
        resp = post(browser, f"/console/repairs/{rid}/{action}", data)
        assert resp.status_code == 403 and resp.headers["HX-Retarget"] == "#console-error", action
    assert repair(rid).status == "assigned"


# --- a repair ------------------------------------------------------------------------------------------


def test_the_detail_page_shows_everything_about_a_repair(browser, signed_in, login):
    teacher, worker = login("teacher"), login("worker")
    rid = report(teacher, photos=2, urgency="urgent", preferred_time="今天下午",
                 description="301 的灯管闪烁")["repair"]["id"]
    lamp = worker.get("/api/v1/repairs/materials").json[0]
    for action in ("accept", "start"):
        assert worker.post(f"/api/v1/repairs/{rid}/{action}").status_code == 200
    after = upload(worker).json["id"]
    assert worker.post(f"/api/v1/repairs/{rid}/complete", json={
        "labour_minutes": 30, "note": "换了灯管", "photo_ids": [after],
        "materials": [{"material_id": lamp["id"], "quantity": "1.5"}]}).status_code == 200
    assert teacher.post(f"/api/v1/repairs/{rid}/confirm", json={
        "rating": 4, "tags": ["响应及时"], "comment": "很及时"}).status_code == 200
    signed_in("dispatcher")
    page = browser.get(f"/console/repairs/{rid}").get_data(as_text=True)
    api = login("dispatcher").get(f"/api/v1/repairs/{rid}").json
    for text in (api["reporter_name"], "13800000001", "东校区 › 行政楼 › 3F › 301", "水电", "紧急", "今天下午",
                 "301 的灯管闪烁", "已完成", "LED 灯管", "37.50", "30 分钟", "换了灯管", "4 星", "响应及时", "很及时"):
        assert text in page, text
    assert len(api["photos"]) == 3
    for p in api["photos"]:  # thumbnails linking to the photo, both through the console's session
        assert f'href="/console/repairs/photos/{p["id"]}"' in page
        assert f'src="/console/repairs/photos/{p["id"]}?size=thumb"' in page
    events = re.findall(
        r'<tr class="event" data-action="([a-z_]+)"><td>[^<]*</td><td>([^<]*)</td><td class="who">([^<]*)', page)
    assert events == [(t["action"], t["label"], t["actor_name"]) for t in api["timeline"]]
    assert [e[0] for e in events] == ["submit", "assign", "accept", "start", "complete", "confirm"]
    assert 'class="card reopen"' in page and "hx-confirm" in page  # what a dispatcher may do now
    assert 'class="card assign"' not in page and 'class="card transfer"' not in page


def test_photos_are_streamed_to_console_users_who_may_see_them(browser, signed_in, new_browser, login):
    teacher = login("teacher")
    rid = report(teacher, photos=1)["repair"]["id"]
    photo = repair(rid).photos[0].id
    loose = upload(teacher).json["id"]  # not on a repair: the uploader's alone
    signed_in("dispatcher")
    resp = browser.get(f"/console/repairs/photos/{photo}")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert resp.data == login("dispatcher").get(f"/api/v1/repairs/photos/{photo}").data
    assert "private" in resp.headers["Cache-Control"] and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert browser.get(f"/console/repairs/photos/{photo}?size=thumb").status_code == 200
    assert browser.get(f"/console/repairs/photos/{loose}").status_code == 404
    assert browser.get("/console/repairs/photos/999999").status_code == 404
    finance = new_browser()
    assert finance.get(f"/console/repairs/photos/{photo}").headers["Location"] == "/console/login"


def test_actions_from_the_detail_page_reload_it(browser, signed_in, login):
    rid = report(login("teacher"))["repair"]["id"]
    signed_in("dispatcher")
    page = browser.get(f"/console/repairs/{rid}").get_data(as_text=True)
    for form in ("transfer", "reprioritise", "cancel"):
        assert f'class="card {form}"' in page, form
    resp = post(browser, f"/console/repairs/{rid}/reprioritise",
                {"urgency": "urgent", "reason": "漏水", "next": "detail"})
    assert resp.headers["HX-Redirect"] == f"/console/repairs/{rid}"
    assert repair(rid).urgency == "urgent"
    bad = post(browser, f"/console/repairs/{rid}/reprioritise", {"urgency": "whenever", "next": "detail"})
    assert bad.status_code == 422 and "紧急程度" in bad.get_data(as_text=True)
    resp = post(browser, f"/console/repairs/{rid}/cancel", {"reason": "重复报修", "next": "detail"})
    assert resp.headers["HX-Redirect"] == f"/console/repairs/{rid}" and repair(rid).status == "cancelled"
    no_reason = post(browser, f"/console/repairs/{rid}/reopen", {"next": "detail"})
    assert no_reason.status_code == 422 and repair(rid).status == "cancelled"
    page = browser.get(f"/console/repairs/{rid}").get_data(as_text=True)
    assert "已取消" in page and "当前状态下没有可执行的操作" in page and "重复报修" in page


# --- 报修统计 ------------------------------------------------------------------------------------------


def _finish(login, clock, *, accept_after: int, done_after: int, rating: int | None = None, **kw) -> int:
    teacher, worker = login("teacher"), login("worker")
    rid = queued(teacher, **kw)
    clock.shift(minutes=accept_after)
    assert worker.post(f"/api/v1/repairs/{rid}/accept").status_code == 200
    worker.post(f"/api/v1/repairs/{rid}/start")
    clock.shift(minutes=done_after - accept_after)
    lamp = worker.get("/api/v1/repairs/materials").json[0]
    assert worker.post(f"/api/v1/repairs/{rid}/complete", json={
        "labour_minutes": 20, "materials": [{"material_id": lamp["id"], "quantity": "1"}]}).status_code == 200
    if rating:
        assert teacher.post(f"/api/v1/repairs/{rid}/confirm", json={"rating": rating}).status_code == 200
    return rid


def stats_rows(page: str) -> list[dict]:
    cells = re.findall(r'<tr class="stats-row" data-key="([^"]*)">(.*?)</tr>', page, re.S)
    return [{"key": key, **dict(re.findall(r'<td class="([a-z]+)">([^<]*)</td>', body))} for key, body in cells]


def shown(value, unit: str = "") -> str:
    return "—" if value is None else f"{value}{unit}"


def test_statistics_page_shows_the_services_figures(browser, signed_in, login, clock, long_tokens):
    clock.move_to("2026-11-23T01:00:00Z")  # Monday 09:00
    _finish(login, clock, accept_after=10, done_after=70, rating=4)
    clock.move_to("2026-11-23T03:00:00Z")
    _finish(login, clock, accept_after=40, done_after=100, category_id=category_id("network"))
    clock.move_to("2026-12-01T02:00:00Z")
    queued(login("teacher"), place_id=place_id("E-TA-101"))
    dispatcher = signed_in("dispatcher")
    api = login("dispatcher")
    for by in ("category", "building", "worker", "month"):
        page = browser.get(f"/console/repairs/stats?by={by}").get_data(as_text=True)
        figures = api.get(f"/api/v1/repairs/stats?by={by}").json
        assert figures, by
        assert stats_rows(page) == [{
            "key": f["key"], "label": f["label"], "reports": str(f["reports"]), "completed": str(f["completed"]),
            "accept": shown(f["avg_accept_minutes"]), "repair": shown(f["avg_repair_minutes"]),
            "sla": shown(f["sla_compliance"], "%"), "rating": shown(f["avg_rating"], " 星"),
            "cost": f"{f['material_cost_fen'] / 100:,.2f}"} for f in figures], by
        chart = json.loads(re.search(r'<script id="stats-data" type="application/json">(.*?)</script>', page).group(1))
        assert chart == [{"name": f["label"], "reports": f["reports"], "completed": f["completed"],
                          "accept": f["avg_accept_minutes"], "repair": f["avg_repair_minutes"],
                          "sla": f["sla_compliance"], "cost": f["material_cost_fen"] / 100} for f in figures], by
    months = stats_rows(browser.get("/console/repairs/stats?by=month").get_data(as_text=True))
    assert [(m["label"], m["reports"]) for m in months] == [("2026-11", "2"), ("2026-12", "1")]

    page = browser.get("/console/repairs/stats?by=category&from=2026-12-01&to=2026-12-31").get_data(as_text=True)
    december = api.get("/api/v1/repairs/stats?by=category&from=2026-12-01&to=2026-12-31").json
    assert [r["label"] for r in stats_rows(page)] == [r["label"] for r in december] == ["水电"]
    assert 'href="/console/repairs/stats/export?from=2026-12-01&amp;to=2026-12-31"' in page
    assert 'href="/console/repairs/stats?from=2026-12-01&amp;to=2026-12-31&amp;by=worker"' in page
    for query, message in [("from=2026-12-31&to=2026-12-01", "开始日期不能晚于结束日期"),
                           ("from=2026-13-01", "日期格式应为 YYYY-MM-DD"),
                           ("to=1999-01-01", "日期应在 2000 年到 2100 年之间")]:
        resp = browser.get(f"/console/repairs/stats?{query}")
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), query

    resp = browser.get("/console/repairs/stats/export?from=2026-11-01&to=2026-11-30")
    assert resp.status_code == 200 and resp.mimetype == XLSX
    assert "repairs-stats.xlsx" in resp.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["按类别", "按楼栋", "按维修工", "按月份", "明细"]
    assert len(list(book["明细"].iter_rows(values_only=True))) == 3  # the header and November's two
    db.session.rollback()
    export = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "repair_export")).one()
    assert export.actor_id == dispatcher.user["id"] and export.data == {"from": "2026-11-01", "to": "2026-11-30"}
