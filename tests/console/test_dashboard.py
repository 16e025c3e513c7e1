"""首页: the figures and charts each console role may see, from the domains' services."""

from __future__ import annotations

import json
import re

from tests.console.conftest import HTMX
from tests.repairs.conftest import category_id, report


def figure(page: str, name: str) -> str:
    match = re.search(rf'id="figure-{name}" title="([^"]+)">.*?<div class="figure">(.*?)</div>', page, re.S)
    assert match, name
    return re.sub(r"<[^>]+>", "", match.group(2)).strip()


def definition(page: str, name: str) -> str:
    return re.search(rf'id="figure-{name}" title="([^"]+)"', page).group(1)


def chart_data(page: str) -> dict:
    return json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', page, re.S)
                      .group(1))


def test_admin_sees_repairs_meetings_and_notifications(browser, signed_in, login, clock):
    clock.move_to("2026-10-14T10:00:00+08:00")  # the month's days in the chart
    teacher = login("teacher")
    report(teacher, category_id=category_id("water_electric"))
    report(teacher, category_id=category_id("network"))
    signed_in("admin")
    page = browser.get("/console/").get_data(as_text=True)
    assert figure(page, "repairs-open") == "2" and figure(page, "repairs-today") == "2"
    assert figure(page, "repairs-month") == "2" and figure(page, "repairs-sla") == "—"
    assert figure(page, "repairs-satisfaction") == "—"
    assert "不含超时自动好评" in definition(page, "repairs-satisfaction")
    assert figure(page, "meetings-rate") == "—" and figure(page, "meetings-held") == "0"
    assert figure(page, "notifications-dead") == "0"
    assert "签到人次 ÷（应到人次 − 请假人次）" in definition(page, "meetings-rate")
    charts = chart_data(page)
    assert charts["daily"]["labels"][0] == "10/1" and charts["daily"]["labels"][-1] == "10/14"
    assert charts["daily"]["values"][-1] == 2 and sum(charts["daily"]["values"]) == 2
    assert sorted(c["value"] for c in charts["categories"]) == [1, 1]
    assert "vendor/echarts/echarts.min.js" in page and 'id="chart-daily"' in page


def test_overdue_repairs_show_later(browser, signed_in, login, clock):
    report(login("teacher"))
    clock.shift(days=20)
    signed_in("dispatcher")
    page = browser.get("/console/").get_data(as_text=True)
    assert figure(page, "repairs-overdue") == "1" and figure(page, "repairs-today") == "0"


def test_dispatcher_sees_repairs_only(browser, signed_in):
    signed_in("dispatcher")
    page = browser.get("/console/").get_data(as_text=True)
    assert 'id="section-repairs"' in page
    assert 'id="section-meetings"' not in page and 'id="section-notifications"' not in page


def test_finance_sees_what_the_services_let_them(browser, signed_in):
    signed_in("finance")
    page = browser.get("/console/").get_data(as_text=True)
    assert 'id="section-finance"' in page and 'id="section-repairs"' not in page
    assert 'id="section-meetings"' not in page and "暂无可查看的统计" not in page


def test_dashboard_needs_a_sign_in(browser, app):
    assert browser.get("/console/").headers["Location"] == "/console/login"
    assert browser.get("/console/", headers=HTMX).headers["HX-Redirect"] == "/console/login"


def test_every_figure_has_its_definition_and_a_link(browser, signed_in):
    """Admins see every section, the payments' figures too; finance sees its own."""
    for role, shown in (("admin", 23), ("finance", 5)):
        signed_in(role)
        page = browser.get("/console/").get_data(as_text=True)
        cards = re.findall(r'<div class="card" id="figure-([\w-]+)" title="([^"]*)">\s*<div class="label">.*?</div>\s*'
                           r'<div class="figure">(.*?)</div>', page, re.S)
        assert len(cards) == shown, role
        for name, title, inner in cards:
            assert title.strip(), name
            assert re.match(r'<a href="/console/[^"]*">', inner.strip()), name
        browser.post("/console/logout", headers={"X-CSRF-Token": re.search(r'"X-CSRF-Token": "([^"]+)"', page)[1]})
