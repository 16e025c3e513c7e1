"""Ordering a meal: the portions are taken through ``app.core.allocation`` and the order paid through
the payable contract (``payments.service``); what payments says comes back through ``handlers.py``
(paid → pickup code, closed → expired). Cancelling before the deadline gives the portions and the money
back. My orders and an order's detail."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, Integer, and_, any_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.exc import IntegrityError

from app.canteen.models import Canteen, CanteenWindow, Dish, Menu, MenuItem, Order, OrderLine
from app.canteen.service import notices
from app.canteen.service.access import order_for, price_group, roles_on
from app.canteen.service.errors import (
    CancelClosed,
    MenuNotFound,
    OrderNotFound,
    OrdersClosed,
    OverCap,
    RequestReused,
    SoldOut,
)
from app.canteen.states import (
    HOLDING,
    LABELS,
    MAX_LINES,
    MAX_QUANTITY,
    MEAL_LABELS,
    PAY_WITHIN,
    PICKUP_CODE_ATTEMPTS,
    PICKUP_CODE_DIGITS,
    STATUS_LABELS,
    TRANSITIONS,
    Status,
)
from app.core import allocation, clock
from app.core.auth import Actor
from app.core.db import db, fetch, prebuilt
from app.core.errors import ValidationFailed
from app.core.pagination import PageParams, paginate
from app.core.statemachine import SYSTEM, StateMachine
from app.payments import service as payments
from app.wechat import codes

BIZ_TYPE = "canteen.order"
LOCK_SPACE = 0x43414E54  # "CANT": this domain's advisory locks (pg_advisory_xact_lock(space, key))

order_machine = StateMachine(Order, TRANSITIONS, entity="canteen_order", labels=LABELS)


@dataclass(frozen=True)
class LineView:
    menu_item_id: int
    dish_name: str
    window_name: str
    quantity: int
    unit_price_fen: int


@dataclass(frozen=True)
class OrderView:
    id: int
    status: str
    status_label: str
    canteen_id: int
    canteen_name: str
    menu_id: int
    day: Any
    meal: str
    meal_label: str
    price_group: str
    total_fen: int
    payment_id: int | None
    expires_at: datetime
    cancel_until: datetime
    pickup_from: datetime
    pickup_until: datetime
    pickup_code: str | None
    qr_token: str | None
    paid_at: datetime | None
    picked_up_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    lines: list[LineView]
    department_id: int | None = None
    headcount: int | None = None


def present(orders: list[Order]) -> list[OrderView]:
    if not orders:
        return []
    menus = {m.id: m for m in db.session.scalars(select(Menu).where(Menu.id.in_({o.menu_id for o in orders})))}
    names = dict(db.session.execute(select(Canteen.id, Canteen.name).where(
        Canteen.id.in_({o.canteen_id for o in orders}))).all())
    lines: dict[int, list[LineView]] = {o.id: [] for o in orders}
    for line, dish_name, window_name in db.session.execute(
            select(OrderLine, Dish.name, CanteenWindow.name)
            .join(MenuItem, MenuItem.id == OrderLine.menu_item_id).join(Dish, Dish.id == MenuItem.dish_id)
            .join(CanteenWindow, CanteenWindow.id == MenuItem.window_id)
            .where(OrderLine.order_id.in_(list(lines))).order_by(OrderLine.id)):
        lines[line.order_id].append(LineView(line.menu_item_id, dish_name, window_name, line.quantity,
                                             line.unit_price_fen))
    return [_view(o, menus[o.menu_id], names.get(o.canteen_id, ""), lines[o.id]) for o in orders]


def _view(o: Order, menu: Menu, canteen_name: str, lines: list[LineView]) -> OrderView:
    shows_code = o.status == Status.PAID
    return OrderView(
        id=o.id, status=o.status, status_label=STATUS_LABELS[Status(o.status)], canteen_id=o.canteen_id,
        canteen_name=canteen_name, menu_id=o.menu_id, day=menu.day, meal=menu.meal,
        meal_label=MEAL_LABELS[menu.meal], price_group=o.price_group, total_fen=o.total_fen,
        payment_id=o.payment_id, expires_at=o.expires_at, cancel_until=menu.cancel_until,
        pickup_from=menu.pickup_from, pickup_until=menu.pickup_until,
        pickup_code=o.pickup_code if shows_code else None, qr_token=o.qr_token if shows_code else None,
        paid_at=o.paid_at, picked_up_at=o.picked_up_at, cancelled_at=o.cancelled_at, created_at=o.created_at,
        lines=lines, department_id=o.department_id, headcount=o.headcount)


def when_local(value: datetime) -> str:
    local = clock.to_local(value)
    return local.strftime("%m月%d日 %H:%M").lstrip("0")


# --- placing an order -----------------------------------------------------------------------------------


def _person_lock(param: str) -> Any:
    return func.pg_advisory_xact_lock(LOCK_SPACE, bindparam(param, type_=Integer))


_LOCK_PERSON = prebuilt(select(_person_lock("key")))


def lock_person(menu_id: int, user_id: int) -> None:
    """One order at a time per person and menu: the caps and a double tap's replay are decided alone."""
    fetch(_LOCK_PERSON, {"key": _person_key(menu_id, user_id)})


