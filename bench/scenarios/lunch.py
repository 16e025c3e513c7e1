"""POST /api/v1/canteen/orders: 3,000 students order lunch, 2,000 of them racing for a 300-portion dish; rps = orders/s.

``seed`` makes 3,000 students (users bound to roster students) and a canteen with tomorrow's lunch:
红烧排骨 with 300 portions (one per person) and two dishes with enough for everyone. ``run(ctx)`` gives
each student an access token, then ``ctx.users`` threads post one order per student to gunicorn in a
shuffled stream: 2,000 want 红烧排骨 (300 get it, the rest are answered 409 ``canteen.sold_out``),
1,000 order the other dishes. Each order holds its portions and asks WeChat Pay (the simulator) for a
prepay id, as a phone's order does; latencies are per order. ``verify`` checks that nothing was oversold:
no stock below 0, orders holding 红烧排骨 portions = 300 exactly and its stock at 0, every other student
with an order. ``--smoke``: 60 students, 40 contenders, 10 portions.
"""

from __future__ import annotations

import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from sqlalchemy import func, select

from app.auth import service as auth_service
from app.canteen import service as canteen
from app.canteen.models import Canteen, Menu, MenuItem, Order, OrderLine
from app.canteen.states import HOLDING
from app.core import clock
from app.core.allocation import Stock
from app.core.auth import Actor
from app.core.db import db
from app.users.models import User
from bench.scenarios._roster import seed_students

FULL = {"students": 3000, "contenders": 2000, "portions": 300}
SMOKE = {"students": 60, "contenders": 40, "portions": 10}
PREFIX = "bench-lunch"
CANTEEN = "基准测试食堂"
HOT = "红烧排骨"
STAFF = Actor(user_id=0, roles=frozenset({"canteen"}))


def _size(ctx) -> dict[str, int]:
    return FULL if ctx.duration > 6 else SMOKE


def seed(ctx) -> None:
    size = _size(ctx)
    numbers = [f"L{i:05d}" for i in range(size["students"])]
    seed_students(PREFIX, numbers, "测试学生")
    place = canteen.create_canteen(actor=STAFF, name=CANTEEN)
    window = canteen.create_window(actor=STAFF, canteen_id=place.id, name="一号窗口").id
    dishes = {name: canteen.create_dish(actor=STAFF, canteen_id=place.id, window_id=window, name=name,
                                        price_fen=price).id
              for name, price in ((HOT, 1500), ("番茄炒蛋", 800), ("清炒时蔬", 500))}
    canteen.create_menu(
        actor=STAFF, canteen_id=place.id, day=clock.local_now().date() + timedelta(days=1), meal="lunch",
        max_per_order=3, items=[
            {"dish_id": dishes[HOT], "portions": size["portions"], "max_per_person": 1, "prices": None},
            {"dish_id": dishes["番茄炒蛋"], "portions": size["students"], "max_per_person": 1, "prices": None},
            {"dish_id": dishes["清炒时蔬"], "portions": size["students"], "max_per_person": 1, "prices": None}])


def _menu() -> tuple[int, dict[str, int]]:
    menu_id = db.session.scalar(select(Menu.id).join(Canteen, Canteen.id == Menu.canteen_id)
                                .where(Canteen.name == CANTEEN))
    items = {i.name: i.id for i in canteen.menu_view(menu_id).items}
    return menu_id, items


def run(ctx) -> dict:
    size = _size(ctx)
    menu_id, items = _menu()
    user_ids = list(db.session.scalars(select(User.id).where(User.openid.like(f"{PREFIX}-%")).order_by(User.id)))
    tokens = [auth_service.issue_tokens_for(uid, user_agent="bench").access_token for uid in user_ids]
    db.session.commit()
    wants = []
    for i, token in enumerate(tokens):
        dishes = [HOT] if i < size["contenders"] else ["番茄炒蛋", "清炒时蔬"]
        lines = [{"menu_item_id": items[name], "quantity": 1} for name in dishes]
        wants.append((token, {"menu_id": menu_id, "request_id": f"{PREFIX}-{i:06d}", "lines": lines}))
    random.Random(13).shuffle(wants)

    url = f"{ctx.base_url}/api/v1/canteen/orders"
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=max(2, ctx.users)))

    def post(want) -> tuple[float, int, str]:
        token, body = want
        started = time.perf_counter()
        resp = session.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        code = resp.json().get("error_code", "") if resp.status_code >= 300 else ""
        return (time.perf_counter() - started) * 1000, resp.status_code, code

    started = time.perf_counter()
    with ThreadPoolExecutor(max(2, ctx.users)) as pool:
        results = list(pool.map(post, wants))
    elapsed = time.perf_counter() - started
    latencies = sorted(ms for ms, _, _ in results)
    sold_out = sum(1 for _, status, code in results if status == 409 and code == "canteen.sold_out")
    failures = sum(1 for _, status, code in results if status != 201 and code != "canteen.sold_out")
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    print(f"lunch: {len(results)} orders posted, {len(results) - sold_out - failures} placed, "
          f"{sold_out} answered sold out, {failures} failed", flush=True)
    return {"rps": len(results) / elapsed, "requests": len(results), "failures": failures,
            "p50_ms": round(quantiles[49], 1), "p95_ms": round(quantiles[94], 1), "p99_ms": round(quantiles[98], 1)}


def verify(ctx) -> list[str]:
    db.session.rollback()
    size = _size(ctx)
    menu_id, items = _menu()
    problems = []
    negative = db.session.scalar(select(func.count()).select_from(Stock).where(Stock.remaining < 0))
    if negative:
        problems.append(f"{negative} stocks below 0")
    hot_stock = db.session.scalar(select(MenuItem.stock_id).where(MenuItem.id == items[HOT]))
    left = db.session.scalar(select(Stock.remaining).where(Stock.id == hot_stock))
    held = db.session.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0))
                             .join(Order, Order.id == OrderLine.order_id)
                             .where(OrderLine.menu_item_id == items[HOT], Order.status.in_(HOLDING)))
    oversold = max(0, held - size["portions"])
    print(f"lunch: {HOT} {size['portions']} portions, {size['contenders']} contenders: {held} held by orders, "
          f"stock left {left}, oversold {oversold}", flush=True)
    if held != size["portions"]:
        problems.append(f"orders hold {held} portions of {HOT}, expected exactly {size['portions']}")
    if left != 0:
        problems.append(f"{HOT} stock left {left}, expected 0")
    others = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.menu_id == menu_id, Order.status.in_(HOLDING)))
    expected = size["portions"] + size["students"] - size["contenders"]
    if others != expected:
        problems.append(f"{others} orders hold portions, expected {expected}")
    return problems
