"""What the kitchen sees: the production sheet of a menu (portions ordered per dish, per window), the
pickup progress (paid / picked up / no-show), and sales and waste over days (also as .xlsx)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from app.canteen.models import CanteenWindow, Dish, Menu, MenuItem, Order, OrderLine
from app.canteen.service.access import require_staff
from app.canteen.service.setup import get_menu
from app.canteen.states import MEAL_LABELS, Status
from app.core import allocation, audit, clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import ValidationFailed
from app.core.sheets import write_workbook

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


@dataclass(frozen=True)
class SalesRow:
    day: date
    meal: str
    dish_name: str
    portions: int
    sold: int  # paid portions (picked up and no-show included)
    picked_up: int
    no_show: int
    unsold: int  # portions nobody ordered (or whose order expired or was cancelled)
    revenue_fen: int  # what the sold portions were paid (refunds of cancelled orders are not in `sold`)

    @property
    def waste(self) -> int:
        """Portions cooked and not eaten: not collected plus not sold."""
        return self.no_show + self.unsold


MAX_STATS_DAYS = 92


def sales(*, actor: Actor, canteen_id: int, date_from: date, date_to: date) -> list[SalesRow]:
    """Sales and waste per menu and dish between two days (both included), oldest first."""
    require_staff(actor)
    if date_to < date_from or (date_to - date_from).days >= MAX_STATS_DAYS:
        raise ValidationFailed(errors={"date_to": [f"应在开始日期之后，且不超过 {MAX_STATS_DAYS} 天"]})
    per_item: dict[tuple[int, str], tuple[int, int]] = {}
    for item_id, status, quantity, revenue in db.session.execute(
            select(OrderLine.menu_item_id, Order.status, func.sum(OrderLine.quantity),
                   func.sum(OrderLine.quantity * OrderLine.unit_price_fen))
            .join(Order, Order.id == OrderLine.order_id).join(Menu, Menu.id == Order.menu_id)
            .where(Menu.canteen_id == canteen_id, Menu.day >= date_from, Menu.day <= date_to,
                   Order.status.in_(COOKED))
            .group_by(OrderLine.menu_item_id, Order.status)):
        per_item[(item_id, status)] = (int(quantity), int(revenue))
    rows = []
    for item, day, meal, dish_name, total in db.session.execute(
            select(MenuItem, Menu.day, Menu.meal, Dish.name, allocation.Stock.total)
            .join(Menu, Menu.id == MenuItem.menu_id).join(Dish, Dish.id == MenuItem.dish_id)
            .join(allocation.Stock, allocation.Stock.id == MenuItem.stock_id)
            .where(Menu.canteen_id == canteen_id, Menu.day >= date_from, Menu.day <= date_to)
            .order_by(Menu.day, Menu.pickup_from, MenuItem.id)):
        got = {s: per_item.get((item.id, s), (0, 0)) for s in COOKED}
        sold = sum(q for q, _r in got.values())
        rows.append(SalesRow(day=day, meal=meal, dish_name=dish_name, portions=total, sold=sold,
                             picked_up=got[Status.PICKED_UP][0], no_show=got[Status.NO_SHOW][0],
                             unsold=max(total - sold, 0), revenue_fen=sum(r for _q, r in got.values())))
    return rows


def export_sales(*, actor: Actor, canteen_id: int, date_from: date, date_to: date) -> bytes:
    """The sales and waste as .xlsx (audited)."""
    rows = sales(actor=actor, canteen_id=canteen_id, date_from=date_from, date_to=date_to)
    audit.record("canteen", canteen_id, "export_sales", actor_id=actor.user_id,
                 data={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()})
    header = ["日期", "餐次", "菜品", "供应份数", "售出", "已取餐", "未取餐", "未售出", "浪费", "销售额（元）"]
    return write_workbook([("销售与浪费", header, (
        [r.day.isoformat(), MEAL_LABELS[r.meal], r.dish_name, r.portions, r.sold, r.picked_up, r.no_show, r.unsold,
         r.waste, r.revenue_fen / 100] for r in rows))])


def day_figures(*, actor: Actor, day: date) -> dict[str, int]:
    """The console's 食堂 section: orders of ``day``'s menus (every canteen) the kitchen cooks for, how many
    were picked up and how many not collected (no-show)."""
    require_staff(actor)
    counts = dict(db.session.execute(
        select(Order.status, func.count()).join(Menu, Menu.id == Order.menu_id)
        .where(Menu.day == day, Order.status.in_(COOKED)).group_by(Order.status)).all())
    return {"orders": sum(counts.values()), "picked_up": counts.get(Status.PICKED_UP, 0),
            "no_show": counts.get(Status.NO_SHOW, 0)}
