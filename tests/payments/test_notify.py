"""WeChat Pay's notifications, end to end: the simulator pays and posts to the app served over HTTP, the
app stores and answers, a real RQ worker applies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock as app_clock
from app.core.db import commit_scope, db
from app.payments import jobs
from app.payments.models import LedgerEntry, Payment, PaymentAlert, PayNotification
from app.wechat import gateway
from tests.conftest import drain
from tests.payments.conftest import checkout, count, delivered, fresh, ledger_sum, stored
from tests.support import race, wait_for


def test_a_paid_order_is_paid_once_booked_once_and_the_domain_told(app, sim, payable, payer):
    payment_id = payable.request(payer.user["id"])
    params = checkout(payer, payment_id)["params"]
    assert params["package"].startswith("prepay_id=") and params["signType"] == "RSA"
    out_trade_no = fresh(Payment, payment_id).out_trade_no

    paid = sim.pay_order(out_trade_no)
    assert delivered(sim, paid["notification_id"])["status"] == "delivered"
    drain(app)

    payment = fresh(Payment, payment_id)
    assert payment.status == "paid" and payment.transaction_id == paid["order"]["transaction_id"]
    assert ledger_sum(payment_id) == 1800
    assert [p for p, _ in payable.succeeded] == [payment_id]
    body = payer.get(f"/api/v1/payments/{payment_id}").get_json()
    assert body["payment"]["status"] == "paid" and body["payment"]["status_label"] == "已支付"


def test_a_notification_storm_makes_one_transition_one_ledger_row_one_signal(app, sim, payable, payer):
    payment_id = payable.request(payer.user["id"])
    checkout(payer, payment_id)
    out_trade_no = fresh(Payment, payment_id).out_trade_no
    note_id = sim.pay_order(out_trade_no, notify="hold")["notification_id"]

    for copies in (20, 20, 10):  # 50 copies at once (the simulator sends at most 20 per call)
        sim.send_pay_notification(note_id, copies=copies, concurrent=True)
    delivered(sim, note_id, attempts=50)
    assert count(PayNotification) == 1
    row_id = db.session.scalar(db.select(PayNotification.id))
    db.session.remove()
    race([lambda: jobs.apply_notification(row_id)] * 8, app=app)  # eight workers at once
    drain(app)  # and the jobs the 50 deliveries enqueued

    assert fresh(Payment, payment_id).status == "paid"
    assert count(LedgerEntry) == 1 and ledger_sum(payment_id) == 1800
    assert len(payable.succeeded) == 1


@pytest.mark.parametrize("tampering", ["forged_signature", "stale_timestamp", "unknown_serial"])
def test_a_notification_that_does_not_verify_is_refused_and_nothing_is_stored_or_called(
        app, client, sim, payable, payer, tampering):
    payment_id = payable.request(payer.user["id"])
    checkout(payer, payment_id)
    out_trade_no = fresh(Payment, payment_id).out_trade_no
    calls_before = sim.calls()

    note_id = sim.pay_order(out_trade_no, tampering=tampering)["notification_id"]
    assert wait_for(lambda: sim.pay_notifications(out_trade_no=out_trade_no)[0]["status"] == "failed", seconds=15)
    note = sim.pay_notifications(out_trade_no=out_trade_no)[0]
    assert note["deliveries"] and all(400 <= d["status_code"] < 500 for d in note["deliveries"])
    # the same delivery replayed: WeChat's FAIL envelope
    resp = client.post("/api/v1/payments/notify", data=note["body"].encode(), headers=note["deliveries"][0]["headers"],
                       content_type="application/json")
    assert 400 <= resp.status_code < 500
    assert resp.get_json()["code"] == "FAIL" and resp.get_json()["message"]
    drain(app)

    assert count(PayNotification) == 0
    assert fresh(Payment, payment_id).status == "created"
    assert sim.calls() == calls_before  # not one call to WeChat because of it
    assert note_id


def test_a_wrong_amount_changes_nothing_and_alerts_finance(app, sim, payable, payer, finance):
    payment_id = payable.request(payer.user["id"])
    checkout(payer, payment_id)
    out_trade_no = fresh(Payment, payment_id).out_trade_no

    sim.pay_order(out_trade_no, amount_fen=1)
    assert stored(out_trade_no)
    drain(app)

    assert fresh(Payment, payment_id).status == "created"
    assert count(LedgerEntry) == 0 and payable.succeeded == []
    alerts = finance.get("/api/v1/payments/alerts").get_json()
    assert [a["kind"] for a in alerts] == ["amount_mismatch"]
    assert alerts[0]["details"]["stated_fen"] == 1 and alerts[0]["payment_id"] == payment_id
    assert [n["title"] for n in finance.get("/api/v1/notifications").get_json()] == ["支付金额与订单不符"]
    assert count(PaymentAlert) == 1


def test_another_app_id_changes_nothing_and_alerts_finance(app, sim, payable, payer, finance):
    payment_id = payable.request(payer.user["id"])
    checkout(payer, payment_id)
    out_trade_no = fresh(Payment, payment_id).out_trade_no

    sim.pay_order(out_trade_no, appid="wx9999999999other")
    assert stored(out_trade_no)  # WeChat Pay's own notification: stored, then judged
    drain(app)

    assert fresh(Payment, payment_id).status == "created"
    assert count(LedgerEntry) == 0 and payable.succeeded == []
    [alert] = finance.get("/api/v1/payments/alerts").get_json()
    assert alert["kind"] == "foreign_merchant" and alert["details"]["appid"] == "wx9999999999other"


def test_another_merchant_id_is_refused_stores_nothing_and_alerts_finance_once(app, sim, payable, payer, finance):
    payment_id = payable.request(payer.user["id"])
    checkout(payer, payment_id)
    out_trade_no = fresh(Payment, payment_id).out_trade_no

    note_id = sim.pay_order(out_trade_no, mchid="1900000999", notify="hold")["notification_id"]
    sim.send_pay_notification(note_id, copies=2)  # WeChat sends it again after our 4xx
    deliveries = delivered(sim, note_id, attempts=2)["deliveries"]
    assert {d["status_code"] for d in deliveries} == {400}
    assert count(PayNotification) == 0 and fresh(Payment, payment_id).status == "created"
    [alert] = finance.get("/api/v1/payments/alerts").get_json()
    assert alert["kind"] == "foreign_merchant" and alert["details"]["stated_mchid"] == "1900000999"
    assert alert["details"]["out_trade_no"] == out_trade_no
    assert count(PaymentAlert) == 1


def test_a_crash_between_storing_and_applying_is_completed_by_the_sweep(app, sim, payable, payer, redis_conn, clock):
    payment_id = payable.request(payer.user["id"])
    checkout(payer, payment_id)
    out_trade_no = fresh(Payment, payment_id).out_trade_no
    sim.pay_order(out_trade_no)
    assert stored(out_trade_no)
    redis_conn.flushdb()  # the apply job is lost with the worker that held it

    clock.shift(minutes=1)
    with commit_scope():
        assert jobs.sweep() == 1

    assert fresh(Payment, payment_id).status == "paid"
    assert ledger_sum(payment_id) == 1800 and len(payable.succeeded) == 1


def test_money_for_an_order_we_never_made_alerts_finance(app, sim, payer, finance):
    contact_openid = "demo-openid-teacher"
    gateway.pay().prepay("PSTRANGER000000001", "不明订单", 4200, contact_openid, app_clock.now() + timedelta(hours=1))
    note = sim.pay_order("PSTRANGER000000001")
    delivered(sim, note["notification_id"])
    drain(app)

    alerts = finance.get("/api/v1/payments/alerts").get_json()
    assert [(a["kind"], a["details"]["out_trade_no"], a["details"]["amount_fen"]) for a in alerts] == [
        ("unknown_order", "PSTRANGER000000001", 4200)]
    assert count(Payment) == 0 and count(LedgerEntry) == 0
