"""What the canteen tells people, each once per order (or per menu and person) and kind:

* ``canteen.order_paid`` — to the orderer: paid (or billed to the department), with the pickup code;
* ``canteen.pickup_ready`` — at the start of a menu's pickup window (timer ``canteen.pickup_start``),
  to everyone with a paid order of the menu not picked up yet, in bulk (``notify_many``);
* ``canteen.pickup_closing`` — 15 minutes before the window ends (timer ``canteen.pickup_closing``),
  to everyone still not picked up, in bulk;
* ``canteen.refunded`` — to the orderer when payments says the refund went through.

Bulk messages are keyed ``<kind>:<menu id>:<user id>`` (``notify_many``): one person with two orders
on one menu gets one message, and a timer fired twice adds nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.canteen.models import Menu, Order
from app.canteen.states import MEAL_LABELS, PICKUP_CLOSING_TIMER, PICKUP_START_TIMER, Status
from app.core import clock, timers
from app.core.db import db
from app.notifications import service as notifications
from app.notifications import templates
from app.notifications.templates import TemplateSpec

ORDER_PAGE = "packageCanteen/pages/order/order?id={order_id}"
ORDERS_PAGE = "packageCanteen/pages/orders/orders"

PAID = templates.register(TemplateSpec(
    event="canteen.order_paid", title="订餐成功通知", page=ORDER_PAGE,
    fields={"thing1": "meal", "character_string2": "pickup_code", "time3": "pickup_from"}))
READY = templates.register(TemplateSpec(
    event="canteen.pickup_ready", title="取餐提醒", page=ORDERS_PAGE,
    fields={"thing1": "meal", "time2": "pickup_until"}))
CLOSING = templates.register(TemplateSpec(
    event="canteen.pickup_closing", title="取餐即将结束提醒", page=ORDERS_PAGE,
    fields={"thing1": "meal", "time2": "pickup_until"}))
REFUNDED = templates.register(TemplateSpec(
    event="canteen.refunded", title="退款成功通知", page=ORDER_PAGE,
    fields={"thing1": "meal", "amount2": "amount"}))


def hhmm(value: datetime) -> str:
    return clock.to_local(value).strftime("%H:%M")


def _meal(menu: Menu) -> str:
    return f"{menu.day.month}月{menu.day.day}日{MEAL_LABELS[menu.meal]}"


def order_paid(order: Order) -> None:
    """To the orderer: the order is paid (billed), here is the pickup code."""
    menu = db.session.get(Menu, order.menu_id)
    billed = "（记账到部门）" if order.department_id is not None else ""
    notifications.notify(
        user_id=order.user_id, event=PAID.event, title="订餐成功",
        body=f"{_meal(menu)}{billed}，取餐码 {order.pickup_code}，"
             f"请于 {hhmm(menu.pickup_from)}–{hhmm(menu.pickup_until)} 取餐",
        data={"order_id": order.id, "pickup_code": order.pickup_code, "meal": _meal(menu),
              "pickup_from": menu.pickup_from.isoformat()},
        link=ORDER_PAGE.format(order_id=order.id), idempotency_key=f"canteen.order_paid:{order.id}")


def refunded(order_id: int, amount_fen: int) -> bool:
    """``refund_succeeded`` of an order's payment: the orderer is told once."""
    order = db.session.get(Order, order_id)
    if order is None:
        return False
    menu = db.session.get(Menu, order.menu_id)
    amount = f"{amount_fen / 100:.2f}"
    notifications.notify(
        user_id=order.user_id, event=REFUNDED.event, title="退款成功",
        body=f"{_meal(menu)}订单 {amount} 元已原路退回", link=ORDER_PAGE.format(order_id=order.id),
        data={"order_id": order.id, "meal": _meal(menu), "amount": f"{amount}元"},
        idempotency_key=f"canteen.refunded:{order.id}")
    return True


def schedule(menu: Menu) -> None:
    """The menu's pickup timers (moving a window moves them: one pending timer per kind and menu)."""
    timers.schedule(PICKUP_START_TIMER, menu.id, menu.pickup_from)
    timers.schedule(PICKUP_CLOSING_TIMER, menu.id, menu.closing_notice_at)


def _waiting(menu_id: int) -> list[int]:
    return list(db.session.scalars(select(Order.user_id).where(
        Order.menu_id == menu_id, Order.status == Status.PAID).distinct()))


def pickup_start_due(menu_id: int) -> int:
    """Timer ``canteen.pickup_start``: the window opened — everyone waiting is told, in bulk. Returns how
    many messages are new."""
    menu = db.session.get(Menu, menu_id)
    if menu is None:
        return 0
    if clock.now() < menu.pickup_from - timers.TOLERANCE:  # the window was moved later
        timers.schedule(PICKUP_START_TIMER, menu.id, menu.pickup_from)
        return 0
    return notifications.notify_many(
        user_ids=_waiting(menu.id), event=READY.event, title="可以取餐了",
        body=f"{_meal(menu)}已可取餐，请于 {hhmm(menu.pickup_until)} 前凭取餐码取餐", link=ORDERS_PAGE,
        data={"menu_id": menu.id, "meal": _meal(menu), "pickup_until": menu.pickup_until.isoformat()},
        idempotency_key=f"canteen.pickup_ready:{menu.id}")


def pickup_closing_due(menu_id: int) -> int:
    """Timer ``canteen.pickup_closing``: 15 minutes left — everyone still not picked up is told, in bulk."""
    menu = db.session.get(Menu, menu_id)
    if menu is None:
        return 0
    if clock.now() < menu.closing_notice_at - timers.TOLERANCE:
        timers.schedule(PICKUP_CLOSING_TIMER, menu.id, menu.closing_notice_at)
        return 0
    if clock.now() >= menu.pickup_until:  # too late to be of use
        return 0
    return notifications.notify_many(
        user_ids=_waiting(menu.id), event=CLOSING.event, title="取餐即将结束",
        body=f"{_meal(menu)}取餐将于 {hhmm(menu.pickup_until)} 结束，请尽快取餐", link=ORDERS_PAGE,
        data={"menu_id": menu.id, "meal": _meal(menu), "pickup_until": menu.pickup_until.isoformat()},
        idempotency_key=f"canteen.pickup_closing:{menu.id}")
