"""Who may do what in the canteen: staff (``canteen``, ``admin``) run it; an order is its orderer's; a
department's 订餐员 orders for it and, with canteen staff and finance, reads its statements."""

from __future__ import annotations

from sqlalchemy import select

from app.canteen.models import DepartmentOrderer, Order
from app.canteen.service.errors import OrderNotFound
from app.canteen.states import ORDERER, STAFF, PriceGroup
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Forbidden


class NotCanteenStaff(Forbidden):
    error_code, message = "canteen.forbidden", "仅食堂工作人员可以操作"


def require_staff(actor: Actor | None) -> None:
    if actor is not None and not actor.has_any(*STAFF):
        raise NotCanteenStaff()


def is_staff(actor: Actor) -> bool:
    return actor.has_any(*STAFF)


def price_group(actor: Actor) -> str:
    """教职工 pay the staff price, students the student price, everyone else the external one."""
    if actor.staff_id is not None:
        return PriceGroup.STAFF
    if actor.student_id is not None:
        return PriceGroup.STUDENT
    return PriceGroup.EXTERNAL


def order_for(actor: Actor | None, order_id: int, *, lock: bool = False) -> Order:
    """The order, if ``actor`` ordered it (or is staff, or the system); anyone else: 404."""
    stmt = select(Order).where(Order.id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    order = db.session.scalars(stmt).first()
    if order is None or (actor is not None and order.user_id != actor.user_id and not is_staff(actor)):
        raise OrderNotFound()
    return order


def roles_on(actor: Actor | None, order: Order) -> set[str]:
    if actor is None:
        return {"system"}
    roles = set(actor.roles)
    if order.user_id == actor.user_id:
        roles.add(ORDERER)
    return roles


class DepartmentForbidden(Forbidden):
    error_code, message = "canteen.department_forbidden", "仅本部门订餐员、食堂或财务可以查看"


class NotOrderer(Forbidden):
    error_code, message = "canteen.not_orderer", "您不是该部门的订餐员"


def is_orderer(actor: Actor, department_id: int) -> bool:
    """Named 订餐员 of ``department_id`` and still a member of it (moved departments: no longer)."""
    if actor.department_id != department_id:
        return False
    return db.session.scalar(select(DepartmentOrderer.id).where(
        DepartmentOrderer.department_id == department_id, DepartmentOrderer.user_id == actor.user_id)) is not None


def require_statement_reader(actor: Actor, department_id: int) -> None:
    """Canteen staff, finance and the department's own 订餐员 read its statements; anyone else 403."""
    if not (is_staff(actor) or actor.has_any("finance") or is_orderer(actor, department_id)):
        raise DepartmentForbidden()
