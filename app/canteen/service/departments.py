"""Department orders (订餐员): canteen staff or an admin name a staff member 订餐员 of their department;
the 订餐员 orders on one menu for N colleagues — portions taken through ``app.core.allocation`` like any
order, within caps scaled by the headcount and before the cut-off — and **no WeChat payment**: the order
is billed to the department at the staff price and is at once ``paid`` with one pickup code for the group.
Cancelling (``ordering.cancel``, before the deadline) gives the portions back and takes the charge off:
the monthly statement counts only billed orders (``BILLED``). The statement (canteen staff, finance, the
department's 订餐员) lists the orders of a month with totals in fen, also as .xlsx."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from app.canteen.models import Canteen, DepartmentOrderer, Dish, Menu, MenuItem, Order
from app.canteen.service import notices
from app.canteen.service.access import (
    NotOrderer,
    is_orderer,
    require_staff,
    require_statement_reader,
    roles_on,
)
from app.canteen.service.errors import OrdersClosed, OverCap, RequestReused
from app.canteen.service.ordering import (
    OrderView,
    fire_paid,
    insert_order,
    lock_person,
    present,
    take_portions,
    when_local,
)
from app.canteen.service.setup import get_menu
from app.canteen.states import BILLED, DEPT_MAX_HEADCOUNT, MAX_LINES, MEAL_LABELS, STATUS_LABELS, PriceGroup, Status
from app.core import audit, clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import NotFound, ValidationFailed
from app.core.sheets import write_workbook
from app.users import service as users


class DepartmentNotFound(NotFound):
    error_code, message = "canteen.department_not_found", "部门不存在"


@dataclass(frozen=True)
class OrdererView:
    department_id: int
    user_id: int
    name: str


@dataclass(frozen=True)
class StatementLine:
    order_id: int
    day: date
    meal: str
    meal_label: str
    canteen_name: str
    orderer_id: int
    orderer_name: str
    headcount: int
    items: str
    status: str
    status_label: str
    total_fen: int


@dataclass(frozen=True)
class Statement:
    department_id: int
    department_name: str
    month: str
    orders: int
    headcount: int
    total_fen: int
    lines: list[StatementLine]


def _department_name(department_id: int) -> str:
    for department in users.list_departments():
        if department.id == department_id:
            return department.name
    raise DepartmentNotFound()


# --- naming 订餐员 -----------------------------------------------------------------------------------------


def orderers(*, actor: Actor, department_id: int) -> list[OrdererView]:
    require_staff(actor)
    _department_name(department_id)
    ids = list(db.session.scalars(select(DepartmentOrderer.user_id).where(
        DepartmentOrderer.department_id == department_id).order_by(DepartmentOrderer.id)))
    names = users.display_names(ids)
    return [OrdererView(department_id, uid, names.get(uid, "")) for uid in ids]


def name_orderer(*, actor: Actor, department_id: int, user_id: int) -> list[OrdererView]:
    """Name ``user_id`` (an active member of the department's staff) 订餐员; naming twice changes nothing."""
    require_staff(actor)
    _department_name(department_id)
    if user_id not in users.staff_user_ids(department_ids=[department_id]):
        raise ValidationFailed(errors={"user_id": ["该用户不是本部门在职教职工"]})
    exists = db.session.scalar(select(DepartmentOrderer.id).where(
        DepartmentOrderer.department_id == department_id, DepartmentOrderer.user_id == user_id))
    if exists is None:
        db.session.add(DepartmentOrderer(department_id=department_id, user_id=user_id, named_by=actor.user_id))
        db.session.flush()
        audit.record("department", department_id, "canteen_orderer_named", actor_id=actor.user_id,
                     data={"user_id": user_id})
    return orderers(actor=actor, department_id=department_id)


def remove_orderer(*, actor: Actor, department_id: int, user_id: int) -> None:
    require_staff(actor)
    _department_name(department_id)
    row = db.session.scalars(select(DepartmentOrderer).where(
        DepartmentOrderer.department_id == department_id, DepartmentOrderer.user_id == user_id)).first()
    if row is not None:
        db.session.delete(row)
        db.session.flush()
        audit.record("department", department_id, "canteen_orderer_removed", actor_id=actor.user_id,
                     data={"user_id": user_id})


# --- ordering for the department ------------------------------------------------------------------------


def _check_lines(menu: Menu, lines: list[dict[str, int]], headcount: int) -> dict[int, MenuItem]:
    """The caps of one person's order, times the headcount: each dish at most ``max_per_person`` ×
    headcount, the order at most ``max_per_order`` × headcount portions."""
    if not lines or len(lines) > MAX_LINES:
        raise ValidationFailed(errors={"lines": [f"请选择 1 到 {MAX_LINES} 个菜品"]})
    ids = [line["menu_item_id"] for line in lines]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(errors={"lines": ["同一菜品请合并为一行"]})
    items = {i.id: i for i in db.session.scalars(select(MenuItem).where(MenuItem.menu_id == menu.id,
                                                                           MenuItem.id.in_(ids)))}
    if len(items) != len(ids):
        raise ValidationFailed(errors={"lines": ["菜品不在该菜单上"]})
    for line in lines:
        item = items[line["menu_item_id"]]
        if line["quantity"] > item.max_per_person * headcount:
            name = db.session.scalar(select(Dish.name).where(Dish.id == item.dish_id))
            raise OverCap(message=f"「{name}」{headcount} 人最多订 {item.max_per_person * headcount} 份")
    if sum(line["quantity"] for line in lines) > menu.max_per_order * headcount:
        raise OverCap(message=f"{headcount} 人每单最多 {menu.max_per_order * headcount} 份")
    return items


def place_department_order(*, actor: Actor, department_id: int, menu_id: int, headcount: int,
                           lines: list[dict[str, int]], request_id: str) -> OrderView:
    """The department's 订餐员 orders for ``headcount`` colleagues: portions held, billed to the
    department at the staff price, paid at once with one pickup code. Same ``request_id`` again: the
    same order. Not the department's 订餐员: 403."""
    _department_name(department_id)
    if not is_orderer(actor, department_id):
        raise NotOrderer()
    menu = get_menu(menu_id)
    lock_person(menu.id, actor.user_id)
    existing = db.session.scalars(select(Order).where(Order.user_id == actor.user_id,
                                                      Order.request_id == request_id)).first()
    if existing is not None:
        if existing.menu_id != menu.id or existing.department_id != department_id:
            raise RequestReused()
        return present([existing])[0]
    now = clock.now()
    if now >= menu.orders_close_at:
        raise OrdersClosed(message=f"{MEAL_LABELS[menu.meal]}已于 {when_local(menu.orders_close_at)} 截止订餐")
    if not 0 < headcount <= DEPT_MAX_HEADCOUNT:  # the schema says so too; a direct caller is held to it
        raise ValidationFailed(errors={"headcount": [f"人数应为 1 到 {DEPT_MAX_HEADCOUNT}"]})
    items = _check_lines(menu, lines, headcount)
    wanted = {line["menu_item_id"]: line["quantity"] for line in lines}
    group = PriceGroup.STAFF
    total = sum(int(items[i].prices[group]) * q for i, q in wanted.items())
    order = Order(user_id=actor.user_id, canteen_id=menu.canteen_id, menu_id=menu.id, request_id=request_id,
                  status=Status.PENDING_PAYMENT, price_group=group, total_fen=total, expires_at=now,
                  department_id=department_id, headcount=headcount)
    insert_order(order, {i: int(items[i].prices[group]) for i in wanted}, wanted)
    take_portions(order.id, items, wanted)
    order = db.session.get(Order, order.id)
    fire_paid(order, "bill", actor_id=actor.user_id, roles=roles_on(actor, order))
    notices.order_paid(order)
    return present([order])[0]


# --- the monthly statement ------------------------------------------------------------------------------


def _month_days(month: str) -> tuple[date, date]:
    year, number = (int(part) for part in month.split("-"))
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def statement(*, actor: Actor, department_id: int, month: str) -> Statement:
    """The department's billed orders of ``month`` (``2026-10``, by the meal's day): one line per order,
    totals in fen. Cancelled orders are not charged and not listed."""
    name = _department_name(department_id)
    require_statement_reader(actor, department_id)
    first, last = _month_days(month)
    rows = db.session.execute(
        select(Order, Menu.day, Menu.meal, Canteen.name).join(Menu, Menu.id == Order.menu_id)
        .join(Canteen, Canteen.id == Order.canteen_id)
        .where(Order.department_id == department_id, Order.status.in_(BILLED), Menu.day.between(first, last))
        .order_by(Menu.day, Order.id)).all()
    views = {v.id: v for v in present([row[0] for row in rows])}
    names = users.display_names({row[0].user_id for row in rows})
    lines = []
    for order, day, meal, canteen_name in rows:
        items = "、".join(f"{line.dish_name}×{line.quantity}" for line in views[order.id].lines)
        lines.append(StatementLine(
            order_id=order.id, day=day, meal=meal, meal_label=MEAL_LABELS[meal], canteen_name=canteen_name,
            orderer_id=order.user_id, orderer_name=names.get(order.user_id, ""), headcount=order.headcount or 0,
            items=items, status=order.status, status_label=STATUS_LABELS[Status(order.status)],
            total_fen=order.total_fen))
    return Statement(department_id=department_id, department_name=name, month=month, orders=len(lines),
                     headcount=sum(line.headcount for line in lines),
                     total_fen=sum(line.total_fen for line in lines), lines=lines)


def export_statement(*, actor: Actor, department_id: int, month: str) -> tuple[bytes, str]:
    """The statement as .xlsx (audited); answers the file and its name."""
    s = statement(actor=actor, department_id=department_id, month=month)
    audit.record("department", department_id, "canteen_statement_export", actor_id=actor.user_id,
                 data={"month": month})
    header = ["订单号", "日期", "餐次", "食堂", "订餐员", "人数", "菜品", "状态", "金额（元）"]
    rows: list[list[Any]] = [
        [line.order_id, line.day.isoformat(), line.meal_label, line.canteen_name, line.orderer_name, line.headcount,
         line.items, line.status_label, line.total_fen / 100] for line in s.lines]
    rows.append(["合计", "", "", "", "", s.headcount, f"{s.orders} 单", "", s.total_fen / 100])
    return (write_workbook([(f"{s.department_name}{month}", header, rows)]),
            f"canteen-statement-{department_id}-{month}.xlsx")
