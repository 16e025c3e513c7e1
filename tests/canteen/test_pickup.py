"""Pickup at the window: verify by code or QR token once (a second scan says when), no-shows at the end of
the pickup window, the production sheet and the pickup progress, and who may do what."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from app.core.db import db
from app.payments.models import Refund
from tests.canteen.conftest import count, fresh_order, pay, placed
from tests.conftest import drain
from tests.support import race

PICKUP_ENDS = datetime.fromisoformat("2026-10-14T19:00:00+08:00")


def _paid(app, sim, kitchen_menu, session, lines=None) -> int:
    order_id = placed(session, kitchen_menu, lines)["order"]["id"]
    pay(app, sim, order_id)
    return order_id


def test_staff_verify_a_code_once_and_a_second_scan_says_when(app, sim, kitchen, teacher, cook, clock):
    menu = kitchen.menu()
    order_id = _paid(app, sim, menu, teacher)
    code = fresh_order(order_id).pickup_code
    clock.move_to("2026-10-14T17:42:10+08:00")
    resp = cook.post("/api/v1/canteen/pickups", json={"code": code})
    assert resp.status_code == 200 and resp.get_json()["status"] == "picked_up"
    clock.move_to("2026-10-14T17:50:00+08:00")
    again = cook.post("/api/v1/canteen/pickups", json={"code": code})
    assert again.status_code == 409 and again.get_json()["message"] == "已于 17:42 取餐"
    assert again.get_json()["error_code"] == "canteen.already_picked_up"


def test_staff_verify_by_the_orders_qr_token(app, sim, kitchen, teacher, cook):
    menu = kitchen.menu()
    order_id = _paid(app, sim, menu, teacher)
    token = teacher.get(f"/api/v1/canteen/orders/{order_id}").get_json()["qr_token"]
    assert cook.post("/api/v1/canteen/pickups", json={"token": token}).get_json()["status"] == "picked_up"
    again = cook.post("/api/v1/canteen/pickups", json={"token": token})
    assert again.status_code == 409 and again.get_json()["message"].startswith("已于 ")


def test_an_unknown_or_unpaid_code_is_refused(app, kitchen, teacher, cook):
    menu = kitchen.menu()
    placed(teacher, menu)
    resp = cook.post("/api/v1/canteen/pickups", json={"code": "000000"})
    assert resp.status_code == 404 and resp.get_json()["message"] == "取餐码无效"


def test_only_canteen_staff_verify_pickups(app, sim, kitchen, teacher, student):
    menu = kitchen.menu()
    order_id = _paid(app, sim, menu, teacher)
    resp = student.post("/api/v1/canteen/pickups", json={"code": fresh_order(order_id).pickup_code})
    assert resp.status_code == 403 and fresh_order(order_id).status == "paid"


def test_uncollected_orders_are_no_shows_at_the_end_of_the_pickup_window(app, sim, kitchen, teacher, student,
                                                                           cook, clock):
    menu = kitchen.menu()
    collected, forgotten = _paid(app, sim, menu, teacher), _paid(app, sim, menu, student)
    assert cook.post("/api/v1/canteen/pickups", json={"code": fresh_order(collected).pickup_code}).status_code == 200
    clock.move_to(PICKUP_ENDS - timedelta(seconds=10))
    drain(app)
    assert fresh_order(forgotten).status == "paid"
    clock.move_to(PICKUP_ENDS + timedelta(seconds=1))
    drain(app)
    assert fresh_order(forgotten).status == "no_show" and fresh_order(collected).status == "picked_up"
    assert count(Refund) == 0  # the policy: no refund by default
    progress = cook.get(f"/api/v1/canteen/menus/{menu['id']}/progress").get_json()
    assert progress == {"menu_id": menu["id"], "paid": 0, "picked_up": 1, "no_show": 1, "pending_payment": 0}


def test_a_no_show_is_refunded_when_the_setting_says_so(app, sim, kitchen, teacher, clock):
    app.config["CANTEEN_NO_SHOW_REFUND"] = True
    try:
        menu = kitchen.menu()
        order_id = _paid(app, sim, menu, teacher)
        clock.move_to(PICKUP_ENDS + timedelta(seconds=1))
        drain(app)
        assert fresh_order(order_id).status == "no_show"
        db.session.rollback()
        assert db.session.scalars(select(Refund)).one().reason == "未取餐退款"
    finally:
        app.config["CANTEEN_NO_SHOW_REFUND"] = False


def test_the_production_sheet_counts_portions_per_dish_and_window(app, sim, kitchen, teacher, student, parent,
                                                                    cook, clock):
    menu = kitchen.menu()
    _paid(app, sim, menu, teacher, {"红烧肉": 2, "牛肉面": 1})
    _paid(app, sim, menu, student, {"红烧肉": 1, "青菜": 1})
    placed(parent, menu, {"牛肉面": 2})  # not paid (yet)
    before = cook.get(f"/api/v1/canteen/menus/{menu['id']}/production").get_json()
    assert before["final"] is False
    clock.move_to("2026-10-14T15:00:00+08:00")
    sheet = cook.get(f"/api/v1/canteen/menus/{menu['id']}/production").get_json()
    rows = {r["dish_name"]: (r["window_name"], r["ordered"], r["pending"]) for r in sheet["rows"]}
    assert rows == {"红烧肉": ("一号窗口", 3, 0), "青菜": ("一号窗口", 1, 0), "牛肉面": ("二号窗口", 1, 2)}
    assert sheet["final"] is True and sheet["total_ordered"] == 5


def test_students_cannot_edit_menus_or_see_the_kitchens_figures(kitchen, student):
    menu = kitchen.menu()
    resp = student.post("/api/v1/canteen/menus", json={
        "canteen_id": kitchen.canteen_id, "day": "2026-10-16", "meal": "lunch",
        "items": [{"dish_id": kitchen.dishes["青菜"], "portions": 10}]})
    assert resp.status_code == 403 and resp.get_json()["message"] == "仅食堂工作人员可以操作"
    assert student.get(f"/api/v1/canteen/menus/{menu['id']}/production").status_code == 403
    assert student.post("/api/v1/canteen/canteens", json={"name": "学生食堂"}).status_code == 403


def test_two_scans_of_one_code_at_once_hand_out_one_meal(app, sim, kitchen, teacher, cook):
    menu = kitchen.menu()
    order_id = _paid(app, sim, menu, teacher)
    code = fresh_order(order_id).pickup_code
    db.session.remove()
    answers = race([lambda: cook.post("/api/v1/canteen/pickups", json={"code": code})] * 4)
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    assert fresh_order(order_id).status == "picked_up"


def test_sales_and_waste_per_dish_and_their_export(app, sim, kitchen, teacher, student, cook, clock):
    menu = kitchen.menu(portions={"红烧肉": 10, "青菜": 5, "牛肉面": 4})
    collected = _paid(app, sim, menu, teacher, {"红烧肉": 2})
    _paid(app, sim, menu, student, {"红烧肉": 1, "青菜": 1})
    cook.post("/api/v1/canteen/pickups", json={"code": fresh_order(collected).pickup_code})
    clock.move_to(PICKUP_ENDS + timedelta(seconds=1))
    drain(app)
    query = f"canteen_id={kitchen.canteen_id}&date_from=2026-10-14&date_to=2026-10-14"
    rows = {r["dish_name"]: r for r in cook.get(f"/api/v1/canteen/stats/sales?{query}").get_json()}
    assert {k: (r["sold"], r["picked_up"], r["no_show"], r["unsold"], r["waste"], r["revenue_fen"])
            for k, r in rows.items()} == {"红烧肉": (3, 2, 1, 7, 8, 3200), "青菜": (1, 0, 1, 4, 5, 400),
                                          "牛肉面": (0, 0, 0, 4, 4, 0)}
    export = cook.get(f"/api/v1/canteen/stats/sales/export?{query}")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.data)).active
    assert [c.value for c in sheet[2]][:9] == ["2026-10-14", "晚餐", "红烧肉", 10, 3, 2, 1, 7, 8]
    assert teacher.get(f"/api/v1/canteen/stats/sales?{query}").status_code == 403
