"""The payments API as people use it: who sees what, my payments, finance's lists, alerts resolved."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from app.core import clock as clock_module
from app.core.audit import history
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Forbidden
from app.payments import service as payments
from app.payments.models import Payment, PaymentAlert
from tests.conftest import drain
from tests.payments.conftest import checkout, delivered, fresh, stored


def test_someone_elses_payment_is_not_found(app, payable, payer, login):
    payment_id = payable.request(payer.user["id"])
    other = login("worker")
    assert other.get(f"/api/v1/payments/{payment_id}").status_code == 404
    assert other.get(f"/api/v1/payments/{payment_id}/refunds").status_code == 404
    resp = other.post(f"/api/v1/payments/{payment_id}/checkout")
    assert resp.status_code == 404 and resp.get_json()["message"] == "支付单不存在"
    assert other.get("/api/v1/payments").get_json() == []


def test_only_finance_refunds_and_sees_every_payment_and_the_alerts(app, payable, payer):
    payment_id = payable.request(payer.user["id"])
    resp = payer.post(f"/api/v1/payments/{payment_id}/refunds", json={"amount_fen": 100, "reason": "不想要了"})
    assert resp.status_code == 403 and resp.get_json()["message"] == "仅财务人员可以执行此操作"
    assert payer.get("/api/v1/payments/admin").status_code == 403
    assert payer.get("/api/v1/payments/alerts").status_code == 403


def test_an_admin_reads_every_payment_and_the_alerts_but_neither_refunds_nor_resolves(app, payable, payer, login):
    payment_id = payable.request(payer.user["id"])
    admin = login("admin")
    listed = admin.get("/api/v1/payments/admin")
    assert listed.status_code == 200 and payment_id in [row["payment"]["id"] for row in listed.get_json()]
    assert admin.get("/api/v1/payments/alerts").status_code == 200
    resp = admin.post(f"/api/v1/payments/{payment_id}/refunds", json={"amount_fen": 100, "reason": "退一点"})
    assert resp.status_code in (403, 404) and resp.get_json()["error_code"] in ("payments.forbidden",
                                                                                "payments.not_found")


def test_a_refund_of_a_payment_not_paid_is_refused_in_chinese(app, payable, payer, finance):
    payment_id = payable.request(payer.user["id"])
    resp = finance.post(f"/api/v1/payments/{payment_id}/refunds", json={"amount_fen": 100, "reason": "测试"})
    assert resp.status_code == 409 and resp.get_json()["message"] == "支付单待支付，不能退款"
    resp = finance.post(f"/api/v1/payments/{payment_id}/refunds", json={"amount_fen": 1.5, "reason": "测试"})
    assert resp.status_code == 422


def test_my_payments_newest_first_and_finance_by_status(app, sim, payable, payer, finance):
    first = payable.request(payer.user["id"], biz_id=1, amount_fen=500)
    second = payable.request(payer.user["id"], biz_id=2, amount_fen=700)
    checkout(payer, second)
    note = sim.pay_order(fresh(Payment, second).out_trade_no)
    delivered(sim, note["notification_id"])
    drain(app)

    resp = payer.get("/api/v1/payments?page_size=1")
    assert [p["payment"]["id"] for p in resp.get_json()] == [second]
    assert json.loads(resp.headers["X-Pagination"])["total"] == 2
    assert resp.get_json()[0]["refunds"] == []
    paid = finance.get("/api/v1/payments/admin?status=paid").get_json()
    created = finance.get("/api/v1/payments/admin?status=created").get_json()
    assert [p["payment"]["id"] for p in paid] == [second] and [p["payment"]["id"] for p in created] == [first]
    assert finance.get("/api/v1/payments/admin?status=nonsense").status_code == 422


def test_finance_is_told_of_an_alert_and_resolves_it_with_a_note(app, sim, payable, payer, finance):
    payment_id = payable.request(payer.user["id"])
    checkout(payer, payment_id)
    out_trade_no = fresh(Payment, payment_id).out_trade_no
    sim.pay_order(out_trade_no, amount_fen=1)
    assert stored(out_trade_no)
    drain(app)

    inbox = finance.get("/api/v1/notifications").get_json()
    assert [n["title"] for n in inbox] == ["支付金额与订单不符"]
    alert = finance.get("/api/v1/payments/alerts").get_json()[0]
    resp = finance.post(f"/api/v1/payments/alerts/{alert['id']}/resolve", json={"note": "已电话联系微信支付核实"})
    assert resp.status_code == 200 and resp.get_json()["resolved"] is True
    assert resp.get_json()["resolved_by"] == finance.user["id"]
    assert finance.get("/api/v1/payments/alerts").get_json() == []
    assert len(finance.get("/api/v1/payments/alerts?resolved=1").get_json()) == 1
    assert [e.action for e in history("payment_alert", alert["id"])] == ["resolve"]


def test_the_notify_endpoint_answers_wechat_without_a_login(app, client):
    resp = client.post("/api/v1/payments/notify", data=b"{}", content_type="application/json")
    assert resp.status_code == 401 and resp.get_json() == {"code": "FAIL", "message": "签名验证失败"}


def test_the_days_paid_figures_and_open_alerts_for_finances_dashboard(app, sim, clock, payable, payer, finance):
    as_finance = Actor(user_id=finance.user["id"], roles=frozenset({"finance"}))
    day = datetime(2026, 10, 14, tzinfo=clock_module.school_zone())
    for biz_id, amount in ((1, 500), (2, 700), (3, 900)):
        payment_id = payable.request(payer.user["id"], biz_id=biz_id, amount_fen=amount)
        if biz_id < 3:  # the third stays unpaid
            checkout(payer, payment_id)
            delivered(sim, sim.pay_order(fresh(Payment, payment_id).out_trade_no)["notification_id"])
    drain(app)
    with app.app_context():
        assert payments.paid_figures(actor=as_finance, since=day, until=day + timedelta(days=1)) == {
            "count": 2, "amount_fen": 1200}
        assert payments.paid_figures(actor=as_finance, since=day + timedelta(days=1),
                                     until=day + timedelta(days=2)) == {"count": 0, "amount_fen": 0}
        assert payments.open_alert_count(actor=as_finance) == 0
        db.session.add(PaymentAlert(kind="refund_failed", source="test:1", details={}))
        db.session.add(PaymentAlert(kind="refund_failed", source="test:2", details={}, resolved=True))
        db.session.flush()
        assert payments.open_alert_count(actor=as_finance) == 1
        db.session.rollback()
        with pytest.raises(Forbidden):
            payments.open_alert_count(actor=Actor(user_id=1, roles=frozenset({"dispatcher"})))
