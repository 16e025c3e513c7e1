"""Demo data for the canteen (``flask seed-demo`` runs it through ``app.seed``); idempotent: one canteen,
two windows, a few dishes, and today's and tomorrow's lunch and dinner menus (school time); 张老师
(``demo-teacher``) is the 订餐员 of 语文教研组."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.canteen import service
from app.canteen.models import Canteen, Dish, Menu
from app.core import clock
from app.core.auth import Actor
from app.core.db import db
from app.users import service as users_service

CANTEEN = "第一食堂"
ORDERER = ("T0001", "语文教研组")  # the demo teacher orders for their 教研组
WINDOWS = ["一号窗口（中餐）", "二号窗口（面食）"]
DISHES = [
    # name, window index, price in fen, tags, allergens
    ("红烧肉套餐", 0, 1200, ["招牌"], []),
    ("番茄炒蛋套餐", 0, 900, ["素食"], ["鸡蛋"]),
    ("宫保鸡丁套餐", 0, 1100, ["微辣"], ["花生"]),
    ("牛肉面", 1, 1300, [], ["小麦"]),
    ("葱油拌面", 1, 700, ["素食"], ["小麦"]),
]


def seed_demo() -> None:
    staff_user = users_service.user_id_of_staff("C0001") or 0  # 赵师傅 of the users demo data
    actor = Actor(user_id=staff_user, roles=frozenset({"canteen"}))
    canteen = db.session.scalars(select(Canteen).where(Canteen.name == CANTEEN)).first()
    if canteen is None:
        canteen = service.create_canteen(actor=actor, name=CANTEEN, location="学生活动中心一楼")
        windows = [service.create_window(actor=actor, canteen_id=canteen.id, name=n, sort_order=i)
                   for i, n in enumerate(WINDOWS)]
        for name, window, price, tags, allergens in DISHES:
            service.create_dish(actor=actor, canteen_id=canteen.id, window_id=windows[window].id, name=name,
                                price_fen=price, tags=tags, allergens=allergens)
    db.session.flush()
    dishes = db.session.scalars(select(Dish).where(Dish.canteen_id == canteen.id).order_by(Dish.id)).all()
    today = clock.local_now().date()
    for day in (today, today + timedelta(days=1)):
        for meal in ("lunch", "dinner"):
            if db.session.scalar(select(Menu.id).where(Menu.canteen_id == canteen.id, Menu.day == day,
                                                       Menu.meal == meal)):
                continue
            service.create_menu(actor=actor, canteen_id=canteen.id, day=day, meal=meal, items=[
                {"dish_id": d.id, "portions": 100, "max_per_person": 2,
                 "prices": {"staff": d.price_fen - 200, "student": d.price_fen, "external": d.price_fen + 300}}
                for d in dishes])
    teacher = users_service.user_id_of_staff(ORDERER[0])
    department = next((d.id for d in users_service.list_departments() if d.name == ORDERER[1]), None)
    if teacher is not None and department is not None:
        service.name_orderer(actor=actor, department_id=department, user_id=teacher)