def _person_key(menu_id: int, user_id: int) -> int:
    return (menu_id * 1_000_003 + user_id) % 2**31


def _payment(order: Order) -> dict[str, Any] | None:
    """While the order waits for its payment, the payment to check out (the phone asks
    ``POST /payments/{id}/checkout`` for the ``wx.requestPayment`` parameters)."""
    if order.status == Status.PENDING_PAYMENT and order.payment_id is not None:
        return {"payment_id": order.payment_id, "status": "created"}
    return None


def _answer(order: Order) -> dict[str, Any]:
    return {"order": present([order])[0], "payment": _payment(order)}


# The hot path of the lunch rush is prebuilt Core statements run by ``fetch`` (straight through psycopg,
# compiled when the app starts): at the rush every order starts with the read, and ORM queries with
# entities cost the API several times what the database spent on them.

_PRIOR = Order.__table__.alias("prior")  # a table alias: an ORM alias would configure the mappers at import

_READ = prebuilt(
    select(Menu.id, Menu.canteen_id, Canteen.name.label("canteen_name"), Menu.day, Menu.meal, Menu.max_per_order,
           Menu.orders_close_at, Menu.cancel_until, Menu.pickup_from, Menu.pickup_until,
           _PRIOR.c.id.label("prior_id"),
           MenuItem.id.label("item_id"), MenuItem.dish_id, MenuItem.stock_id, MenuItem.max_per_person,
           MenuItem.prices, Dish.name.label("dish_name"), CanteenWindow.name.label("window_name"),
           allocation.Stock.remaining,
           # lock_person's lock, taken by the read: an order that goes on saves the round trip
           select(_person_lock("lock_key")).scalar_subquery().label("locked"))
    .select_from(Menu)
    .join(Canteen, Canteen.id == Menu.canteen_id)
    .outerjoin(_PRIOR, and_(_PRIOR.c.user_id == bindparam("user_id"), _PRIOR.c.request_id == bindparam("request_id")))
    .outerjoin(MenuItem, and_(MenuItem.menu_id == Menu.id,
                              MenuItem.id == any_(bindparam("item_ids", type_=ARRAY(BigInteger)))))
    .outerjoin(Dish, Dish.id == MenuItem.dish_id)
    .outerjoin(CanteenWindow, CanteenWindow.id == MenuItem.window_id)
    .outerjoin(allocation.Stock, allocation.Stock.id == MenuItem.stock_id)
    .where(Menu.id == bindparam("menu_id"))
)
"""The menu, its canteen's name, the ordered items with their names and portions left, and the order this
person's ``request_id`` placed already (a retry): one round trip, which is all a refusal at the rush costs.
It also takes the person's lock (``lock_person``): what it read was read before (its snapshot is taken
first), so the order's own checks read again under it (``_MINE``)."""

