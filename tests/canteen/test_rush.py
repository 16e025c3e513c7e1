"""The lunch rush for real: 2,000 people order one dish with 300 portions at the same moment. Exactly 300
orders hold portions, the stock ends at 0 and is never seen below it, and every one of the 1,700 others is
told 「红烧肉」已售罄 (``canteen.sold_out``)."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.canteen import service
from app.canteen.models import MenuItem, Order
from app.core import allocation
from app.core.auth import Actor
from app.core.db import commit_scope, db
from app.payments.models import Payment
from app.users.models import User
from tests.canteen.conftest import count, left
from tests.support import race_many

PEOPLE, PORTIONS = 2000, 300


def _people(n: int) -> list[Actor]:
    with commit_scope():
        ids = db.session.scalars(insert(User).values([{"openid": f"rush-{i:05d}"} for i in range(n)])
                                 .returning(User.id)).all()
    return [Actor(user_id=i) for i in ids]


def test_two_thousand_orders_for_three_hundred_portions_hold_exactly_three_hundred(app, kitchen):
    menu = kitchen.menu(portions={"红烧肉": PORTIONS}, cap=1)
    item = menu["items"]["红烧肉"]
    stock_id = db.session.scalar(select(MenuItem.stock_id).where(MenuItem.id == item))
    people = _people(PEOPLE)
    db.session.remove()
    lowest, done = [PORTIONS], threading.Event()

    def buy(i: int):
        def call():
            try:
                with commit_scope():
                    return service.place_order(actor=people[i], menu_id=menu["id"], request_id=f"rush-{i}",
                                               lines=[{"menu_item_id": item, "quantity": 1}])
            except service.SoldOut as exc:
                return exc
        return call

    def watcher() -> None:  # what anyone reading the menu sees meanwhile
        with app.app_context():
            while not done.is_set():
                lowest[0] = min(lowest[0], allocation.remaining([stock_id])[stock_id])
                db.session.rollback()
            db.session.remove()

    watching = threading.Thread(target=watcher)
    watching.start()
    try:
        results = race_many([buy(i) for i in range(PEOPLE)], app=app)
    finally:
        done.set()
        watching.join(30)

    orders = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, service.SoldOut)]
    assert len(orders) == PORTIONS and len(refused) == PEOPLE - PORTIONS
    assert all(r.status == 409 and r.error_code == "canteen.sold_out" and r.message == "「红烧肉」已售罄"
               for r in refused)
    assert left(menu, "红烧肉") == 0 and lowest[0] == 0
    assert count(Order) == PORTIONS and count(Payment) == PORTIONS
    assert len({o["order"].id for o in orders}) == PORTIONS
