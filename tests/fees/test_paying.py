"""Paying: several bills of one student as one WeChat payment (a fee order), paid through the simulator
and applied by a real worker; two checkouts at once; overlapping sets; the close at the deadline; refunds."""

from __future__ import annotations

from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import db
from app.fees.models import FeeBill, FeeOrder
from app.notifications.models import Notification
from app.payments.models import Payment, Refund
from tests.conftest import drain
from tests.fees.conftest import bills, count, fresh, pay, user_id_of
from tests.payments.conftest import delivered, ledger_sum
from tests.support import race

TOTAL = 480000 + 120000 + 35650


def _checkout(session, bill_ids):
    return session.post("/api/v1/fees/checkouts", json={"bill_ids": bill_ids})


def test_three_bills_are_one_payment_of_their_sum_and_paid_with_receipts_and_told(app, sim, parent, student,
                                                                                    chen_bills):
    resp = _checkout(parent, chen_bills)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["amount_fen"] == TOTAL and body["params"]["paySign"] and body["bill_ids"] == chen_bills
    payment = fresh(Payment, body["payment_id"])
    assert payment.amount_fen == TOTAL and payment.payer_id == parent.user["id"]
    assert payment.description == "陈同学 2026秋 学费等3项"
    assert [b.status for b in bills(chen_bills)] == ["paying"] * 3

    pay(app, sim, body["payment_id"])

    paid = bills(chen_bills)
    assert [b.status for b in paid] == ["paid"] * 3
    assert all(b.receipt_no and b.paid_by == parent.user["id"] for b in paid)
    assert len({b.receipt_no for b in paid}) == 3
    assert fresh(FeeOrder, body["order_id"]).status == "paid"
    told = dict(db.session.execute(select(Notification.user_id, Notification.title)
                                   .where(Notification.event == "fees.paid")).all())
    assert told == {user_id_of("student"): "缴费成功", user_id_of("parent"): "缴费成功"}
    shown = student.get("/api/v1/fees/bills").get_json()
    assert [b["status_label"] for b in shown] == ["已缴费"] * 3


def test_a_repeated_success_signal_changes_nothing(app, sim, parent, chen_bills):
    body = _checkout(parent, chen_bills[:1]).get_json()
    note = sim.pay_order(fresh(Payment, body["payment_id"]).out_trade_no, copies=3)
    delivered(sim, note["notification_id"], attempts=3)
    drain(app)
    assert [b.status for b in bills(chen_bills[:1])] == ["paid"]
    assert count(Notification, Notification.event == "fees.paid") == 2  # the student and the parent, once each


def test_the_same_bills_twice_at_once_make_one_order_and_one_payment(app, parent, chen_bills):
    db.session.remove()
    answers = race([lambda: _checkout(parent, chen_bills)] * 3)
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.get_json()["payment_id"] for a in answers}) == 1
    assert count(FeeOrder) == 1 and count(Payment) == 1


def test_a_bill_in_another_open_payment_is_a_conflict(app, parent, student, chen_bills):
    assert _checkout(parent, chen_bills[:2]).status_code == 200
    second = _checkout(student, chen_bills[1:])
    assert second.status_code == 409 and second.get_json()["error_code"] == "fees.bill_in_other_order"
    assert [b.status for b in bills(chen_bills)] == ["paying", "paying", "unpaid"]
    assert count(FeeOrder) == 1


def test_overlapping_sets_at_once_one_wins(app, parent, student, chen_bills):
    db.session.remove()
    answers = race([lambda: _checkout(parent, chen_bills[:2]), lambda: _checkout(student, chen_bills[1:])])
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert count(FeeOrder) == 1 and count(Payment) == 1


def test_bills_of_someone_elses_child_are_not_found(app, stranger, chen_bills):
    resp = _checkout(stranger, chen_bills)
    assert resp.status_code == 404 and resp.get_json()["error_code"] == "fees.bill_not_found"
    assert count(FeeOrder) == 0