_NEXT_ORDER_ID = func.nextval(func.pg_get_serial_sequence(Order.__tablename__, "id"))

_HELD = (
    select(OrderLine.menu_item_id, func.sum(OrderLine.quantity).label("quantity"))
    .join(Order, Order.id == OrderLine.order_id)
    .where(Order.user_id == bindparam("user_id"), Order.status == any_(array([str(s) for s in HOLDING])),
           Order.department_id.is_(None),
           OrderLine.menu_item_id == any_(bindparam("item_ids", type_=ARRAY(BigInteger))))
    .group_by(OrderLine.menu_item_id)
    .subquery()
)

_MINE = prebuilt(select(
    select(Order.id).where(Order.user_id == bindparam("user_id"), Order.request_id == bindparam("request_id"))
    .scalar_subquery().label("prior_id"),
    select(func.json_object_agg(_HELD.c.menu_item_id, _HELD.c.quantity)).scalar_subquery().label("held"),
    _NEXT_ORDER_ID.label("order_id"),
))
"""Under the person's lock: their order with this ``request_id`` (a retry that raced us), the portions they
hold of the ordered items (the caps) and the id the new order will have, in one round trip."""

_INSERT = prebuilt(text("""
WITH placed AS (
    INSERT INTO canteen_orders (id, user_id, canteen_id, menu_id, request_id, status, price_group, total_fen,
                                payment_id, expires_at, department_id, headcount, created_at, updated_at)
    VALUES (:id, :user_id, :canteen_id, :menu_id, :request_id, :status, :price_group, :total_fen,
            :payment_id, :expires_at, :department_id, :headcount, :now, :now)
    RETURNING id)
INSERT INTO canteen_order_lines (order_id, menu_item_id, quantity, unit_price_fen, allocation_key)
SELECT placed.id, line.item_id, line.quantity, line.unit_price_fen, line.allocation_key
FROM placed, unnest(CAST(:item_ids AS bigint[]), CAST(:quantities AS integer[]), CAST(:unit_prices AS integer[]),
                    CAST(:keys AS varchar[])) AS line(item_id, quantity, unit_price_fen, allocation_key)
"""))
"""An order and its lines in one statement."""


@dataclass(frozen=True)
class _Item:
    """A menu item being ordered, with the names its order line shows and the portions left when read."""

    id: int
    dish_id: int
    stock_id: int
    max_per_person: int
    prices: dict[str, Any]
    dish_name: str
    window_name: str
    left: int


@dataclass(frozen=True)
class _MenuRead:
    """What ordering needs of a menu (the attributes ``_view`` reads of a ``Menu``), and the order this
    ``request_id`` placed already, if any."""

    id: int
    canteen_id: int
    canteen_name: str
    day: Any
    meal: str
    max_per_order: int
    orders_close_at: datetime
    cancel_until: datetime
    pickup_from: datetime
    pickup_until: datetime
    prior_id: int | None


