"""Who may see a payment: its payer and finance (and the system). Anyone else gets a 404, never its data.
The lists, alerts and reconciliation are read by finance and admins; refunds and resolving alerts are
finance's alone."""

from __future__ import annotations

from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Forbidden
from app.payments.models import Payment
from app.payments.service.errors import PaymentNotFound
from app.payments.service.lifecycle import lock as lock_payment
from app.payments.states import FINANCE, PAYER, READERS, SYSTEM


def roles_on(actor: Actor | None, payment: Payment) -> set[str]:
    if actor is None:
        return {SYSTEM}
    roles = set()
    if payment.payer_id == actor.user_id:
        roles.add(PAYER)
    if actor.has_any(FINANCE):
        roles.add(FINANCE)
    return roles


def payment_for(actor: Actor | None, payment_id: int, *, lock: bool = False) -> Payment:
    """The payment if ``actor`` may see it (``None``: the system), else 404."""
    payment = lock_payment(payment_id) if lock else db.session.get(Payment, payment_id)
    if payment is None or not roles_on(actor, payment):
        raise PaymentNotFound()
    return payment


def require_finance(actor: Actor | None) -> None:
    if actor is not None and not actor.has_any(FINANCE):
        raise Forbidden("payments.forbidden", "仅财务人员可以执行此操作")


def require_reader(actor: Actor | None) -> None:
    """Reading every payment, the alerts and the reconciliation: finance and admins."""
    if actor is not None and not actor.has_any(*READERS):
        raise Forbidden("payments.forbidden", "仅财务人员和管理员可以查看")
