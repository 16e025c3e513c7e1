"""Setting the canteen up through the API: a menu with portions and prices, the policy's times, a
menu twice, copying a week, changing portions; and the demo data."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from app.canteen.models import Canteen, DepartmentOrderer, Menu
from app.canteen.seed import seed_demo
from app.core.db import commit_scope, db
from tests.canteen.conftest import count, placed


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_staff_create_a_menu_with_portions_caps_and_prices(kitchen, cook):
    resp = cook.post("/api/v1/canteen/menus", json={
        "canteen_id": kitchen.canteen_id, "day": "2026-10-15", "meal": "lunch", "max_per_order": 4,
        "items": [{"dish_id": kitchen.dishes["红烧肉"], "portions": 80, "max_per_person": 1,
                   "prices": {"staff": 900, "student": 1100, "external": 1600}},
                  {"dish_id": kitchen.dishes["青菜"], "portions": 40}]})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert _at(body["orders_close_at"]) == _at("2026-10-15T09:00:00+08:00")  # lunch: 09:00 the same day
    assert _at(body["pickup_from"]) == _at("2026-10-15T11:00:00+08:00")
    items = {i["name"]: i for i in body["items"]}
    assert items["红烧肉"]["prices"] == {"staff": 900, "student": 1100, "external": 1600}
    assert items["青菜"]["prices"] == {"staff": 400, "student": 400, "external": 400}
    assert items["红烧肉"]["remaining"] == 80 and items["红烧肉"]["max_per_person"] == 1
    again = cook.post("/api/v1/canteen/menus", json={
        "canteen_id": kitchen.canteen_id, "day": "2026-10-15", "meal": "lunch",
        "items": [{"dish_id": kitchen.dishes["青菜"], "portions": 1}]})
    assert again.status_code == 409 and again.get_json()["error_code"] == "canteen.menu_exists"


def test_copying_a_week_skips_the_menus_that_exist(kitchen, cook):
    kitchen.menu(meal="dinner")  # Wednesday 2026-10-14
    kitchen.menu(day=date(2026, 10, 15), meal="lunch")
    kitchen.menu(day=date(2026, 10, 22), meal="lunch")  # next Thursday's lunch exists already
    resp = cook.post("/api/v1/canteen/menus/copy-week", json={"canteen_id": kitchen.canteen_id,
                                                               "week_start": "2026-10-12"})
    assert resp.status_code == 201
    assert [(m["day"], m["meal"]) for m in resp.get_json()] == [("2026-10-21", "dinner")]
    copied = resp.get_json()[0]
    assert _at(copied["orders_close_at"]) == _at("2026-10-21T15:00:00+08:00")
    assert {i["name"]: i["portions"] for i in copied["items"]} == {"红烧肉": 50, "青菜": 50, "牛肉面": 50}


def test_portions_can_change_but_never_below_what_is_ordered(kitchen, cook, teacher):
    menu = kitchen.menu(portions={"红烧肉": 5})
    placed(teacher, menu, {"红烧肉": 2})
    item = menu["items"]["红烧肉"]
    low = cook.put(f"/api/v1/canteen/menu-items/{item}/portions", json={"portions": 1})
    assert low.status_code == 409 and low.get_json()["message"] == "份数不能少于已订出的份数"
    ok = cook.put(f"/api/v1/canteen/menu-items/{item}/portions", json={"portions": 8})
    assert ok.status_code == 200 and ok.get_json()["remaining"] == 6


def test_the_demo_data_is_idempotent(app, demo):
    with commit_scope():
        seed_demo()
    db.session.rollback()
    assert count(Canteen) == 1
    assert len(db.session.scalars(select(Menu)).all()) == 4  # today's and tomorrow's lunch and dinner
    assert count(DepartmentOrderer) == 1  # 张老师, 订餐员 of 语文教研组, named once


def test_a_canteen_or_window_name_twice_is_a_conflict(kitchen, cook):
    again = cook.post("/api/v1/canteen/canteens", json={"name": "测试食堂"})
    assert again.status_code == 409 and again.get_json()["message"] == "已有名为「测试食堂」的食堂"
    window = cook.post(f"/api/v1/canteen/canteens/{kitchen.canteen_id}/windows", json={"name": "一号窗口"})
    assert window.status_code == 409 and window.get_json()["error_code"] == "canteen.name_taken"