def _read_order(actor: Actor, menu_id: int, lines: list[dict[str, int]],
                request_id: str) -> tuple[_MenuRead, dict[int, _Item]]:
    """The menu and the ordered items (``_READ``), then the lines checked."""
    ids = list(dict.fromkeys(line["menu_item_id"] for line in lines))
    rows = fetch(_READ, {"menu_id": menu_id, "item_ids": ids, "user_id": actor.user_id, "request_id": request_id,
                         "lock_key": _person_key(menu_id, actor.user_id)})
    if not rows:
        raise MenuNotFound()
    menu = _MenuRead(**{f.name: getattr(rows[0], f.name) for f in fields(_MenuRead)})
    if not lines:
        raise ValidationFailed(errors={"lines": ["请至少选择一个菜品"]})
    if len(lines) > MAX_LINES:
        raise ValidationFailed(errors={"lines": [f"一单最多 {MAX_LINES} 个菜品"]})
    if len(ids) != len(lines):
        raise ValidationFailed(errors={"lines": ["同一菜品请合并为一行"]})
    if any(not 0 < line["quantity"] <= MAX_QUANTITY for line in lines):
        raise ValidationFailed(errors={"lines": [f"份数应为 1 到 {MAX_QUANTITY}"]})
    items = {row.item_id: _Item(row.item_id, row.dish_id, row.stock_id, row.max_per_person, row.prices,
                                row.dish_name, row.window_name, int(row.remaining or 0))
             for row in rows if row.item_id is not None}
    if len(items) != len(ids):
        raise ValidationFailed(errors={"lines": ["菜品不在该菜单上"]})
    if sum(line["quantity"] for line in lines) > menu.max_per_order:
        raise OverCap(message=f"每单最多 {menu.max_per_order} 份")
    return menu, items


def _check_caps(items: dict[int, _Item], wanted: dict[int, int], held: dict[str, int] | None) -> None:
    had = {int(item_id): int(quantity) for item_id, quantity in (held or {}).items()}
    for item_id, quantity in wanted.items():
        cap = items[item_id].max_per_person
        if had.get(item_id, 0) + quantity > cap:
            already = f"，您已订 {had[item_id]} 份" if had.get(item_id) else ""
            raise OverCap(message=f"「{items[item_id].dish_name}」每人限购 {cap} 份{already}")


def sold_out(dish_id: int, left: int, name: str | None = None) -> SoldOut:
    name = name or db.session.scalar(select(Dish.name).where(Dish.id == dish_id))
    return SoldOut(message=f"「{name}」已售罄" if left <= 0 else f"「{name}」仅剩 {left} 份")


def _replay(menu: _MenuRead, prior_id: int | None) -> dict[str, Any] | None:
    """The answer for the order this ``request_id`` placed already (a double tap, a retry); 409 if it was
    another menu's."""
    if prior_id is None:
        return None
    order = db.session.get(Order, prior_id)
    if order.menu_id != menu.id:
        raise RequestReused()
    return _answer(order)


def place_order(*, actor: Actor, menu_id: int, lines: list[dict[str, int]], request_id: str) -> dict[str, Any]:
    """Order from a menu before its cut-off, within its caps: the portions are held and a payment opened
    for 10 minutes, in one short transaction. WeChat is not asked anything here: at the rush the portions
    go to whoever asks first, and paying (``POST /payments/{id}/checkout``, then ``wx.requestPayment``)
    is a second call, so a slow or failing WeChat cannot cost anyone their portion. Unpaid at the
    deadline, the payment is closed (payments' timer) and ``payment_closed`` expires the order.
    ``request_id`` is the client's idempotency key: the same one again (a double tap, a retry) answers the
    same order. Answers ``{"order", "payment"}`` (``payment``: ``payment_id``, ``status``)."""
    menu, items = _read_order(actor, menu_id, lines, request_id)
    replayed = _replay(menu, menu.prior_id)
    if replayed is not None:  # a retry of a placed order (the stock and the order commit together)
        return replayed
    now = clock.now()
    if now >= menu.orders_close_at:
        raise OrdersClosed(message=f"{MEAL_LABELS[menu.meal]}已于 {when_local(menu.orders_close_at)} 截止订餐")
    wanted = {line["menu_item_id"]: line["quantity"] for line in lines}
    short = next((items[i] for i, q in wanted.items() if items[i].left < q), None)
    if short is not None:  # a loser of the rush costs one read
        raise sold_out(short.dish_id, short.left, short.dish_name)
    mine = fetch(_MINE, {"user_id": actor.user_id, "request_id": request_id, "item_ids": list(wanted)})[0]
    replayed = _replay(menu, mine.prior_id)
    if replayed is not None:
        return replayed
    _check_caps(items, wanted, mine.held)
    group = price_group(actor)
    prices = {i: int(items[i].prices[group]) for i in wanted}
    total = sum(prices[i] * q for i, q in wanted.items())
    order = Order(id=mine.order_id, user_id=actor.user_id, canteen_id=menu.canteen_id, menu_id=menu.id,
                  request_id=request_id, status=Status.PENDING_PAYMENT, price_group=group, total_fen=total,
                  expires_at=now + PAY_WITHIN, created_at=now, updated_at=now)
    order.payment_id = payments.request_payment(
        biz_type=BIZ_TYPE, biz_id=order.id, amount_fen=total, payer=actor, expires_at=order.expires_at,
        description=f"{menu.canteen_name} {menu.day.isoformat()} {MEAL_LABELS[menu.meal]}"[:127])
    insert_order(order, prices, wanted)
    # the portions last: the stock rows stay locked only from here to the commit
    take_portions(order.id, items, wanted)
    view = _view(order, menu, menu.canteen_name, [
        LineView(i, items[i].dish_name, items[i].window_name, q, prices[i]) for i, q in wanted.items()])
    return {"order": view, "payment": _payment(order)}


