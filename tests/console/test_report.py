"""月报: each role sees the modules its services allow, the figures are the services' for the month and
the month before, the .xlsx holds the same figures, and a bad ``?month=`` is a 422."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.canteen import service as canteen_service
from app.core import clock
from app.core.audit import AuditEvent
from app.core.db import db
from app.fees import service as fees_service
from app.meetings import service as meetings_service
from app.notifications import service as notifications_service
from app.payments import service as payments_service
from app.repairs import service as repairs_service
from app.users import service as users_service
from tests.canteen.conftest import cook  # noqa: F401 - fixtures
from tests.console.conftest import HTMX
from tests.console.test_canteen import dinner, kitchen  # noqa: F401 - fixtures
from tests.fees.conftest import pay
from tests.repairs.conftest import category_id, place_id, report, user_id


def figure(page: str, name: str) -> tuple[str, str, str]:
    """(definition, value, the comparison line) of a figure as the page prints it."""
    match = re.search(rf'id="figure-{name}" title="([^"]+)">.*?<span class="value">(.*?)</span>.*?'
                      rf'<div class="compare">(.*?)</div>', page, re.S)
    assert match, name
    return match.group(1), match.group(2), re.sub(r"<[^>]+>", "", match.group(3)).strip()


def trend(page: str, name: str) -> str:
    """The colour class of a figure's difference: better (green), worse (red) or none."""
    match = re.search(rf'id="figure-{name}".*?<span class="delta ?([a-z]*)">', page, re.S)
    assert match, name
    return match.group(1)


@pytest.fixture
def two_months(login, clock):
    """One repair in September, three in October (two categories), seen on 14 October."""
    clock.move_to("2026-09-10T09:00:00+08:00")
    report(login("teacher"), category_id=category_id("water_electric"), place_id=place_id("E-ADM-101"))
    clock.move_to("2026-10-02T09:00:00+08:00")
    teacher = login("teacher")
    report(teacher, category_id=category_id("water_electric"), place_id=place_id("E-ADM-102"))
    report(teacher, category_id=category_id("network"), place_id=place_id("E-ADM-201"))
    clock.move_to("2026-10-14T10:00:00+08:00")
    report(login("teacher"), category_id=category_id("network"), place_id=place_id("E-ADM-301"))


def test_admin_sees_every_module_with_the_services_figures(browser, signed_in, two_months):
    signed_in("admin")
    page = browser.get("/console/report?month=2026-10").get_data(as_text=True)
    assert "月报 · 2026 年 10 月" in page
    for section in ("repairs", "meetings", "notifications", "fees", "canteen"):
        assert f'id="section-{section}"' in page, section
    admin = users_service.load_actor(user_id("admin"))
    rows = {r.key: r for r in repairs_service.statistics(actor=admin, by="month", date_from=date(2026, 9, 1),
                                                         date_to=date(2026, 10, 31))}
    assert rows["2026-10"].reports == 3 and rows["2026-09"].reports == 1
    definition, value, compare = figure(page, "repairs-reported")
    assert value == "3" and compare == "上月 1 ↑ +2" and "不含已撤销的" in definition
    assert trend(page, "repairs-reported") == ""  # more reports: neither better nor worse
    assert figure(page, "repairs-completed")[1:] == ("0", "上月 0 → +0")
    # none was accepted: every deadline passed unmet, in both months
    assert rows["2026-10"].sla_compliance == 0.0 and rows["2026-09"].sla_compliance == 0.0
    assert figure(page, "repairs-sla")[1:] == ("0.0", "上月 0.0 → +0.0")
    met = meetings_service.overall(actor=admin, start=date(2026, 10, 1), end=date(2026, 10, 31))
    assert figure(page, "meetings-held")[1] == str(met["meetings"])
    counts = notifications_service.delivery_counts(actor=admin)
    assert figure(page, "notifications-sent")[1] == str(counts["sent"])  # everything so far is October's
    assert "学期累计" in figure(page, "fees-term-rate")[2]
    assert figure(page, "fees-paid")[1] == "0.00"  # admins read the payments too (nothing paid yet)
    charts = json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page,
                                  re.S).group(1))
    daily = repairs_service.daily_reports(actor=admin, date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))
    assert charts["repairs"]["daily"]["values"] == [n for _, n in daily] and sum(n for _, n in daily) == 3
    assert charts["repairs"]["daily"]["labels"][:2] == ["10/1", "10/2"] and len(daily) == 31
    assert sorted(c["value"] for c in charts["repairs"]["categories"]) == [1, 2]
    assert 'id="nav-report"' in page and "@page { size: A4" in page


