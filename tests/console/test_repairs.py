"""报修工单: the dispatcher's queue in the console, the lists 首页's repair figures lead to."""

from __future__ import annotations

import re

from tests.repairs.conftest import category_id, report


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
