"""Ordering: no overselling under a real race, cut-off and caps, prices per role, a double tap, expiry
after 10 minutes, paying through the simulator, cancelling with a refund, my orders."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.canteen import service
from app.canteen.models import Order
from app.canteen.service import ordering
from app.core.auth import Actor
from app.core.db import commit_scope, db
from app.notifications.models import Notification
from app.payments.models import Payment, Refund
from app.users import service as users_service
from tests.canteen.conftest import checkout, count, fresh_order, left, order, pay, payment_of, placed
from tests.conftest import FIXED_NOW, drain
from tests.support import race

CLOSES = datetime.fromisoformat("2026-10-14T15:00:00+08:00")  # tonight's dinner: orders close at 15:00


def _people(n: int) -> list[Actor]:
    with commit_scope():
        users = [users_service.get_or_create_wechat_user(openid=f"racer-{i}", unionid=None) for i in range(n)]
        return [Actor(user_id=u.id) for u in users]


def test_thirty_people_racing_for_the_last_ten_portions_get_exactly_ten(app, kitchen):
    menu = kitchen.menu(portions={"红烧肉": 10})
    people = _people(30)
    db.session.remove()

    def buy(actor):
        def call():
            try:
                with commit_scope():
                    return service.place_order(actor=actor, menu_id=menu["id"], request_id=f"race-{actor.user_id}",
                                               lines=[{"menu_item_id": menu["items"]["红烧肉"], "quantity": 1}])
            except service.SoldOut as exc:
                return exc
        return call

    results = race([buy(a) for a in people], app=app, timeout=60)
    orders = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, service.SoldOut)]
    assert len(orders) == 10 and len(refused) == 20
    assert all(r.status == 409 and r.error_code == "canteen.sold_out" and "已售罄" in r.message for r in refused)
    assert left(menu, "红烧肉") == 0
    assert count(Order) == 10 and count(Payment) == 10
    assert all(o["payment"]["status"] == "created" and o["order"].status == "pending_payment" for o in orders)


def test_placing_asks_wechat_nothing_and_checkout_prepays(app, sim, kitchen, teacher):
    menu = kitchen.menu()
    sim.inject_pay_error("/v3/pay/transactions/jsapi", "SYSTEM_ERROR", http_status=500)  # WeChat is down
    body = placed(teacher, menu)
    assert body["payment"] == {"payment_id": payment_of(body["order"]["id"]).id, "status": "created"}
    assert left(menu, "红烧肉") == 49  # the portion is held all the same
    paying = teacher.post(f"/api/v1/payments/{body['payment']['payment_id']}/checkout")
    assert paying.status_code == 502 and paying.get_json()["error_code"] == "payments.wechat_unavailable"
    assert fresh_order(body["order"]["id"]).status == "pending_payment" and left(menu, "红烧肉") == 49

    paying = teacher.post(f"/api/v1/payments/{body['payment']['payment_id']}/checkout")  # WeChat is back
    assert paying.status_code == 200 and paying.get_json()["params"]["package"].startswith("prepay_id=")


def test_sold_out_answers_409_in_chinese(kitchen, teacher, student):
    menu = kitchen.menu(portions={"红烧肉": 1})
    placed(teacher, menu)
    resp = order(student, menu)
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["error_code"] == "canteen.sold_out" and body["message"] == "「红烧肉」已售罄"
    assert left(menu, "红烧肉") == 0


def test_an_order_of_more_than_is_left_says_how_many_are_left(kitchen, teacher):
    menu = kitchen.menu(portions={"红烧肉": 1}, cap=3)
    resp = order(teacher, menu, {"红烧肉": 2})
    assert resp.status_code == 409 and resp.get_json()["message"] == "「红烧肉」仅剩 1 份"
    assert left(menu, "红烧肉") == 1


def test_a_sold_out_line_takes_nothing_from_the_other_lines(kitchen, teacher):
    menu = kitchen.menu(portions={"红烧肉": 5, "牛肉面": 0})
    assert order(teacher, menu, {"红烧肉": 1, "牛肉面": 1}).status_code == 409
    assert left(menu, "红烧肉") == 5 and count(Order) == 0


def test_the_menus_of_a_day_show_the_portions_left(kitchen, teacher):
    menu = kitchen.menu(portions={"红烧肉": 3})
    placed(teacher, menu, {"红烧肉": 2})
    body = teacher.get("/api/v1/canteen/menus?date=2026-10-14&meal=dinner").get_json()
    ours = next(m for m in body if m["id"] == menu["id"])
    dish = next(i for i in ours["items"] if i["name"] == "红烧肉")
    assert dish["remaining"] == 1 and dish["portions"] == 3 and ours["open"] is True
    assert datetime.fromisoformat(ours["orders_close_at"]) == CLOSES


def test_orders_close_at_the_cut_off(kitchen, teacher, clock):
    menu = kitchen.menu()
    clock.move_to(CLOSES - timedelta(seconds=1))
    assert order(teacher, menu).status_code == 201
    clock.move_to(CLOSES)
    resp = order(teacher, menu)
    assert resp.status_code == 409 and resp.get_json()["error_code"] == "canteen.orders_closed"
    assert resp.get_json()["message"] == "晚餐已于 10月14日 15:00 截止订餐"


@pytest.mark.parametrize(("meal", "day", "closes"), [
    ("breakfast", "2026-10-15", "2026-10-14T18:00:00+08:00"),
    ("lunch", "2026-10-15", "2026-10-15T09:00:00+08:00"),
    ("dinner", "2026-10-15", "2026-10-15T15:00:00+08:00"),
])
def test_the_cut_off_policy_of_each_meal(kitchen, meal, day, closes):
    menu = kitchen.menu(day=datetime.fromisoformat(day).date(), meal=meal)
    assert menu["view"].orders_close_at == datetime.fromisoformat(closes)
    assert menu["view"].cancel_until == datetime.fromisoformat(closes)


def test_todays_lunch_is_closed_at_ten(kitchen, teacher):
    menu = kitchen.menu(meal="lunch")
    assert order(teacher, menu).get_json()["error_code"] == "canteen.orders_closed"


def test_a_person_may_order_a_dish_up_to_its_cap(kitchen, teacher):
    menu = kitchen.menu(cap=2)
    placed(teacher, menu, {"红烧肉": 1})
    placed(teacher, menu, {"红烧肉": 1})
    resp = order(teacher, menu, {"红烧肉": 1})
    assert resp.status_code == 409 and resp.get_json()["error_code"] == "canteen.over_cap"
    assert resp.get_json()["message"] == "「红烧肉」每人限购 2 份，您已订 2 份"


def test_an_order_may_not_exceed_the_menus_cap_per_order(kitchen, teacher):
    menu = kitchen.menu(cap=5, max_per_order=3)
    resp = order(teacher, menu, {"红烧肉": 2, "青菜": 2})
    assert resp.status_code == 409 and resp.get_json()["message"] == "每单最多 3 份"


def test_the_price_follows_the_orderers_role(kitchen, teacher, student, parent):
    menu = kitchen.menu()
    assert placed(teacher, menu)["order"]["total_fen"] == 1000
    assert placed(student, menu)["order"]["total_fen"] == 1200
    body = placed(parent, menu, {"红烧肉": 1, "青菜": 2})["order"]
    assert body["total_fen"] == 1500 + 2 * 400 and body["price_group"] == "external"
    assert payment_of(body["id"]).amount_fen == 2300


def test_the_menus_say_which_price_each_person_pays(kitchen, teacher, student, parent):
    menu = kitchen.menu()
    for who, group, price in ((teacher, "staff", 1000), (student, "student", 1200), (parent, "external", 1500)):
        body = who.get("/api/v1/canteen/menus?date=2026-10-14&meal=dinner").get_json()
        ours = next(m for m in body if m["id"] == menu["id"])
        dish = next(i for i in ours["items"] if i["name"] == "红烧肉")
        assert ours["price_group"] == group and dish["prices"][group] == price


def test_a_double_tap_makes_one_order_and_one_payment(app, kitchen, teacher):
    menu = kitchen.menu()
    db.session.remove()
    answers = race([lambda: order(teacher, menu, request_id="tap-tap-tap-1")] * 5)
    assert {a.status_code for a in answers} == {201}
    assert len({a.get_json()["order"]["id"] for a in answers}) == 1
    assert count(Order) == 1 and count(Payment) == 1 and left(menu, "红烧肉") == 49


def test_unpaid_after_ten_minutes_the_order_expires_and_the_portions_go_back(app, sim, kitchen, teacher, clock):
    menu = kitchen.menu(portions={"红烧肉": 1})
    order_id = placed(teacher, menu)["order"]["id"]
    checkout(order_id)  # the cashier was opened, then left
    assert left(menu, "红烧肉") == 0
    clock.move_to(FIXED_NOW + timedelta(minutes=9, seconds=59))
    drain(app)
    assert fresh_order(order_id).status == "pending_payment"

    clock.move_to(FIXED_NOW + timedelta(minutes=10, seconds=1))
    drain(app)
    assert fresh_order(order_id).status == "expired" and left(menu, "红烧肉") == 1
    payment = payment_of(order_id)
    assert payment.status == "closed" and sim.pay_order_state(payment.out_trade_no)["trade_state"] == "CLOSED"
    assert teacher.get(f"/api/v1/canteen/orders/{order_id}").get_json()["status_label"] == "已超时"


def test_an_order_never_checked_out_expires_too(app, sim, kitchen, teacher, clock):
    menu = kitchen.menu(portions={"红烧肉": 1})
    order_id = placed(teacher, menu)["order"]["id"]
    clock.move_to(FIXED_NOW + timedelta(minutes=10, seconds=1))
    drain(app)
    assert fresh_order(order_id).status == "expired" and left(menu, "红烧肉") == 1
    assert payment_of(order_id).status == "closed"


def test_a_payment_after_expiry_is_refunded_and_the_portions_stay_released(app, sim, kitchen, teacher, clock):
    menu = kitchen.menu(portions={"红烧肉": 1})
    order_id = placed(teacher, menu)["order"]["id"]
    checkout(order_id)
    out_trade_no = payment_of(order_id).out_trade_no
    sim.inject_pay_error(f"/v3/pay/transactions/out-trade-no/{out_trade_no}/close", "ORDER_NOT_EXIST",
                         http_status=404)  # WeChat had not seen the close: the payer still pays
    clock.move_to(FIXED_NOW + timedelta(minutes=10, seconds=1))
    drain(app)
    assert fresh_order(order_id).status == "expired"

    clock.move_to(FIXED_NOW + timedelta(minutes=9, seconds=59))
    note = sim.pay_order(out_trade_no)
    sim.wait_pay_deliveries(note["notification_id"], attempts=1, timeout=30)
    clock.move_to(FIXED_NOW + timedelta(minutes=10, seconds=30))
    drain(app)

    db.session.rollback()
    refund = db.session.scalars(select(Refund)).one()
    assert refund.amount_fen == 1000 and refund.reason == "订单已关闭，自动退款"
    assert fresh_order(order_id).status == "expired" and left(menu, "红烧肉") == 1


def test_paying_gives_a_pickup_code_and_tells_the_orderer(app, sim, kitchen, teacher):
    menu = kitchen.menu()
    order_id = placed(teacher, menu)["order"]["id"]
    pay(app, sim, order_id)
    body = teacher.get(f"/api/v1/canteen/orders/{order_id}").get_json()
    assert body["status"] == "paid" and len(body["pickup_code"]) == 6 and body["pickup_code"].isdigit()
    note = db.session.scalars(select(Notification).where(Notification.event == "canteen.order_paid")).one()
    assert note.user_id == teacher.user["id"] and body["pickup_code"] in note.body
    assert "17:00–19:00" in note.body
    qr = teacher.get(f"/api/v1/canteen/orders/{order_id}/qr")
    assert qr.status_code == 200 and qr.mimetype == "image/png"


def test_pickup_codes_are_unique_among_a_canteens_open_orders(app, kitchen, monkeypatch):
    """Codes are drawn at random; with the draw forced to repeat, the second order gets another code."""
    menu = kitchen.menu()
    people = _people(2)
    ids = []
    for actor in people:
        with commit_scope():
            ids.append(service.place_order(actor=actor, menu_id=menu["id"], request_id=f"u-{actor.user_id}",
                                           lines=[{"menu_item_id": menu["items"]["红烧肉"], "quantity": 1}])
                       ["order"].id)
    draws = iter(["123456", "123456", "654321"])
    monkeypatch.setattr(ordering, "_new_code", lambda: next(draws))
    for order_id in ids:
        with commit_scope():
            service.paid(order_id, fresh_order(order_id).payment_id)
    assert [fresh_order(i).pickup_code for i in ids] == ["123456", "654321"]


def test_cancelling_a_paid_order_gives_portions_back_and_refunds(app, sim, kitchen, teacher):
    menu = kitchen.menu()
    order_id = placed(teacher, menu, {"红烧肉": 2})["order"]["id"]
    pay(app, sim, order_id)
    resp = teacher.post(f"/api/v1/canteen/orders/{order_id}/cancel")
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    assert left(menu, "红烧肉") == 50
    db.session.rollback()
    refund = db.session.scalars(select(Refund)).one()
    assert refund.amount_fen == 2000 and refund.reason == "取消订餐"
    again = teacher.post(f"/api/v1/canteen/orders/{order_id}/cancel")
    assert again.status_code == 200 and count(Refund) == 1 and left(menu, "红烧肉") == 50


def test_cancelling_an_unpaid_order_gives_the_portions_back(kitchen, teacher):
    menu = kitchen.menu()
    order_id = placed(teacher, menu)["order"]["id"]
    checkout(order_id)
    assert teacher.post(f"/api/v1/canteen/orders/{order_id}/cancel").status_code == 200
    assert left(menu, "红烧肉") == 50 and count(Refund) == 0


def test_cancel_closes_at_the_cancellation_deadline(app, sim, kitchen, teacher, clock):
    menu = kitchen.menu()
    first = placed(teacher, menu)["order"]["id"]
    second = placed(teacher, menu)["order"]["id"]
    pay(app, sim, first)
    pay(app, sim, second)
    clock.move_to(CLOSES - timedelta(seconds=1))
    assert teacher.post(f"/api/v1/canteen/orders/{first}/cancel").status_code == 200
    clock.move_to(CLOSES)
    resp = teacher.post(f"/api/v1/canteen/orders/{second}/cancel")
    assert resp.status_code == 409 and resp.get_json()["error_code"] == "canteen.cancel_closed"
    assert resp.get_json()["message"] == "已过取消截止时间（10月14日 15:00），不能取消"
    assert fresh_order(second).status == "paid"


def test_someone_elses_order_is_not_found(kitchen, teacher, student):
    menu = kitchen.menu()
    order_id = placed(teacher, menu)["order"]["id"]
    assert student.get(f"/api/v1/canteen/orders/{order_id}").status_code == 404
    assert student.post(f"/api/v1/canteen/orders/{order_id}/cancel").status_code == 404
    assert fresh_order(order_id).status == "pending_payment"


def test_my_orders_are_paginated_newest_first(kitchen, teacher, student):
    menu = kitchen.menu(cap=5)
    ids = [placed(teacher, menu)["order"]["id"] for _ in range(3)]
    placed(student, menu)
    resp = teacher.get("/api/v1/canteen/orders/mine?page_size=2")
    assert [o["id"] for o in resp.get_json()] == ids[::-1][:2]
    assert '"total": 3' in resp.headers["X-Pagination"]



def test_racing_orders_of_one_person_keep_to_the_cap(app, kitchen, teacher):
    menu = kitchen.menu(cap=2)
    db.session.remove()
    answers = race([lambda i=i: order(teacher, menu, request_id=f"cap-race-{i:04d}") for i in range(6)])
    assert sorted(a.status_code for a in answers) == [201, 201, 409, 409, 409, 409]
    assert count(Order) == 2 and left(menu, "红烧肉") == 48


def test_a_payment_for_an_order_cancelled_before_paying_is_refunded(app, sim, kitchen, teacher):
    menu = kitchen.menu()
    order_id = placed(teacher, menu)["order"]["id"]
    checkout(order_id)
    assert teacher.post(f"/api/v1/canteen/orders/{order_id}/cancel").status_code == 200
    out_trade_no = payment_of(order_id).out_trade_no
    note = sim.pay_order(out_trade_no)  # the payer had the cashier open and paid anyway
    sim.wait_pay_deliveries(note["notification_id"], attempts=1, timeout=30)
    drain(app)
    db.session.rollback()
    refund = db.session.scalars(select(Refund)).one()
    assert refund.amount_fen == 1000 and refund.reason == "订单已取消，自动退款"
    assert fresh_order(order_id).status == "cancelled" and left(menu, "红烧肉") == 50
