"""Department orders (订餐员): naming an orderer, ordering for colleagues within the caps and the cut-off
(no WeChat payment: billed to the department, one pickup code), cancelling takes the charge off, the
monthly statement and its .xlsx, who may read it, and 200 threads racing for 30 portions."""

from __future__ import annotations

import io
import itertools
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.canteen import service
from app.canteen.models import DepartmentOrderer, Order
from app.core.auth import Actor
from app.core.db import commit_scope, db
from app.notifications.models import Notification
from app.payments.models import Payment
from app.users import service as users_service
from tests.canteen.conftest import count, fresh_order, left
from tests.support import race

CLOSES = datetime.fromisoformat("2026-10-14T15:00:00+08:00")  # tonight's dinner: orders close at 15:00
_ids = itertools.count(1)


def _department(name: str) -> int:
    return next(d.id for d in users_service.list_departments() if d.name == name)


@pytest.fixture
def chinese(demo):
    return _department("语文教研组")  # the demo teacher's


@pytest.fixture
def logistics(demo):
    return _department("后勤处")


@pytest.fixture
def orderer(cook, teacher, chinese):
    resp = cook.post(f"/api/v1/canteen/departments/{chinese}/orderers", json={"user_id": teacher.user["id"]})
    assert resp.status_code == 200 and [o["user_id"] for o in resp.get_json()] == [teacher.user["id"]]
    return teacher


def dept_order(session, department_id, menu, lines, *, headcount=10, request_id=None):
    return session.post(f"/api/v1/canteen/departments/{department_id}/orders", json={
        "menu_id": menu["id"], "headcount": headcount, "request_id": request_id or f"dept-{next(_ids):08d}",
        "lines": [{"menu_item_id": menu["items"][n], "quantity": q} for n, q in lines.items()]})


def test_an_orderer_orders_for_ten_colleagues_billed_to_the_department_with_one_code(
        app, kitchen, orderer, chinese, cook):
    menu = kitchen.menu()
    resp = dept_order(orderer, chinese, menu, {"红烧肉": 10, "青菜": 10}, request_id="dept-lunch-0001")
    assert resp.status_code == 201, resp.get_json().get("errors")
    body = resp.get_json()
    assert body["status"] == "paid" and body["department_id"] == chinese and body["headcount"] == 10
    assert body["payment_id"] is None and body["price_group"] == "staff"
    assert body["total_fen"] == 10 * 1000 + 10 * 400
    assert len(body["pickup_code"]) == 6 and body["pickup_code"].isdigit()
    assert count(Payment) == 0  # no WeChat payment
    assert left(menu, "红烧肉") == 40 and left(menu, "青菜") == 40
    note = db.session.scalars(select(Notification).where(Notification.event == "canteen.order_paid")).one()
    assert note.user_id == orderer.user["id"] and "记账到部门" in note.body and body["pickup_code"] in note.body

    again = dept_order(orderer, chinese, menu, {"红烧肉": 10, "青菜": 10}, request_id="dept-lunch-0001")
    assert again.status_code == 201 and again.get_json()["id"] == body["id"] and left(menu, "红烧肉") == 40

    handed = cook.post("/api/v1/canteen/pickups", json={"code": body["pickup_code"]})
    assert handed.status_code == 200 and handed.get_json()["status"] == "picked_up"


def test_caps_scale_with_the_headcount_and_the_cut_off_holds(app, kitchen, orderer, chinese, clock):
    menu = kitchen.menu(portions={"牛肉面": 5}, cap=2, max_per_order=5)
    over_dish = dept_order(orderer, chinese, menu, {"红烧肉": 7}, headcount=3)  # 2 per person x 3 = 6
    assert over_dish.status_code == 409 and over_dish.get_json()["error_code"] == "canteen.over_cap"
    assert "3 人最多订 6 份" in over_dish.get_json()["message"]
    over_order = dept_order(orderer, chinese, menu, {"红烧肉": 4, "青菜": 4, "牛肉面": 3}, headcount=2)
    assert over_order.status_code == 409 and "2 人每单最多 10 份" in over_order.get_json()["message"]
    sold_out = dept_order(orderer, chinese, menu, {"牛肉面": 6}, headcount=3)
    assert sold_out.status_code == 409 and sold_out.get_json()["error_code"] == "canteen.sold_out"
    assert dept_order(orderer, chinese, menu, {"红烧肉": 6}, headcount=3).status_code == 201
    assert left(menu, "红烧肉") == 44 and left(menu, "牛肉面") == 5

    clock.move_to(CLOSES)
    closed = dept_order(orderer, chinese, menu, {"红烧肉": 1}, headcount=1)
    assert closed.status_code == 409 and closed.get_json()["error_code"] == "canteen.orders_closed"
    assert left(menu, "红烧肉") == 44