def test_a_payment_closed_at_its_deadline_leaves_the_bills_payable_anew(app, sim, login, parent, chen_bills,
                                                                         clock):
    first = _checkout(parent, chen_bills).get_json()
    clock.shift(minutes=30, seconds=1)
    drain(app)
    assert fresh(Payment, first["payment_id"]).status == "closed"
    assert fresh(FeeOrder, first["order_id"]).status == "closed"
    assert [(b.status, b.order_id) for b in bills(chen_bills)] == [("unpaid", None)] * 3

    again = _checkout(login("parent"), chen_bills)  # a new login: the first access token has expired
    assert again.status_code == 200 and again.get_json()["payment_id"] != first["payment_id"]
    pay(app, sim, again.get_json()["payment_id"])
    assert [b.status for b in bills(chen_bills)] == ["paid"] * 3


def test_finance_refunds_a_paid_bill_and_the_ledger_shows_it(app, sim, parent, finance, chen_bills):
    body = _checkout(parent, chen_bills).get_json()
    pay(app, sim, body["payment_id"])
    textbooks = chen_bills[2]

    assert parent.post(f"/api/v1/fees/bills/{textbooks}/refund", json={"reason": "教材未发"}).status_code == 403
    resp = finance.post(f"/api/v1/fees/bills/{textbooks}/refund", json={"reason": "教材未发"})
    assert resp.status_code == 202 and resp.get_json()["refund_requested"] is True
    again = finance.post(f"/api/v1/fees/bills/{textbooks}/refund", json={"reason": "教材未发"})
    assert again.status_code == 409
    drain(app)
    refund = db.session.scalars(select(Refund)).one()
    assert refund.amount_fen == 35650
    end = sim.end_refund(refund.out_refund_no, copies=2)
    delivered(sim, end["notification_id"], attempts=2)
    drain(app)

    assert fresh(FeeBill, textbooks).status == "refunded"
    assert [b.status for b in bills(chen_bills[:2])] == ["paid", "paid"]
    assert ledger_sum(body["payment_id"]) == TOTAL - 35650
    history = parent.get("/api/v1/payments").get_json()
    assert [r["amount_fen"] for r in history[0]["refunds"]] == [35650]


def test_an_admin_refunds_too_and_the_request_is_audited_with_who_asked(app, sim, login, parent, chen_bills):
    body = _checkout(parent, chen_bills[:1]).get_json()
    pay(app, sim, body["payment_id"])
    admin = login("admin")
    assert admin.post(f"/api/v1/fees/bills/{chen_bills[0]}/refund", json={"reason": "退学"}).status_code == 202
    db.session.rollback()
    asked = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "fee_bill",
                                                       AuditEvent.action == "refund_request")).one()
    assert asked.actor_id == admin.user["id"] and asked.data["amount_fen"] == 480000
    assert count(Refund) == 1


def test_a_refund_wechat_closed_may_be_asked_again_with_a_new_number(app, sim, parent, finance, chen_bills):
    body = _checkout(parent, chen_bills[:1]).get_json()
    pay(app, sim, body["payment_id"])
    finance.post(f"/api/v1/fees/bills/{chen_bills[0]}/refund", json={"reason": "退学"})
    drain(app)
    first = db.session.scalars(select(Refund)).one()
    delivered(sim, sim.end_refund(first.out_refund_no, "CLOSED")["notification_id"])
    drain(app)
    assert fresh(Refund, first.id).status == "closed" and fresh(FeeBill, chen_bills[0]).status == "paid"

    again = finance.post(f"/api/v1/fees/bills/{chen_bills[0]}/refund", json={"reason": "退学"})
    assert again.status_code == 202
    drain(app)
    second = db.session.scalars(select(Refund).where(Refund.id != first.id)).one()
    assert (first.out_refund_no, second.out_refund_no) == (f"FEEBILL{chen_bills[0]}", f"FEEBILL{chen_bills[0]}-2")
    delivered(sim, sim.end_refund(second.out_refund_no)["notification_id"])
    drain(app)
    assert fresh(FeeBill, chen_bills[0]).status == "refunded"


def test_an_unpaid_bill_cannot_be_refunded(app, finance, chen_bills):
    resp = finance.post(f"/api/v1/fees/bills/{chen_bills[0]}/refund", json={"reason": "x"})
    assert resp.status_code == 409 and resp.get_json()["message"] == "账单待缴费，不能退费"
