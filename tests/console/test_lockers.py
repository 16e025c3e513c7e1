"""快递柜 in the console: the banks' compartments live (grid by state, polled, offline banks marked), parcels
waiting and overdue with the fee due (filters, pages), door faults with their repair report, the peak-day
capacity chart, the overdue fees collected per day — each figure compared with the lockers service's — and
who may see them (station staff: admins; a dispatcher or finance gets 403 and no link). One test runs in a
real headless Chromium and reads the capacity chart's option data."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select, update

from app.console.lockers import capacity_chart
from app.console.views import _Page
from app.core import clock as app_clock
from app.core.auth import Actor
from app.core.db import db
from app.devices.models import Device
from app.lockers import service as lockers
from app.lockers.models import LockerBank, Parcel
from app.repairs.models import Repair
from app.users.models import User
from tests.console.conftest import HTMX, severe_logs
from tests.console.test_browser import sign_in
from tests.console.test_canteen import count, text_of
from tests.lockers.conftest import make_bank, parcel_row, wait_status  # noqa: F401 - fixtures
from tests.lockers.test_deposit import deposit
from tests.lockers.test_pickup import stored
from tests.support import wait_for

STAFF = Actor(user_id=0, roles=frozenset({"admin"}))
PAGES = ["/console/lockers", "/console/lockers/grid", "/console/lockers/parcels",
         "/console/lockers/parcels?status=overdue", "/console/lockers/faults", "/console/lockers/capacity",
         "/console/lockers/fees"]


@pytest.fixture
def yard(login, make_bank):  # noqa: F811 - the fixture imported above
    """Bank B1 (online; 2 S, 2 M, 2 L) beside the demo's offline bank: two parcels in compartments (one 30
    hours old: ¥1 due), both S doors jammed so an S parcel went to the counter (two door faults), ¥0.50
    of fees paid today."""
    bank = make_bank("SSMMLL")
    courier = login("courier")
    fresh = stored(courier, bank, "SF4000000001", size="M")
    old = stored(courier, bank, "SF4000000002", size="L")
    bank.sim.jam(bank.device_code, "A01", "A02")
    resp = deposit(courier, bank, "SF4000000003", size="S")
    assert resp.status_code == 201
    counter = wait_status(resp.get_json()["id"], "stored")
    assert counter.storage == "counter"
    db.session.execute(update(Parcel).where(Parcel.id == old.id)
                       .values(stored_at=app_clock.now() - timedelta(hours=30)))
    lockers.fee_paid(parcel_id=fresh.id, payment_id=9001, amount_fen=50)
    db.session.commit()
    return {"bank": bank, "fresh": fresh.id, "old": old.id, "counter": counter.id}


def page(browser, url) -> str:
    resp = browser.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return resp.get_data(as_text=True)


# --- who -----------------------------------------------------------------------------------------------


def test_an_admin_sees_the_links_and_every_page(browser, signed_in, yard):
    signed_in("admin")
    home = page(browser, "/console/")
    for nav in ("nav-lockers", "nav-locker-parcels", "nav-locker-capacity"):
        assert f'id="{nav}"' in home
    for url in PAGES:
        page(browser, url)


@pytest.mark.parametrize("role", ["dispatcher", "finance"])
def test_a_dispatcher_or_finance_gets_403_and_no_link(browser, signed_in, yard, role):
    signed_in(role)
    home = page(browser, "/console/")
    assert 'id="nav-lockers"' not in home and 'id="nav-locker-capacity"' not in home
    for url in PAGES:
        resp = browser.get(url)
        assert resp.status_code == 403, url
        assert "B1 号快递柜" not in resp.get_data(as_text=True)  # nothing of the banks leaks
    assert browser.post("/console/lockers/banks", data=FORM).status_code == 403  # no CSRF token
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', home).group(1)
    refused = browser.post("/console/lockers/banks", data=FORM, headers={**HTMX, "X-CSRF-Token": token})
    assert refused.status_code == 403 and "安全校验" not in refused.get_data(as_text=True)  # the role, not CSRF
    assert count(LockerBank) == 2


def test_pages_need_a_sign_in(browser, app):
    for url in PAGES:
        assert browser.get(url).headers["Location"] == "/console/login"


# --- 柜机状态 ------------------------------------------------------------------------------------------


def test_the_grid_shows_every_compartment_by_state_polls_and_marks_offline_banks(browser, signed_in, yard):
    signed_in("admin")
    html = page(browser, "/console/lockers")
    assert 'hx-get="/console/lockers/grid" hx-trigger="every 5s"' in html
    grid = lockers.bank_grid(actor=STAFF)
    assert [b["code"] for b in grid] == ["DORM1-LOCKER", "B1"]
    demo, b1 = grid
    assert not demo["online"] and b1["online"]
    assert b1["counts"] == {"free": 2, "reserved": 0, "occupied": 2, "out_of_service": 2}
    assert f'class="bank card offline" id="bank-{demo["id"]}"' in html
    assert f'class="bank card" id="bank-{b1["id"]}"' in html
    assert text_of(html, f"bank-{demo['id']}").count("离线") == 1
    for c in b1["compartments"]:
        assert f'class="cell {c["status"]}" id="compartment-{c["id"]}" data-status="{c["status"]}"' in html
    partial = page(browser, "/console/lockers/grid")
    assert partial.startswith('<div id="locker-grid"') and "<html" not in partial


# --- 待取包裹 ------------------------------------------------------------------------------------------


def test_parcels_waiting_and_overdue_with_the_fee_due(browser, signed_in, yard):
    signed_in("admin")
    waiting = page(browser, "/console/lockers/parcels")
    ids = re.findall(r'<tr id="parcel-(\d+)"', waiting)
    assert [int(i) for i in ids] == [yard["old"], yard["fresh"], yard["counter"]]  # the longest waiting first
    assert text_of(waiting, f"parcel-{yard['old']}").endswith("待取件（已超期） 0.00 1.00")
    assert text_of(waiting, f"parcel-{yard['fresh']}").endswith("待取件 0.50 0.00")
    assert "驿站货架 H" in text_of(waiting, f"parcel-{yard['counter']}")
    assert "张老师" in text_of(waiting, f"parcel-{yard['fresh']}")

    overdue = page(browser, "/console/lockers/parcels?status=overdue")
    assert re.findall(r'<tr id="parcel-(\d+)"', overdue) == [str(yard["old"])]
    demo_bank = db.session.scalar(select(LockerBank.id).where(LockerBank.code == "DORM1-LOCKER"))
    assert 'id="locker-parcels-empty"' in page(browser, f"/console/lockers/parcels?bank_id={demo_bank}")
    assert 'id="locker-parcels-empty"' in page(browser, "/console/lockers/parcels?status=to_return")
    bad = browser.get("/console/lockers/parcels?status=lost")
    assert bad.status_code == 422 and "状态筛选不正确" in bad.get_data(as_text=True)


def test_the_parcel_list_is_paginated(browser, signed_in, yard):
    user = db.session.scalar(select(User.id).order_by(User.id).limit(1))
    for n in range(20):
        db.session.add(Parcel(tracking_no=f"PG{n:05d}", bank_id=yard["bank"].id, size="M", storage="counter",
                              shelf_code=f"P{n}", status="stored", recipient_id=user, courier_id=user,
                              stored_at=app_clock.now()))
    db.session.commit()
    signed_in("admin")
    first = page(browser, "/console/lockers/parcels")
    assert len(re.findall(r'<tr id="parcel-', first)) == 20 and "共 23 条 · 第 1 / 2 页" in first
    second = page(browser, f"/console/lockers/parcels?status=waiting&bank_id={yard['bank'].id}&page=2")
    assert len(re.findall(r'<tr id="parcel-', second)) == 3 and "共 23 条 · 第 2 / 2 页" in second


# --- 柜门故障 ------------------------------------------------------------------------------------------


def test_door_faults_name_the_repair_report_they_opened(browser, signed_in, yard):
    signed_in("admin")
    html = page(browser, "/console/lockers/faults")
    repair = db.session.scalar(select(Repair))  # the second fault at the same place joined the open report
    faults = lockers.door_faults(actor=STAFF, params=_Page(1))
    assert sorted(f.label for f in faults) == ["A01", "A02"]
    assert [f.repair_id for f in faults] == [repair.id, repair.id]
    assert any(f.label in repair.description for f in faults)
    for f in faults:
        row = text_of(html, f"fault-{f.compartment_id}")
        assert row.startswith(f"B1 号快递柜 {f.label} S 柜门卡住 #{repair.id}")
        assert row.endswith(app_clock.to_local(f.since).strftime("%Y-%m-%d %H:%M"))


# --- 高峰容量 ------------------------------------------------------------------------------------------


def test_the_capacity_chart_data_is_the_services(browser, signed_in, yard):
    signed_in("admin")
    html = page(browser, "/console/lockers/capacity")
    data = json.loads(re.search(r'<script id="capacity-data" type="application/json">(.*?)</script>', html,
                                re.S).group(1))
    assert data == capacity_chart(STAFF)
    banks = lockers.capacity(actor=STAFF)
    assert data["banks"] == ["宿舍1号楼快递柜", "B1 号快递柜"]
    assert data["free"] == {"S": [4, 0], "M": [5, 1], "L": [3, 1]} and data["waiting"] == [0, 3]
    assert data["waiting"] == [b["parcels_waiting"] for b in banks]
    assert data["releases"] == lockers.expected_releases(actor=STAFF)["releases"]
    # the demo pickup hours: the first parcel was told 11:30, the second 12:00 (the counter one holds none)
    assert data["releases"] == [0, 1, 1] + [0] * 9 and data["hours"][:3] == ["10:00", "11:00", "12:00"]
    one = json.loads(re.search(r'id="capacity-data" type="application/json">(.*?)</script>',
                               page(browser, f"/console/lockers/capacity?bank_id={yard['bank'].id}"), re.S).group(1))
    assert one["banks"] == ["B1 号快递柜"] and one["releases"] == data["releases"]


# --- 超期费收入 ----------------------------------------------------------------------------------------


def test_fees_collected_per_day_with_the_total(browser, signed_in, yard):
    signed_in("admin")
    html = page(browser, "/console/lockers/fees")
    assert text_of(html, "fee-day-2026-10-14") == "2026-10-14 1 0.50"
    assert text_of(html, "fee-day-2026-10-08") == "2026-10-08 0 0.00"
    assert text_of(html, "fees-total") == "合计 1 0.50"
    assert lockers.fees_collected(actor=STAFF, date_from=app_clock.local_now().date(),
                                  date_to=app_clock.local_now().date())["total_fen"] == 50
    lockers.fee_paid(parcel_id=yard["fresh"], payment_id=9001, amount_fen=50)  # the same payment again
    db.session.commit()
    assert text_of(page(browser, "/console/lockers/fees?from=2026-10-14&to=2026-10-14"), "fees-total") == "合计 1 0.50"
    assert 'id="fee-day-2026-10-13"' not in page(browser, "/console/lockers/fees?from=2026-10-14&to=2026-10-14")
    bad = browser.get("/console/lockers/fees?from=2026-10-14&to=2026-10-01")
    assert bad.status_code == 422 and "日期范围" in bad.get_data(as_text=True)


# --- 新增快递柜 ----------------------------------------------------------------------------------------

URL = "http://127.0.0.1:9/controllers/x"
FORM = {"code": "GYM1", "name": "体育馆快递柜", "place_code": "E-DORM1", "size_S": "3", "size_M": "0",
        "size_L": "1", "base_url": URL}


def test_a_bank_added_in_the_console_shows_its_secret_once_and_needs_the_csrf_token(app, browser, signed_in):
    signed_in("admin")
    page = browser.get("/console/lockers").get_data(as_text=True)
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', page).group(1)
    assert 'id="add-bank"' in page
    forged = browser.post("/console/lockers/banks", data=FORM, headers={**HTMX, "X-CSRF-Token": "forged"})
    assert forged.status_code == 403 and count(LockerBank) == 1
    resp = browser.post("/console/lockers/banks", data=FORM, headers={**HTMX, "X-CSRF-Token": token})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    secret = re.search(r'<code class="secret">([0-9a-f]{40})</code>', resp.get_data(as_text=True)).group(1)
    db.session.rollback()
    assert db.session.scalar(select(Device.secret).where(Device.code == "locker-gym1")) == secret
    assert secret not in browser.get("/console/lockers").get_data(as_text=True)  # shown once
    bad = browser.post("/console/lockers/banks", data={**FORM, "code": "GYM2", "place_code": "NOWHERE"},
                       headers={**HTMX, "X-CSRF-Token": token})
    assert bad.status_code == 404 and bad.headers["HX-Retarget"] == "#console-error"
    assert count(LockerBank) == 2


# --- in a real browser ---------------------------------------------------------------------------------


def test_the_capacity_chart_in_chromium_draws_what_the_service_returns(chrome, live_url, login, yard, screenshot):
    sign_in(chrome, live_url, login("admin"))
    chrome.find_element(By.ID, "nav-lockers").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/lockers"))
    cell = chrome.find_element(By.CSS_SELECTOR, f"#bank-{yard['bank'].id} .cell.out_of_service")
    assert cell.value_of_css_property("background-color") == "rgba(229, 83, 61, 1)"
    screenshot("lockers-banks")
    # the grid refreshes by itself: a parcel picked up meanwhile frees its compartment on screen
    code = parcel_row(yard["fresh"]).pickup_code
    assert yard["bank"].sim.type_code(yard["bank"].device_code, code)["status"] == 200
    wait_status(yard["fresh"], "picked_up")
    assert wait_for(lambda: lockers.bank_grid(actor=STAFF)[1]["counts"]["free"] == 3)
    WebDriverWait(chrome, 15).until(ec.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f"#bank-{yard['bank'].id} .count-free"), "3"))

    chrome.find_element(By.ID, "nav-locker-capacity").click()
    WebDriverWait(chrome, 10).until(ec.url_to_be(f"{live_url}/console/lockers/capacity"))
    for chart in ("chart-capacity", "chart-releases"):
        canvas = WebDriverWait(chrome, 10).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, f"#{chart} canvas")))
        assert canvas.size["width"] > 100 and canvas.size["height"] > 100
    read = ("var o = echarts.getInstanceByDom(document.getElementById(arguments[0])).getOption();"
            "return {x: o.xAxis[0].data, series: o.series.map(function (s) { return [s.name, s.data]; })};")
    capacity, releases = (chrome.execute_script(read, c) for c in ("chart-capacity", "chart-releases"))
    banks = lockers.capacity(actor=STAFF)
    expected = lockers.expected_releases(actor=STAFF)
    assert capacity["x"] == [b["name"] for b in banks]
    assert capacity["series"] == [["空闲小格", [b["free"]["S"] for b in banks]],
                                  ["空闲中格", [b["free"]["M"] for b in banks]],
                                  ["空闲大格", [b["free"]["L"] for b in banks]],
                                  ["待取包裹", [b["parcels_waiting"] for b in banks]]]
    assert releases == {"x": expected["hours"], "series": [["预计释放", expected["releases"]]]}
    screenshot("lockers-capacity")
    for name in ("parcels", "faults", "fees"):
        chrome.get(f"{live_url}/console/lockers/{name}")
        assert chrome.find_element(By.ID, f"locker-{name}-title").text
        screenshot(f"lockers-{name}")
    assert severe_logs(chrome) == []