def test_only_the_departments_orderer_orders_for_it(app, kitchen, orderer, chinese, logistics, login, student):
    menu = kitchen.menu()
    other_dept = dept_order(orderer, logistics, menu, {"红烧肉": 2}, headcount=1)
    assert other_dept.status_code == 403 and other_dept.get_json()["error_code"] == "canteen.not_orderer"
    assert dept_order(student, chinese, menu, {"红烧肉": 2}, headcount=1).status_code == 403
    dispatcher = login("dispatcher")  # 后勤处, not named
    assert dept_order(dispatcher, logistics, menu, {"红烧肉": 2}, headcount=1).status_code == 403
    assert dept_order(orderer, 999_999, menu, {"红烧肉": 2}, headcount=1).status_code == 404
    assert count(Order) == 0 and left(menu, "红烧肉") == 50
    # only canteen staff and admins name orderers, and only staff of that department
    named = orderer.post(f"/api/v1/canteen/departments/{chinese}/orderers", json={"user_id": student.user["id"]})
    assert named.status_code == 403


def test_naming_someone_outside_the_department_is_refused(app, cook, student, logistics, teacher):
    resp = cook.post(f"/api/v1/canteen/departments/{logistics}/orderers", json={"user_id": teacher.user["id"]})
    assert resp.status_code == 422 and "不是本部门" in str(resp.get_json()["errors"])
    resp = cook.post(f"/api/v1/canteen/departments/{logistics}/orderers", json={"user_id": student.user["id"]})
    assert resp.status_code == 422


def test_cancelling_before_the_deadline_gives_portions_back_and_takes_the_charge_off(
        app, kitchen, orderer, chinese, cook, clock):
    menu = kitchen.menu()
    kept = dept_order(orderer, chinese, menu, {"红烧肉": 10}).get_json()
    gone = dept_order(orderer, chinese, menu, {"青菜": 5}, headcount=5).get_json()
    assert cook.get(f"/api/v1/canteen/departments/{chinese}/statements?month=2026-10").get_json()["total_fen"] \
        == 10_000 + 2_000
    resp = orderer.post(f"/api/v1/canteen/orders/{gone['id']}/cancel")
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    assert left(menu, "青菜") == 50 and count(Payment) == 0
    statement = cook.get(f"/api/v1/canteen/departments/{chinese}/statements?month=2026-10").get_json()
    assert statement["total_fen"] == 10_000 and [line["order_id"] for line in statement["lines"]] == [kept["id"]]

    clock.move_to(CLOSES)
    late = orderer.post(f"/api/v1/canteen/orders/{kept['id']}/cancel")
    assert late.status_code == 409 and late.get_json()["error_code"] == "canteen.cancel_closed"
    assert fresh_order(kept["id"]).status == "paid" and left(menu, "红烧肉") == 40


