"""Payments as people see them: mine (with refunds), finance's list by status, the alerts and their
resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.core import audit, clock
from app.core.auth import Actor
from app.core.db import db
from app.core.pagination import PageParams, paginate
from app.payments.models import Payment, PaymentAlert
from app.payments.service.access import require_finance, require_reader
from app.payments.service.errors import AlertNotFound
from app.payments.service.refunds import refunds_of


def _with_refunds(payments: list[Payment]) -> list[dict[str, Any]]:
    refunds = refunds_of([p.id for p in payments])
    return [{"payment": p, "refunds": refunds[p.id]} for p in payments]


def present(payment: Payment) -> dict[str, Any]:
    return _with_refunds([payment])[0]


def my_payments(*, actor: Actor, pagination: PageParams) -> list[dict[str, Any]]:
    stmt = select(Payment).where(Payment.payer_id == actor.user_id).order_by(Payment.id.desc())
    return _with_refunds(paginate(stmt, pagination))


def admin_payments(*, actor: Actor, pagination: PageParams, status: str | None = None) -> list[dict[str, Any]]:
    require_reader(actor)
    stmt = select(Payment).order_by(Payment.id.desc())
    if status:
        stmt = stmt.where(Payment.status == status)
    return _with_refunds(paginate(stmt, pagination))


def alerts(*, actor: Actor, pagination: PageParams, resolved: bool | None = False) -> list[PaymentAlert]:
    require_reader(actor)
    stmt = select(PaymentAlert).order_by(PaymentAlert.id.desc())
    if resolved is not None:
        stmt = stmt.where(PaymentAlert.resolved.is_(resolved))
    return paginate(stmt, pagination)


def paid_figures(*, actor: Actor, since: datetime, until: datetime) -> dict[str, int]:
    """Payments paid in ``[since, until)`` (finance, admins): ``count`` and ``amount_fen`` as paid, whatever was
    refunded later (refunds are their own figures)."""
    require_reader(actor)
    count, amount = db.session.execute(select(func.count(), func.coalesce(func.sum(Payment.amount_fen), 0)).where(
        Payment.paid_at >= since, Payment.paid_at < until, Payment.transaction_id.is_not(None))).one()
    return {"count": int(count), "amount_fen": int(amount)}


def open_alert_count(*, actor: Actor) -> int:
    """How many alerts finance has not resolved yet (finance, admins)."""
    require_reader(actor)
    return int(db.session.scalar(select(func.count()).select_from(PaymentAlert)
                                 .where(PaymentAlert.resolved.is_(False))) or 0)


def resolve_alert(*, actor: Actor, alert_id: int, note: str) -> PaymentAlert:
    """Finance closes an alert with a note of what was done (audited); resolving again changes nothing."""
    require_finance(actor)
    alert = db.session.scalars(select(PaymentAlert).where(PaymentAlert.id == alert_id).with_for_update()).one_or_none()
    if alert is None:
        raise AlertNotFound()
    if alert.resolved:
        return alert
    alert.resolved, alert.resolved_by, alert.resolved_at, alert.note = True, actor.user_id, clock.now(), note
    db.session.flush()
    audit.record("payment_alert", alert.id, "resolve", actor_id=actor.user_id, before={"resolved": False},
                 after={"resolved": True}, data={"note": note})
    return alert