def insert_order(order: Order, prices: dict[int, int], wanted: dict[int, int]) -> int:
    """Write ``order`` (a new ``Order``, not added to the session; without an id it gets the next one) and
    its lines (``wanted``: menu item id → quantity, at ``prices``) in one statement; each line's allocation
    key is the one ``take_portions`` takes and cancelling gives back. Answers the order's id."""
    if order.id is None:
        order.id = db.session.scalar(select(_NEXT_ORDER_ID))
    if order.created_at is None:
        order.created_at = order.updated_at = clock.now()
    ids = list(wanted)
    fetch(_INSERT, {
        "id": order.id, "user_id": order.user_id, "canteen_id": order.canteen_id, "menu_id": order.menu_id,
        "request_id": order.request_id, "status": order.status, "price_group": order.price_group,
        "total_fen": order.total_fen, "payment_id": order.payment_id, "expires_at": order.expires_at,
        "department_id": order.department_id, "headcount": order.headcount, "now": order.created_at,
        "item_ids": ids, "quantities": [wanted[i] for i in ids], "unit_prices": [prices[i] for i in ids],
        "keys": [_line_key(order.id, i) for i in ids]})
    return order.id


def take_portions(order_id: int, items: dict, wanted: dict[int, int]) -> None:
    """Take the order's portions (``items``: menu item id → something with ``stock_id`` and ``dish_id``)
    from the stock in one go, or raise ``canteen.sold_out`` naming the dish (a take that loses the race
    after the read said there were enough: rare, its name is read then)."""
    try:
        allocation.take_many({items[i].stock_id: (q, _line_key(order_id, i)) for i, q in wanted.items()})
    except allocation.NotEnough as short:
        item = next(i for i in items.values() if i.stock_id == short.stock_id)
        raise sold_out(item.dish_id, short.remaining) from None


def _line_key(order_id: int, item_id: int) -> str:
    return f"canteen.order:{order_id}:{item_id}"


def _give_back(order: Order) -> int:
    keys = db.session.scalars(select(OrderLine.allocation_key).where(OrderLine.order_id == order.id)).all()
    return sum(allocation.give_back(k) for k in keys)


# --- what payments says ---------------------------------------------------------------------------------