def test_the_monthly_statement_lists_the_months_billed_orders_with_totals_and_exports_xlsx(
        app, kitchen, orderer, chinese, cook, login):
    dinner = kitchen.menu()
    lunch = kitchen.menu(day=date(2026, 10, 15), meal="lunch")
    november = kitchen.menu(day=date(2026, 11, 2), meal="lunch")
    first = dept_order(orderer, chinese, dinner, {"红烧肉": 8, "青菜": 8}, headcount=8).get_json()
    second = dept_order(orderer, chinese, lunch, {"牛肉面": 12}, headcount=6).get_json()
    dept_order(orderer, chinese, november, {"红烧肉": 2}, headcount=1)
    cancelled = dept_order(orderer, chinese, dinner, {"青菜": 2}, headcount=1).get_json()
    orderer.post(f"/api/v1/canteen/orders/{cancelled['id']}/cancel")

    finance = login("finance")
    resp = finance.get(f"/api/v1/canteen/departments/{chinese}/statements?month=2026-10")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["department_name"] == "语文教研组" and body["month"] == "2026-10"
    assert body["orders"] == 2 and body["headcount"] == 14
    assert body["total_fen"] == 8 * 1000 + 8 * 400 + 12 * 1300 == 26_800
    assert [(line["order_id"], line["day"], line["meal_label"], line["orderer_name"], line["total_fen"])
            for line in body["lines"]] == [(first["id"], "2026-10-14", "晚餐", "张老师", 11_200),
                                           (second["id"], "2026-10-15", "午餐", "张老师", 15_600)]
    assert body["lines"][0]["items"] == "红烧肉×8、青菜×8"
    assert finance.get(f"/api/v1/canteen/departments/{chinese}/statements?month=2026-11").get_json()["total_fen"] \
        == 2_000

    export = orderer.get(f"/api/v1/canteen/departments/{chinese}/statements/export?month=2026-10")
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "订单号" and len(rows) == 4
    assert rows[1][0] == first["id"] and rows[1][-1] == 112 and rows[2][-1] == 156
    assert rows[3][0] == "合计" and rows[3][5] == 14 and rows[3][-1] == 268
    assert finance.get(f"/api/v1/canteen/departments/{chinese}/statements?month=2026-13").status_code == 422


def test_statements_are_for_canteen_finance_and_the_departments_own_orderer(
        app, kitchen, orderer, chinese, logistics, cook, student, login):
    url = "/api/v1/canteen/departments/{}/statements?month=2026-10"
    assert orderer.get(url.format(chinese)).status_code == 200
    assert cook.get(url.format(logistics)).status_code == 200
    assert login("finance").get(url.format(logistics)).status_code == 200
    other = orderer.get(url.format(logistics))
    assert other.status_code == 403 and other.get_json()["error_code"] == "canteen.department_forbidden"
    assert orderer.get(url.format(logistics).replace("statements", "statements/export")).status_code == 403
    assert student.get(url.format(chinese)).status_code == 403
    assert login("dispatcher").get(url.format(logistics)).status_code == 403  # a member, not the orderer
    assert cook.get(url.format(999_999)).status_code == 404
    # an orderer taken off loses the statement at once
    assert cook.delete(f"/api/v1/canteen/departments/{chinese}/orderers/{orderer.user['id']}").status_code == 204
    assert orderer.get(url.format(chinese)).status_code == 403


def test_two_hundred_orderers_racing_for_thirty_portions_get_exactly_thirty(app, kitchen, chinese):
    menu = kitchen.menu(portions={"红烧肉": 30})
    with commit_scope():
        users = [users_service.get_or_create_wechat_user(openid=f"dept-racer-{i}", unionid=None) for i in range(200)]
        people = [Actor(user_id=u.id, department_id=chinese) for u in users]
        db.session.add_all(DepartmentOrderer(department_id=chinese, user_id=a.user_id) for a in people)
    db.session.remove()

    def buy(actor):
        def call():
            try:
                with commit_scope():
                    return service.place_department_order(
                        actor=actor, department_id=chinese, menu_id=menu["id"], headcount=1,
                        request_id=f"race-{actor.user_id}", lines=[{"menu_item_id": menu["items"]["红烧肉"],
                                                                   "quantity": 1}])
            except service.SoldOut as exc:
                return exc
        return call

    results = race([buy(a) for a in people], app=app, timeout=120)
    won = [r for r in results if not isinstance(r, service.SoldOut)]
    refused = [r for r in results if isinstance(r, service.SoldOut)]
    assert len(won) == 30 and len(refused) == 170
    assert all(r.status == 409 and r.error_code == "canteen.sold_out" for r in refused)
    assert left(menu, "红烧肉") == 0
    assert count(Order, Order.status == "paid") == 30
    assert len({r.pickup_code for r in won}) == 30
