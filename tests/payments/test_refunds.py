"""Refunds: stored before WeChat is asked, retried with the same number, never more than was paid, their
end from WeChat's notifications; the ledger is append-only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.core.db import db
from app.payments.models import LedgerEntry, Payment, PaymentAlert, Refund
from app.wechat import gateway
from tests.conftest import drain
from tests.payments.conftest import checkout, count, delivered, fresh, ledger_sum, stored
from tests.support import race, wait_for

REFUND_PATH = "/v3/refund/domestic/refunds"


@pytest.fixture
def paid(app, sim, payable, payer):
    """A payment of 18.00 yuan, paid and applied."""
    payment_id = payable.request(payer.user["id"])
    checkout(payer, payment_id)
    note = sim.pay_order(fresh(Payment, payment_id).out_trade_no)
    delivered(sim, note["notification_id"])
    drain(app)
    assert fresh(Payment, payment_id).status == "paid"
    return payment_id


def _refund(session, payment_id, amount_fen, **extra):
    return session.post(f"/api/v1/payments/{payment_id}/refunds",
                        json={"amount_fen": amount_fen, "reason": "活动取消", **extra})


def test_a_refund_is_submitted_after_commit_and_booked_once_when_wechat_says_success(app, sim, paid, finance,
                                                                                      payable):
    resp = _refund(finance, paid, 1000)
    assert resp.status_code == 201 and resp.get_json()["status"] == "pending"
    assert fresh(Payment, paid).status == "refunding"
    drain(app)
    refund = db.session.scalars(select(Refund)).one()
    assert refund.status == "processing" and refund.refund_id

    end = sim.end_refund(refund.out_refund_no, copies=3)
    delivered(sim, end["notification_id"], attempts=3)
    drain(app)

    payment = fresh(Payment, paid)
    assert payment.status == "partially_refunded" and payment.refunded_fen == 1000
    assert ledger_sum(paid) == 800 and count(LedgerEntry, LedgerEntry.kind == "refund") == 1
    assert [kw["amount_fen"] for _p, kw in payable.refunded] == [1000]
    listed = finance.get(f"/api/v1/payments/{paid}/refunds").get_json()
    assert [(r["amount_fen"], r["status"]) for r in listed] == [(1000, "succeeded")]


def test_refunds_never_exceed_what_was_paid(app, paid, finance):
    assert _refund(finance, paid, 1000).status_code == 201
    resp = _refund(finance, paid, 900)
    assert resp.status_code == 409
    assert resp.get_json()["message"] == "退款金额超过可退金额（最多可退 8.00 元）"
    assert _refund(finance, paid, 800).status_code == 201
    assert _refund(finance, paid, 1).status_code == 409
    assert count(Refund) == 2


def test_two_refunds_at_once_never_exceed_what_was_paid(app, paid, finance):
    db.session.remove()
    answers = race([lambda: _refund(finance, paid, 1000)] * 2)
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert count(Refund) == 1


def test_the_same_refund_number_answers_the_same_refund(app, paid, finance):
    first = _refund(finance, paid, 500, out_refund_no="FIN-0001").get_json()
    again = _refund(finance, paid, 500, out_refund_no="FIN-0001").get_json()
    assert first["id"] == again["id"] and count(Refund) == 1
    assert _refund(finance, paid, 600, out_refund_no="FIN-0001").status_code == 409


def test_a_refund_that_timed_out_is_resubmitted_with_the_same_number_and_made_once(app, sim, paid, finance, clock):
    sim.inject_fault(REFUND_PATH, delay_seconds=4.5)  # longer than the tests' 3 s WeChat Pay timeout
    _refund(finance, paid, 1800)
    drain(app)
    refund = db.session.scalars(select(Refund)).one()
    assert refund.status == "pending" and refund.last_error == "TIMEOUT"
    # WeChat did make the refund, after our timeout
    assert wait_for(lambda: gateway.pay().query_refund(refund.out_refund_no).status == "PROCESSING")

    clock.shift(minutes=1, seconds=1)
    drain(app)  # the payments.refund_retry timer

    refund = fresh(Refund, refund.id)
    assert refund.status == "processing" and refund.attempts == 2
    assert sim.calls()[REFUND_PATH] == 2
    end = sim.end_refund(refund.out_refund_no)
    delivered(sim, end["notification_id"])
    drain(app)
    assert fresh(Payment, paid).status == "refunded" and ledger_sum(paid) == 0
    assert count(Refund) == 1


def test_a_refund_whose_notification_never_comes_is_settled_by_a_query(app, sim, paid, finance, payable, clock):
    _refund(finance, paid, 1800)
    drain(app)
    refund = db.session.scalars(select(Refund)).one()
    sim.end_refund(refund.out_refund_no, notify="never")
    drain(app)
    assert fresh(Refund, refund.id).status == "processing"

    clock.shift(minutes=10, seconds=1)
    drain(app)  # the payments.refund_retry timer asks WeChat

    assert fresh(Refund, refund.id).status == "succeeded"
    assert fresh(Payment, paid).status == "refunded" and ledger_sum(paid) == 0 and len(payable.refunded) == 1


def test_an_abnormal_refund_alerts_finance_and_gives_nothing_back(app, sim, paid, finance):
    _refund(finance, paid, 1800)
    drain(app)
    refund = db.session.scalars(select(Refund)).one()
    end = sim.end_refund(refund.out_refund_no, "ABNORMAL")
    delivered(sim, end["notification_id"])
    drain(app)

    assert fresh(Refund, refund.id).status == "abnormal"
    payment = fresh(Payment, paid)
    assert payment.status == "paid" and payment.refunded_fen == 0 and ledger_sum(paid) == 1800
    assert [a["kind"] for a in finance.get("/api/v1/payments/alerts").get_json()] == ["refund_abnormal"]


def test_a_refund_notification_before_its_payments_success_waits_and_is_applied_after(app, sim, payable, payer):
    payment_id = payable.request(payer.user["id"])
    checkout(payer, payment_id)
    out_trade_no = fresh(Payment, payment_id).out_trade_no
    held = sim.pay_order(out_trade_no, notify="hold")["notification_id"]
    # finance refunds in WeChat's merchant console; its notification overtakes the payment's
    gateway.pay().refund(out_trade_no, "CONSOLE-1", 300, 1800, "线下退款")
    end = sim.end_refund("CONSOLE-1")
    delivered(sim, end["notification_id"])
    drain(app)
    assert fresh(Payment, payment_id).status == "created" and count(LedgerEntry) == 0

    sim.send_pay_notification(held)
    assert stored(out_trade_no, 2)
    drain(app)

    payment = fresh(Payment, payment_id)
    assert payment.status == "partially_refunded" and payment.refunded_fen == 300
    assert ledger_sum(payment_id) == 1500 and len(payable.succeeded) == 1


def test_the_ledger_refuses_updates_and_deletes(app, paid):
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.update(LedgerEntry).values(amount_fen=1))
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.delete(LedgerEntry))
    db.session.rollback()
    assert ledger_sum(paid) == 1800
    assert count(PaymentAlert) == 0
