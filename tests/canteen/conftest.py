"""Fixtures of the canteen tests: the demo people logged in, a canteen with two windows and dishes, a
menu of tonight's dinner (orders close at 15:00, the fixed clock says 10:00), and paying at the simulator."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from app.canteen import service
from app.canteen.models import Order
from app.core import allocation, clock
from app.core.auth import Actor
from app.core.db import commit_scope, db
from app.payments import service as payments
from app.payments.models import Payment
from tests.conftest import drain
from tests.support import wait_for

STAFF = Actor(user_id=0, roles=frozenset({"canteen"}))
_ids = itertools.count(1)





@pytest.fixture
def cook(login):
    return login("canteen")


class Kitchen:
    """A canteen made for the test: windows, dishes, and menus of the dishes."""

    def __init__(self):
        with commit_scope():
            canteen = service.create_canteen(actor=STAFF, name="测试食堂")
            self.canteen_id = canteen.id
            self.windows = [service.create_window(actor=STAFF, canteen_id=canteen.id, name=n).id
                            for n in ("一号窗口", "二号窗口")]
            self.dishes = {
                name: service.create_dish(actor=STAFF, canteen_id=canteen.id, window_id=self.windows[w], name=name,
                                          price_fen=price).id
                for name, w, price in (("红烧肉", 0, 1200), ("青菜", 0, 400), ("牛肉面", 1, 1300))}

    def menu(self, *, day=None, meal="dinner", portions=None, cap=2, max_per_order=5, **times) -> dict:
        """A menu of every dish (``portions``: ``{name: n}``, default 50 each), prices staff 1000 /
        student 1200 / external 1500 for 红烧肉; answers the menu view as a dict of item ids by dish name."""
        portions = portions or {}
        with commit_scope():
            menu = service.create_menu(
                actor=STAFF, canteen_id=self.canteen_id, day=day or clock.local_now().date(), meal=meal,
                max_per_order=max_per_order, **times,
                items=[{"dish_id": d, "portions": portions.get(n, 50), "max_per_person": cap,
                        "prices": {"staff": 1000, "student": 1200, "external": 1500} if n == "红烧肉" else None}
                       for n, d in self.dishes.items()])
            view = service.menu_view(menu.id)
        return {"id": view.id, "items": {i.name: i.id for i in view.items}, "view": view}


@pytest.fixture
def kitchen(app, demo):
    return Kitchen()


def order(session, menu, lines: dict[str, int] | None = None, *, request_id: str | None = None):
    lines = lines or {"红烧肉": 1}
    return session.post("/api/v1/canteen/orders", json={
        "menu_id": menu["id"], "request_id": request_id or f"req-{next(_ids):08d}",
        "lines": [{"menu_item_id": menu["items"][n], "quantity": q} for n, q in lines.items()]})


def placed(session, menu, lines=None, **kw) -> dict:
    resp = order(session, menu, lines, **kw)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def left(menu, name: str) -> int:
    db.session.rollback()
    return next(i.remaining for i in service.menu_view(menu["id"]).items if i.name == name)


def fresh_order(order_id: int) -> Order:
    db.session.rollback()
    return db.session.get(Order, order_id)


def payment_of(order_id: int) -> Payment:
    db.session.rollback()
    return db.session.get(Payment, fresh_order(order_id).payment_id)


def checkout(order_id: int) -> dict:
    """The orderer taps 支付 (``POST /payments/{id}/checkout``): the payment is prepaid at the simulator;
    answers the ``wx.requestPayment`` parameters."""
    payment = payment_of(order_id)
    with commit_scope():
        return payments.checkout(actor=Actor(user_id=payment.payer_id), payment_id=payment.id)


def pay(app, sim, order_id: int) -> None:
    """The orderer checks out and pays in wx.requestPayment; WeChat's notification is stored and applied by
    a worker."""
    checkout(order_id)
    out_trade_no = payment_of(order_id).out_trade_no
    note = sim.pay_order(out_trade_no)
    sim.wait_pay_deliveries(note["notification_id"], attempts=1, timeout=30)
    drain(app)
    assert wait_for(lambda: fresh_order(order_id).status != "pending_payment")


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def stock_left(stock_id: int) -> int:
    db.session.rollback()
    return allocation.remaining([stock_id])[stock_id]


@pytest.fixture(autouse=True)
def long_tokens(app):
    """Access tokens that outlive the hours a test moves the clock by (normally 15 minutes)."""
    before = app.config["ACCESS_TOKEN_TTL"]
    app.config["ACCESS_TOKEN_TTL"] = 60 * 24 * 3600
    yield
    app.config["ACCESS_TOKEN_TTL"] = before