def _lock(order_id: int) -> Order | None:
    return db.session.scalars(select(Order).where(Order.id == order_id).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()


def _new_code() -> str:
    return f"{secrets.randbelow(10 ** PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"


def fire_paid(order: Order, action: str = "pay", *, actor_id: int | None = None,
               roles: set[str] | frozenset[str] = frozenset({SYSTEM})) -> None:
    """paid (``pay``; a department order: ``bill``), with a pickup code unique among the canteen's open
    orders (the partial unique index decides; a collision tries another code in a savepoint)."""
    for _attempt in range(PICKUP_CODE_ATTEMPTS):
        code = _new_code()
        try:
            with db.session.begin_nested():
                order_machine.fire(order, action, actor_id=actor_id, roles=roles, values={
                    "pickup_code": code, "qr_token": secrets.token_urlsafe(18), "paid_at": clock.now()})
            return
        except IntegrityError:
            db.session.refresh(order)
            continue
    raise RuntimeError("no free pickup code after several attempts")


def paid(order_id: int, payment_id: int) -> bool:
    """``payment_succeeded``: the order is paid, gets its pickup code, the orderer is told. A payment for
    an order given up meanwhile (cancelled before it was paid) is refunded at once."""
    order = _lock(order_id)
    if order is None or order.payment_id != payment_id:
        return False
    if order.status == Status.PENDING_PAYMENT:
        fire_paid(order)
        notices.order_paid(order)
        return True
    if order.status in (Status.CANCELLED, Status.EXPIRED):
        payments.refund(actor=None, payment_id=payment_id, amount_fen=order.total_fen,
                        reason="订单已取消，自动退款")
        return True
    return False


def closed(order_id: int, payment_id: int) -> bool:
    """``payment_closed``: not paid in time — the order expires and its portions go back."""
    order = _lock(order_id)
    if order is None or order.payment_id != payment_id or order.status != Status.PENDING_PAYMENT:
        return False
    order_machine.fire(order, "expire", actor_id=None, roles={SYSTEM})
    _give_back(order)
    return True


# --- the orderer ---------------------------------------------------------------------------------------


def cancel(*, actor: Actor, order_id: int) -> OrderView:
    """Cancel before the menu's cancellation deadline: the portions go back, a paid order is refunded in
    full. After the deadline 409. A second cancel answers the cancelled order."""
    order = order_for(actor, order_id, lock=True)
    if order.user_id != actor.user_id:
        raise OrderNotFound()
    menu = db.session.get(Menu, order.menu_id)
    was = order.status
    if was in (Status.PENDING_PAYMENT, Status.PAID) and clock.now() >= menu.cancel_until:
        raise CancelClosed(message=f"已过取消截止时间（{when_local(menu.cancel_until)}），不能取消")
    fired = order_machine.fire(order, "cancel", actor_id=actor.user_id, roles=roles_on(actor, order),
                               values={"cancelled_at": clock.now()}, repeat=True)
    if fired.ignored:
        return present([order])[0]
    _give_back(order)
    if was == Status.PAID and order.payment_id is not None:
        payments.refund(actor=None, payment_id=order.payment_id, amount_fen=order.total_fen, reason="取消订餐")
    return present([order])[0]


def my_orders(*, actor: Actor, params: PageParams, status: str | None = None) -> list[OrderView]:
    stmt = select(Order).where(Order.user_id == actor.user_id)
    if status:
        stmt = stmt.where(Order.status == status)
    return present(paginate(stmt.order_by(Order.id.desc()), params))


def order_detail(*, actor: Actor, order_id: int) -> OrderView:
    return present([order_for(actor, order_id)])[0]


def no_show_refund() -> bool:
    return bool(current_app.config.get("CANTEEN_NO_SHOW_REFUND", False))


def order_qr(*, actor: Actor, order_id: int) -> codes.Image:
    """The QR code of a paid order (a link carrying its token) that staff scan at the window."""
    order = order_for(actor, order_id)
    if order.status != Status.PAID or not order.qr_token:
        raise OrderNotFound("canteen.no_code", "该订单没有可用的取餐码")
    return codes.link_qr(f"canteen-pickup?token={order.qr_token}")
