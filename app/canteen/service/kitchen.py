"""What the kitchen sees: the production sheet of a menu (portions ordered per dish, per window) and the
pickup progress (paid / picked up / no-show)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.canteen.models import CanteenWindow, Dish, MenuItem, Order, OrderLine
from app.canteen.service.access import require_staff
from app.canteen.service.setup import get_menu
from app.canteen.states import Status
from app.core import allocation, clock
from app.core.auth import Actor
from app.core.db import db

COOKED = (Status.PAID, Status.PICKED_UP, Status.NO_SHOW)
"""Orders the kitchen cooks for."""


@dataclass(frozen=True)
class SheetRow:
    window_id: int
    window_name: str
    dish_id: int
    dish_name: str
    portions: int  # the menu's stock
    ordered: int  # paid (picked up, no-show included)
    pending: int  # held, waiting for payment


def production_sheet(*, actor: Actor, menu_id: int) -> dict[str, Any]:
    """Portions ordered per dish, grouped by window; ``final`` once the menu's orders closed."""
    require_staff(actor)
    menu = get_menu(menu_id)
    counts: dict[tuple[int, bool], int] = {}
    for item_id, status, quantity in db.session.execute(
            select(OrderLine.menu_item_id, Order.status, func.sum(OrderLine.quantity))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.menu_id == menu.id, Order.status.in_([*COOKED, Status.PENDING_PAYMENT]))
            .group_by(OrderLine.menu_item_id, Order.status)):
        key = (item_id, status in COOKED)
        counts[key] = counts.get(key, 0) + int(quantity)
    rows = []
    for item, dish_name, window_name, total in db.session.execute(
            select(MenuItem, Dish.name, CanteenWindow.name, allocation.Stock.total)
            .join(Dish, Dish.id == MenuItem.dish_id).join(CanteenWindow, CanteenWindow.id == MenuItem.window_id)
            .join(allocation.Stock, allocation.Stock.id == MenuItem.stock_id)
            .where(MenuItem.menu_id == menu.id).order_by(CanteenWindow.sort_order, CanteenWindow.id, MenuItem.id)):
        rows.append(SheetRow(item.window_id, window_name, item.dish_id, dish_name, total,
                             counts.get((item.id, True), 0), counts.get((item.id, False), 0)))
    return {"menu_id": menu.id, "day": menu.day, "meal": menu.meal, "final": clock.now() >= menu.orders_close_at,
            "rows": rows, "total_ordered": sum(r.ordered for r in rows)}


def progress(*, actor: Actor, menu_id: int) -> dict[str, int]:
    """How the pickup goes: orders paid and waiting, picked up, not collected."""
    require_staff(actor)
    menu = get_menu(menu_id)
    counts = dict(db.session.execute(select(Order.status, func.count()).where(Order.menu_id == menu.id)
                                     .group_by(Order.status)).all())
    return {"menu_id": menu.id, "paid": counts.get(Status.PAID, 0), "picked_up": counts.get(Status.PICKED_UP, 0),
            "no_show": counts.get(Status.NO_SHOW, 0), "pending_payment": counts.get(Status.PENDING_PAYMENT, 0)}
