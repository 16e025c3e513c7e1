"""The daily reconciliation with WeChat's trade bill: each planted kind of difference is found and shown
to finance; a bill that does not match its SHA1 is refused and alerted."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.core.db import commit_scope, db
from app.payments import jobs
from app.payments.models import Payment, PaymentAlert, Refund
from tests.conftest import drain
from tests.payments.conftest import checkout, delivered, fresh

DAY = date(2026, 10, 14)


@pytest.fixture
def day_of_sales(app, sim, payable, payer, finance):
    """Four payments paid on the test day (10-14), 5.00 yuan refunded of the last."""
    out = []
    for biz_id in range(1, 5):
        payment_id = payable.request(payer.user["id"], biz_id=biz_id, amount_fen=1000 + biz_id)
        checkout(payer, payment_id)
        note = sim.pay_order(fresh(Payment, payment_id).out_trade_no)
        delivered(sim, note["notification_id"])
        out.append(fresh(Payment, payment_id).out_trade_no)
    drain(app)
    assert finance.post(f"/api/v1/payments/{payment_id}/refunds",
                        json={"amount_fen": 500, "reason": "部分退款"}).status_code == 201
    drain(app)
    assert fresh(Refund, 1).status == "processing"
    return out


def _run():
    with commit_scope():
        return jobs.reconcile_due()


def test_each_planted_difference_is_found_and_finance_alerted(app, sim, clock, login, day_of_sales):
    missing_at_wechat, wrong_amount, _fine, _refunded = day_of_sales
    sim.plant_bill_mismatch(DAY, omit=[missing_at_wechat], amounts={wrong_amount: 1},
                            extra=[{"out_trade_no": "PUNKNOWN0000000001", "amount_fen": 999}])
    clock.move_to("2026-10-15T09:59:00+08:00")
    assert _run() is None  # WeChat's bill is not ready before 10:00
    clock.move_to("2026-10-15T10:30:00+08:00")
    assert _run() == "mismatched"
    assert _run() is None  # once a day

    finance = login("finance")  # a day later: a fresh login
    body = finance.get("/api/v1/payments/reconciliation?date=2026-10-14").get_json()
    assert body["status"] == "mismatched" and body["bill_lines"] == 5  # 3 of our payments, the unknown one, the refund
    found = {(m["kind"], m["line_type"], m["reference"], m["ours_fen"], m["wechat_fen"]) for m in body["mismatches"]}
    assert found == {
        ("missing_wechat", "payment", missing_at_wechat, 1001, None),
        ("amount_diff", "payment", wrong_amount, 1002, 1),
        ("missing_ours", "payment", "PUNKNOWN0000000001", None, 999),
    }
    assert [a.kind for a in db.session.scalars(select(PaymentAlert))] == ["reconciliation_mismatch"]


def test_a_matching_day_is_matched(app, clock, login, day_of_sales):
    clock.move_to("2026-10-15T10:30:00+08:00")
    assert _run() == "matched"
    finance = login("finance")  # a day later: a fresh login
    body = finance.get("/api/v1/payments/reconciliation?date=2026-10-14").get_json()
    assert body["mismatches"] == [] and body["wechat_paid_fen"] == 1001 + 1002 + 1003 + 1004
    assert body["wechat_refunded_fen"] == 500


def test_a_bill_that_does_not_match_its_hash_is_refused_and_alerted(app, sim, clock, login, day_of_sales):
    sim.plant_bill_mismatch(DAY, corrupt_hash=True)
    clock.move_to("2026-10-15T10:30:00+08:00")
    assert _run() == "refused"
    finance = login("finance")  # a day later: a fresh login
    body = finance.get("/api/v1/payments/reconciliation?date=2026-10-14").get_json()
    assert body["status"] == "refused" and body["mismatches"] == []
    assert [a["kind"] for a in finance.get("/api/v1/payments/alerts").get_json()] == ["bill_hash_mismatch"]


def test_only_finance_sees_the_reconciliation(app, payer, finance):
    assert payer.get("/api/v1/payments/reconciliation?date=2026-10-14").status_code == 403
    assert finance.get("/api/v1/payments/reconciliation?date=2026-10-14").get_json()["status"] == "pending"