def test_the_canteen_figures_are_the_canteen_services(browser, signed_in, dinner):  # noqa: F811 - imported fixture
    """Tonight's two department orders (one picked up): the month's orders, sales and waste, summed over
    every canteen."""
    signed_in("canteen")
    page = browser.get("/console/report").get_data(as_text=True)
    assert 'id="section-canteen"' in page and 'id="section-repairs"' not in page
    staff = users_service.load_actor(user_id("canteen"))
    days = [date(2026, 10, d) for d in range(1, 32)]
    orders = sum(canteen_service.day_figures(actor=staff, day=d)["orders"] for d in days)
    rows = [r for c in canteen_service.list_canteens()  # the demo's canteen too
            for r in canteen_service.sales(actor=staff, canteen_id=c.id, date_from=days[0], date_to=days[-1])]
    assert orders == 2 and len(canteen_service.list_canteens()) == 2
    assert figure(page, "canteen-orders")[1:] == ("2", "上月 0 ↑ +2")
    assert figure(page, "canteen-sales")[1] == f"{sum(r.revenue_fen for r in rows) / 100:,.2f}"
    assert figure(page, "canteen-waste")[1] == f"{sum(r.waste for r in rows):,}"
    assert trend(page, "canteen-waste") == "worse" and trend(page, "canteen-orders") == "better"  # red / green


def test_the_previous_month_is_compared_with_its_own_previous(browser, signed_in, two_months):
    signed_in("admin")
    page = browser.get("/console/report?month=2026-09").get_data(as_text=True)
    assert figure(page, "repairs-reported")[1:] == ("1", "上月 0 ↑ +1")
    assert 'id="report-next"' in page


def test_each_role_sees_only_what_its_services_allow(browser, signed_in, parent, chen_bills, app, sim):
    checkout = parent.post("/api/v1/fees/checkouts", json={"bill_ids": chen_bills[:1]}).get_json()
    pay(app, sim, checkout["payment_id"])  # 学费 4800.00, paid today
    signed_in("dispatcher")
    page = browser.get("/console/report").get_data(as_text=True)
    assert 'id="section-repairs"' in page
    assert all(f'id="section-{s}"' not in page for s in ("meetings", "notifications", "fees", "canteen"))
    browser.post("/console/logout", headers={"X-CSRF-Token": re.search(r'"X-CSRF-Token": "([^"]+)"', page)[1]})
    signed_in("finance")
    page = browser.get("/console/report").get_data(as_text=True)
    assert 'id="section-fees"' in page and 'id="figure-fees-paid"' in page
    finance = users_service.load_actor(user_id("finance"))
    month = clock.local_now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    paid = payments_service.paid_figures(actor=finance, since=month, until=month + timedelta(days=31))
    assert paid["amount_fen"] == 480000 and figure(page, "fees-paid")[1:] == ("4,800.00", "上月 0.00 ↑ +4,800.00")
    term = fees_service.term_collection(actor=finance, term="2026秋")
    assert term["paid_fen"] == 480000 and figure(page, "fees-term-collected")[1:] == ("4,800.00", "学期累计")
    assert all(f'id="section-{s}"' not in page for s in ("repairs", "meetings", "notifications", "canteen"))


def test_the_xlsx_holds_the_figures_of_the_page(browser, signed_in, two_months):
    signed_in("admin")
    resp = browser.get("/console/report/export?month=2026-10")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert "monthly-report-2026-10.xlsx" in resp.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(resp.data), read_only=True)
    rows = list(book["月报 2026-10"].iter_rows(values_only=True))
    assert rows[0] == ("模块", "指标", "本月", "上月", "变化", "单位", "口径")
    by_label = {(r[0], r[1]): r for r in rows[1:]}
    assert by_label[("报修", "报修数")][2:5] == (3, 1, 2)
    assert "不含已撤销的" in by_label[("报修", "报修数")][6]
    assert ("会议", "出勤率") in by_label and ("食堂", "订单数") in by_label
    daily = list(book["报修每日"].iter_rows(values_only=True))
    assert daily[1] == ("10/1", 0) and daily[2] == ("10/2", 2) and len(daily) == 32
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "console_report")).one()
    assert exported.action == "export" and exported.actor_id == user_id("admin")
    assert exported.data["month"] == "2026-10" and "canteen" in exported.data["sections"]


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-10", "2026-10-01", "abcd-ef", "1999-12", "2026-11",
                                   "２０２６-10"])
def test_a_bad_month_is_refused(browser, signed_in, month):
    signed_in("admin")
    for url in ("/console/report", "/console/report/export"):
        resp = browser.get(url, query_string={"month": month})
        assert resp.status_code == 422, (url, month)
        assert "月" in resp.get_data(as_text=True)
    resp = browser.get("/console/report", query_string={"month": "2026-13"}, headers=HTMX)
    assert resp.status_code == 422 and resp.headers["HX-Retarget"] == "#console-error"


def test_the_report_needs_a_sign_in(browser, app):
    assert browser.get("/console/report").headers["Location"] == "/console/login"
