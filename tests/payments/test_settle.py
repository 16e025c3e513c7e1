"""How a payment ends: two requests for one object, no notification (our query and timer), the result
page's sync, the close at the deadline, a payment after the close."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.db import db
from app.payments import service
from app.payments.models import LedgerEntry, Payment, PaymentAlert, Refund
from tests.conftest import FIXED_NOW, drain
from tests.payments.conftest import checkout, count, delivered, fresh, ledger_sum, stored
from tests.support import race

CLOSE_PATH = "/v3/pay/transactions/out-trade-no/{}/close"


def test_two_requests_for_the_same_object_at_once_make_one_payment(app, payable, payer):
    db.session.remove()
    ids = race([lambda: payable.request(payer.user["id"], biz_id=7)] * 6, app=app)
    assert len(set(ids)) == 1 and count(Payment) == 1


def test_many_payments_on_one_connection_are_each_created(app, payable, payer):
    """psycopg prepares a statement after its fifth run: the open-payment insert must still find its index."""
    ids = [payable.request(payer.user["id"], biz_id=i) for i in range(12)]
    assert len(set(ids)) == 12 and payable.request(payer.user["id"], biz_id=11) == ids[11]


def test_another_amount_for_an_open_payment_is_a_conflict(app, payable, payer):
    payable.request(payer.user["id"], biz_id=8, amount_fen=1800)
    with pytest.raises(service.AmountConflict) as caught:
        payable.request(payer.user["id"], biz_id=8, amount_fen=900)
    assert caught.value.status == 409 and caught.value.message == "该订单已有金额不同的待支付单"


def test_two_checkouts_at_once_prepay_one_order(app, sim, payable, payer):
    payment_id = payable.request(payer.user["id"])
    db.session.remove()
    answers = race([lambda: payer.post(f"/api/v1/payments/{payment_id}/checkout")] * 2)
    assert [a.status_code for a in answers] == [200, 200]
    assert all(a.get_json()["params"]["paySign"] for a in answers)
    order = sim.pay_order_state(fresh(Payment, payment_id).out_trade_no)
    assert len(order["prepay_ids"]) == 2 and order["trade_state"] == "NOTPAY"
    assert count(Payment) == 1


def test_checkout_twice_prepays_the_same_order_with_the_deadline_as_time_expire(app, sim, payable, payer, clock):
    clock.move_to(FIXED_NOW)  # held still: the fixtures' seconds on a slow machine would move the deadline
    payment_id = payable.request(payer.user["id"], minutes=30)
    first, second = checkout(payer, payment_id), checkout(payer, payment_id)
    assert first["params"]["package"] != second["params"]["package"]
    order = sim.pay_order_state(fresh(Payment, payment_id).out_trade_no)
    assert len(order["prepay_ids"]) == 2
    assert order["time_expire"] == "2026-10-14T10:30:00+08:00"


def test_a_notification_that_never_comes_is_replaced_by_the_query_timer(app, sim, payable, payer, clock):
    payment_id = payable.request(payer.user["id"])
    checkout(payer, payment_id)
    sim.pay_order(fresh(Payment, payment_id).out_trade_no, notify="never")
    drain(app)
    assert fresh(Payment, payment_id).status == "created"

    clock.shift(minutes=3, seconds=1)
    drain(app)  # the payments.query timer fires on a real worker

    assert fresh(Payment, payment_id).status == "paid"
    assert ledger_sum(payment_id) == 1800 and len(payable.succeeded) == 1


def test_the_result_page_sync_asks_wechat_and_completes_the_payment(app, sim, payable, payer, clock):
    payment_id = payable.request(payer.user["id"])
    checkout(payer, payment_id)
    assert payer.get(f"/api/v1/payments/{payment_id}?sync=1").get_json()["payment"]["status"] == "created"
    sim.pay_order(fresh(Payment, payment_id).out_trade_no, notify="never")

    # a poll a moment later: within the per-payment limit, WeChat is not asked again yet
    assert payer.get(f"/api/v1/payments/{payment_id}?sync=1").get_json()["payment"]["status"] == "created"
    clock.shift(seconds=11)
    body = payer.get(f"/api/v1/payments/{payment_id}?sync=1").get_json()
    assert body["payment"]["status"] == "paid"
    assert len(payable.succeeded) == 1 and ledger_sum(payment_id) == 1800


def test_an_unpaid_payment_is_closed_at_its_deadline_and_the_domain_told(app, sim, payable, payer, clock):
    payment_id = payable.request(payer.user["id"], minutes=10)
    checkout(payer, payment_id)
    clock.shift(minutes=10, seconds=1)
    drain(app)

    payment = fresh(Payment, payment_id)
    assert payment.status == "closed" and payable.closed == [(payment_id, {"biz_type": "test_ticket", "biz_id": 1})]
    assert sim.pay_order_state(payment.out_trade_no)["trade_state"] == "CLOSED"


def test_a_payment_is_never_closed_sooner_than_five_minutes_after_creation(app, payable, payer, clock):
    payment_id = payable.request(payer.user["id"], minutes=1)
    clock.shift(minutes=2)
    drain(app)
    assert fresh(Payment, payment_id).status == "created"
    clock.shift(minutes=4)
    drain(app)
    assert fresh(Payment, payment_id).status == "closed"


def test_a_payment_wechat_took_before_the_close_is_paid_not_closed(app, sim, payable, payer, clock):
    payment_id = payable.request(payer.user["id"], minutes=10)
    checkout(payer, payment_id)
    sim.pay_order(fresh(Payment, payment_id).out_trade_no, notify="never")
    clock.shift(minutes=10, seconds=1)
    drain(app)
    assert fresh(Payment, payment_id).status == "paid" and payable.closed == []


def test_a_payment_after_the_close_is_refunded_automatically(app, sim, payable, payer, finance, clock):
    payment_id = payable.request(payer.user["id"], minutes=10)
    checkout(payer, payment_id)
    out_trade_no = fresh(Payment, payment_id).out_trade_no
    # WeChat answers our close "no such order" (its order had not landed yet): we close ours, the payer pays
    sim.inject_pay_error(CLOSE_PATH.format(out_trade_no), "ORDER_NOT_EXIST", http_status=404)
    clock.move_to(FIXED_NOW + timedelta(minutes=10, seconds=1))
    drain(app)
    assert fresh(Payment, payment_id).status == "closed"

    clock.move_to(FIXED_NOW + timedelta(minutes=9, seconds=59))  # the payer paid in the last second
    note = sim.pay_order(out_trade_no)
    delivered(sim, note["notification_id"])
    clock.move_to(FIXED_NOW + timedelta(minutes=10, seconds=30))  # WeChat's word comes after our close
    assert stored(out_trade_no)
    drain(app)

    payment = fresh(Payment, payment_id)
    refund = db.session.scalars(select(Refund)).one()
    assert refund.amount_fen == 1800 and refund.reason == "订单已关闭，自动退款" and refund.status == "processing"
    assert payment.status == "refunding" and payable.succeeded == []
    assert [a.kind for a in db.session.scalars(select(PaymentAlert))] == ["late_payment"]

    end = sim.end_refund(refund.out_refund_no)
    delivered(sim, end["notification_id"])
    drain(app)
    assert fresh(Payment, payment_id).status == "refunded"
    assert ledger_sum(payment_id) == 0 and count(LedgerEntry) == 2
