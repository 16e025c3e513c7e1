"""Payments jobs and timer handlers: apply a stored notification, submit a refund, the timers
(``payments.query``, ``payments.close``, ``payments.refund_retry``) and the periodic sweep. Each takes
ids, reloads under a lock, re-checks and acts at most once; the rules are the service's."""

from __future__ import annotations

from app.core.jobs import job
from app.payments import service


@job
def apply_notification(notification_id: int) -> str | None:
    return service.apply_stored(notification_id)


@job
def submit_refund(refund_id: int) -> str:
    return service.submit_refund(refund_id)


def query_due(payment_id: int) -> bool:
    """Timer ``payments.query``: no notification yet a while after checkout; ask WeChat."""
    return service.query_due(payment_id)


def close_due(payment_id: int) -> bool:
    """Timer ``payments.close``: unpaid at its deadline; close it."""
    return service.close_payment(payment_id)


def refund_retry_due(refund_id: int) -> bool:
    """Timer ``payments.refund_retry``: submit a refund WeChat did not answer again, same number."""
    return service.retry_due(refund_id)


def sweep() -> int:
    """Run by ``run_periodic`` every PAYMENTS_SWEEP_SECONDS: stored notifications never applied."""
    return service.sweep_notifications()


def reconcile_due() -> str | None:
    """Run by ``run_periodic`` every PAYMENTS_RECONCILE_CHECK_SECONDS: after 10:00 school time,
    yesterday's trade bill, once."""
    return service.reconcile_due()
