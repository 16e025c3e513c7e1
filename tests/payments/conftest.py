"""Fixtures of the payments tests: a test-only payable domain (receivers of the payments signals, as a
real domain connects them), payers and finance logged in, and helpers to pay at the simulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core import clock
from app.core.db import commit_scope, db
from app.payments import events, service
from app.payments.models import LedgerEntry, PayNotification
from tests.support import wait_for


class Payable:
    """A tiny domain selling tickets: what it hears from payments, and how it asks for a payment."""

    BIZ = "test_ticket"

    def __init__(self):
        self.succeeded: list[tuple[int, dict]] = []
        self.closed: list[tuple[int, dict]] = []
        self.refunded: list[tuple[int, dict]] = []

    def on_succeeded(self, payment_id, **kw):
        self.succeeded.append((payment_id, kw))

    def on_closed(self, payment_id, **kw):
        self.closed.append((payment_id, kw))

    def on_refunded(self, payment_id, **kw):
        self.refunded.append((payment_id, kw))

    def request(self, payer_id: int, *, biz_id: int = 1, amount_fen: int = 1800, minutes: int = 30) -> int:
        with commit_scope():
            return service.request_payment(biz_type=self.BIZ, biz_id=biz_id, amount_fen=amount_fen,
                                              description="测试票", payer=payer_id,
                                              expires_at=clock.now() + timedelta(minutes=minutes))


@pytest.fixture
def payable(app):
    domain = Payable()
    events.payment_succeeded.connect(domain.on_succeeded)
    events.payment_closed.connect(domain.on_closed)
    events.refund_succeeded.connect(domain.on_refunded)
    yield domain
    events.payment_succeeded.disconnect(domain.on_succeeded)
    events.payment_closed.disconnect(domain.on_closed)
    events.refund_succeeded.disconnect(domain.on_refunded)


@pytest.fixture
def payer(login):
    return login("teacher")



def fresh(model, ident):
    db.session.rollback()
    return db.session.get(model, ident)


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def ledger_sum(payment_id: int) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                                 .where(LedgerEntry.payment_id == payment_id)))


def checkout(session, payment_id: int) -> dict:
    resp = session.post(f"/api/v1/payments/{payment_id}/checkout")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def stored(out_trade_no: str, n: int = 1) -> bool:
    """Wait until ``n`` notifications of the order are stored."""
    return wait_for(lambda: count(PayNotification, PayNotification.out_trade_no == out_trade_no) >= n)


def delivered(sim, notification_id: str, attempts: int = 1) -> dict:
    return sim.wait_pay_deliveries(notification_id, attempts=attempts, timeout=30)

