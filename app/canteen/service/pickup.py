"""Handing meals out: staff verify an order by its pickup code or its QR token (once: a second scan says
when it was collected); at the end of a menu's pickup window the paid orders nobody collected become
``no_show`` (refunded only when ``CANTEEN_NO_SHOW_REFUND`` is on)."""

from __future__ import annotations

from sqlalchemy import select

from app.canteen.models import Menu, Order
from app.canteen.service.access import require_staff
from app.canteen.service.errors import AlreadyPickedUp, CodeNotFound
from app.canteen.service.ordering import OrderView, no_show_refund, order_machine, present
from app.canteen.states import PICKUP_END_TIMER, Status
from app.core import clock, timers
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import ValidationFailed
from app.core.statemachine import SYSTEM
from app.payments import service as payments


def _find(code: str | None, token: str | None, canteen_id: int | None) -> Order:
    if token:
        order = db.session.scalars(select(Order).where(Order.qr_token == token).with_for_update()).first()
    elif code:
        stmt = select(Order).where(Order.pickup_code == code, Order.status == Status.PAID)
        if canteen_id:
            stmt = stmt.where(Order.canteen_id == canteen_id)
        found = db.session.scalars(stmt.with_for_update()).all()
        if len(found) > 1:
            raise ValidationFailed(errors={"canteen_id": ["多个食堂有此取餐码，请指定食堂"]})
        order = found[0] if found else None
        if order is None:  # collected already? the latest order of this code today says when
            today = clock.local_now().date()
            stmt = (select(Order).join(Menu, Menu.id == Order.menu_id)
                    .where(Order.pickup_code == code, Order.status == Status.PICKED_UP, Menu.day == today))
            if canteen_id:
                stmt = stmt.where(Order.canteen_id == canteen_id)
            order = db.session.scalars(stmt.order_by(Order.picked_up_at.desc()).limit(1)).first()
    else:
        raise ValidationFailed(errors={"code": ["请输入取餐码或扫描订单二维码"]})
    if order is None:
        raise CodeNotFound()
    return order


def verify(*, actor: Actor, code: str | None = None, token: str | None = None,
           canteen_id: int | None = None) -> OrderView:
    """Staff hand an order out: ``picked_up`` once; scanning it again answers 409 "已于 11:42 取餐"."""
    require_staff(actor)
    order = _find(code, token, canteen_id)
    db.session.refresh(order, with_for_update=True)
    if order.status == Status.PICKED_UP:
        raise AlreadyPickedUp(message=f"已于 {clock.to_local(order.picked_up_at).strftime('%H:%M')} 取餐")
    if order.status != Status.PAID:
        raise order_machine.invalid(order.status, "pick_up")
    order_machine.fire(order, "pick_up", actor_id=actor.user_id, roles=actor.roles,
                       values={"picked_up_at": clock.now(), "picked_up_by": actor.user_id})
    return present([order])[0]


def pickup_end_due(menu_id: int) -> int:
    """Timer ``canteen.pickup_end``: the paid orders of the menu nobody collected become ``no_show``
    (refunded when ``CANTEEN_NO_SHOW_REFUND`` is on). Returns how many."""
    menu = db.session.get(Menu, menu_id)
    if menu is None:
        return 0
    if clock.now() < menu.pickup_until - timers.TOLERANCE:  # the window was moved later
        timers.schedule(PICKUP_END_TIMER, menu.id, menu.pickup_until)
        return 0
    orders = db.session.scalars(select(Order).where(Order.menu_id == menu_id, Order.status == Status.PAID)
                                .order_by(Order.id).with_for_update()).all()
    refund = no_show_refund()
    for order in orders:
        order_machine.fire(order, "no_show", actor_id=None, roles={SYSTEM})
        if refund and order.payment_id is not None:
            payments.refund(actor=None, payment_id=order.payment_id, amount_fen=order.total_fen,
                            reason="未取餐退款")
    return len(orders)
