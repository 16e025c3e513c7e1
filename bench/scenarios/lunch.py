"""POST /api/v1/canteen/orders: 3,000 students order lunch, 2,000 of them racing for a 300-portion dish; rps = orders/s.

``seed`` makes 3,000 students (users bound to roster students) and a canteen with tomorrow's lunch:
红烧排骨 with 300 portions (one per person) and two dishes with enough for everyone. ``run(ctx)`` gives
each student an access token, then ``ctx.users`` threads post one order per student to gunicorn in a
shuffled stream: 2,000 want 红烧排骨 (300 get it, the rest are answered 409 ``canteen.sold_out``),
1,000 order the other dishes. An order holds its portions and opens its payment; latencies are per
order (the RESULT). Printed beside it: each program's CPU per order (client, gunicorn, PostgreSQL,
Redis), and then the 300 winners' checkouts (``POST /payments/{id}/checkout``, a prepay at the
simulator), which must all answer ``wx.requestPayment`` parameters. ``verify`` checks that nothing was
oversold: no stock below 0, orders holding 红烧排骨 portions = 300 exactly and its stock at 0, every
other student with an order. ``--smoke``: 60 students, 40 contenders, 10 portions.
"""

from __future__ import annotations

import http.client
import json
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import psutil
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
        wants.append((token, "/api/v1/canteen/orders",
                      {"menu_id": menu_id, "request_id": f"{PREFIX}-{i:06d}", "lines": lines}, i < size["contenders"]))
    random.Random(13).shuffle(wants)
    client = _Client(ctx.base_url)

    before = _cpu_by_program()
    started = time.perf_counter()
    with ThreadPoolExecutor(max(2, ctx.users)) as pool:
        results = list(pool.map(client.post, wants))
    elapsed = time.perf_counter() - started
    spent = {name: seconds - before.get(name, 0.0) for name, seconds in _cpu_by_program().items()}
    print("lunch: CPU per order by program: " + ", ".join(
        f"{name} {seconds * 1000 / len(wants):.2f} ms" for name, seconds in
        sorted(spent.items(), key=lambda kv: -kv[1]) if seconds * 1000 / len(wants) >= 0.05), flush=True)
    sold_out = sum(1 for _, status, body, _ in results
                   if status == 409 and body.get("error_code") == "canteen.sold_out")
    failures = sum(1 for _, status, body, _ in results
                   if status != 201 and body.get("error_code") != "canteen.sold_out")
    print(f"lunch: {len(results)} orders posted, {len(results) - sold_out - failures} placed, "
          f"{sold_out} answered sold out, {failures} failed", flush=True)
    _print_phases(wants, results, started)
    failures += _checkouts(ctx, client, [(want[0], body["payment"]["payment_id"])
                                         for want, (_, status, body, _) in zip(wants, results, strict=True)
                                         if want[3] and status == 201])
    return {"rps": len(results) / elapsed, "requests": len(results), "failures": failures,
            **_quantiles([ms for ms, _, _, _ in results])}


def _print_phases(wants: list, results: list, started: float) -> None:
    """The latencies while the contended dish lasted (every order placed: the costly part, where the p99
    comes from) and afterwards (its contenders refused with one read)."""
    taken = [at + ms / 1000 for want, (ms, status, _, at) in zip(wants, results, strict=True)
             if want[3] and status == 201]
    if not taken:
        return
    last = max(taken)
    during = [ms for ms, _, _, at in results if at < last]
    after = [ms for ms, _, _, at in results if at >= last]
    figures = [f"while {HOT} lasted ({last - started:.1f} s, {len(during)} orders): "
               + _brief(during)]
    if len(after) > 1:
        figures.append(f"afterwards ({len(after)} orders): " + _brief(after))
    print("lunch: " + "; ".join(figures), flush=True)


def _brief(latencies: list[float]) -> str:
    if len(latencies) < 2:
        return f"{latencies[0]:.0f} ms"
    figures = _quantiles(latencies)
    return f"p50 {figures['p50_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms"


def _checkouts(ctx, client: _Client, paying: list[tuple[str, int]]) -> int:
    """Then the winners of the contended dish pay, as their phones do next: the checkout (a prepay at
    the simulator) for each, at the same concurrency; printed, not part of the RESULT. Answers the
    number of checkouts without ``wx.requestPayment`` parameters."""
    calls = [(token, f"/api/v1/payments/{payment_id}/checkout", None, True) for token, payment_id in paying]
    started = time.perf_counter()
    with ThreadPoolExecutor(max(2, ctx.users)) as pool:
        results = list(pool.map(client.post, calls))
    elapsed = time.perf_counter() - started
    failed = sum(1 for _, status, body, _ in results if status != 200 or not (body.get("params") or {}).get("paySign"))
    figures = _quantiles([ms for ms, _, _, _ in results]) if results else {}
    print(f"lunch: then {len(results)} winners of {HOT} check out: {len(results) / elapsed:.1f}/s, "
          f"p50 {figures.get('p50_ms')} ms, p99 {figures.get('p99_ms')} ms, {failed} without payment parameters",
          flush=True)
    return failed


def _quantiles(latencies: list[float]) -> dict[str, float]:
    q = statistics.quantiles(sorted(latencies), n=100, method="inclusive")
    return {"p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1)}


class _Client:
    """POSTs from many threads, one connection per thread (``http.client``: half of what ``requests``
    costs per call, measured 0.8 against 1.7 ms, so the figures are more the app's than the client's)."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.local = threading.local()

    def post(self, call: tuple[str, str, dict | None, bool]) -> tuple[float, int, dict, float]:
        """(milliseconds, status, body, when it was sent on ``time.perf_counter``'s clock)"""
        token, path, body, _ = call
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        payload = json.dumps(body).encode() if body is not None else b""
        started = time.perf_counter()
        for attempt in (1, 2):  # the server closed an idle connection: once more on a new one
            conn = getattr(self.local, "conn", None) or http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.local.conn = conn
            try:
                conn.request("POST", path, body=payload, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        ms = (time.perf_counter() - started) * 1000
        return ms, resp.status, (json.loads(data) if data else {}), started


def _cpu_by_program() -> dict[str, float]:
    """CPU seconds used so far by every process on the machine, summed per program: the client (this
    process), gunicorn, PostgreSQL, Redis — where one order's CPU goes on a shared machine."""
    me = psutil.Process().pid
    out: dict[str, float] = {}
    for proc in psutil.process_iter(["pid", "name", "cmdline", "cpu_times"]):
        times = proc.info["cpu_times"]
        if times is None:
            continue
        cmd = " ".join(proc.info["cmdline"] or [])
        program = proc.info["name"] or ""
        name = ("client" if proc.info["pid"] == me else "gunicorn" if "gunicorn" in cmd
                else "postgres" if "postgres" in program else "redis" if "redis" in program else "the rest")
        out[name] = out.get(name, 0.0) + times.user + times.system
    return out


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
