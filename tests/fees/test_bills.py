"""Who sees which bills (the student, their guardians per child, finance; anyone else 404), waive and
adjust (audited, refused once in a payment or paid), and the printable receipt."""

from __future__ import annotations

from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import db
from app.fees.models import FeeBill, FeeOrder
from app.users.models import SchoolClass
from tests.fees.conftest import add_child, bills, new_item, pay, student_id


def test_a_student_sees_their_bills_unpaid_first(app, student, chen_bills, finance):
    finance.post(f"/api/v1/fees/bills/{chen_bills[1]}/waive", json={"reason": "困难补助"})
    shown = student.get("/api/v1/fees/bills").get_json()
    assert [(b["item"]["name"], b["status"]) for b in shown] == [("学费", "unpaid"), ("教材费", "unpaid"),
                                                                 ("住宿费", "waived")]
    assert shown[0]["student"]["name"] == "陈同学" and shown[0]["amount_fen"] == 480000


def test_a_parent_of_two_children_chooses_and_a_strangers_child_is_not_found(app, parent, finance, chen_bills):
    lin = add_child(parent.user["id"], "S2026002")
    chen = student_id("S2026001")
    assert parent.get("/api/v1/fees/bills").status_code == 404  # which child?
    assert {b["student"]["name"] for b in parent.get(f"/api/v1/fees/bills?student_id={chen}").get_json()} == {"陈同学"}
    assert {b["student"]["name"] for b in parent.get(f"/api/v1/fees/bills?student_id={lin}").get_json()} == {"林同学"}
    stranger_child = student_id("S2026003")
    resp = parent.get(f"/api/v1/fees/bills?student_id={stranger_child}")
    assert resp.status_code == 404 and "黄同学" not in resp.get_data(as_text=True)
    other_bill = db.session.scalar(select(FeeBill.id).where(FeeBill.student_id == stranger_child))
    assert parent.get(f"/api/v1/fees/bills/{other_bill}").status_code == 404
    assert finance.get(f"/api/v1/fees/bills/{other_bill}").status_code == 200


def test_someone_unbound_to_the_student_sees_nothing(app, stranger, chen_bills):
    assert stranger.get(f"/api/v1/fees/bills?student_id={student_id('S2026001')}").status_code == 404
    assert stranger.get(f"/api/v1/fees/bills/{chen_bills[0]}").status_code == 404
    assert stranger.get(f"/api/v1/fees/bills/{chen_bills[0]}/receipt").status_code == 404


def test_waive_and_adjust_are_audited_with_their_reasons(app, finance, student, chen_bills):
    tuition, boarding = chen_bills[0], chen_bills[1]
    resp = finance.post(f"/api/v1/fees/bills/{tuition}/adjust", json={"amount_fen": 400000, "reason": "助学金抵扣"})
    assert resp.status_code == 200 and resp.get_json()["amount_fen"] == 400000
    resp = finance.post(f"/api/v1/fees/bills/{boarding}/waive", json={"reason": "走读"})
    assert resp.get_json()["status"] == "waived" and resp.get_json()["note"] == "走读"
    assert student.post(f"/api/v1/fees/bills/{tuition}/waive", json={"reason": "x"}).status_code == 403

    db.session.rollback()
    audits = db.session.execute(select(AuditEvent.entity_id, AuditEvent.action, AuditEvent.data, AuditEvent.actor_id)
                                .where(AuditEvent.entity_type == "fee_bill").order_by(AuditEvent.id)).all()
    assert [(a.entity_id, a.action, a.actor_id) for a in audits] == [
        (tuition, "adjust", finance.user["id"]), (boarding, "waive", finance.user["id"])]
    assert audits[0].data == {"reason": "助学金抵扣", "amount_fen_before": 480000, "amount_fen_after": 400000}
    assert audits[1].data == {"reason": "走读"}
    assert student.post("/api/v1/fees/checkouts", json={"bill_ids": [boarding]}).status_code == 409


def test_a_bill_in_a_payment_or_paid_is_neither_waived_nor_adjusted(app, sim, parent, finance, chen_bills):
    checkout = parent.post("/api/v1/fees/checkouts", json={"bill_ids": chen_bills[:1]}).get_json()
    paying = finance.post(f"/api/v1/fees/bills/{chen_bills[0]}/waive", json={"reason": "x"})
    assert paying.status_code == 409 and paying.get_json()["message"] == "账单支付中，不能减免"
    pay(app, sim, checkout["payment_id"])
    resp = finance.post(f"/api/v1/fees/bills/{chen_bills[0]}/adjust", json={"amount_fen": 1, "reason": "x"})
    assert resp.status_code == 409 and resp.get_json()["message"] == "账单已缴费，不能调整金额"
    resp = finance.post(f"/api/v1/fees/bills/{chen_bills[0]}/waive", json={"reason": "x"})
    assert resp.status_code == 409 and resp.get_json()["message"] == "账单已缴费，不能减免"
    assert bills(chen_bills[:1])[0].amount_fen == 480000


def test_the_receipt_of_a_paid_bill_for_the_payer_side_and_finance(app, sim, parent, student, finance, chen_bills):
    textbooks = chen_bills[2]
    assert parent.get(f"/api/v1/fees/bills/{textbooks}/receipt").status_code == 409  # not paid yet
    checkout = parent.post("/api/v1/fees/checkouts", json={"bill_ids": [textbooks]}).get_json()
    pay(app, sim, checkout["payment_id"])
    bill = bills([textbooks])[0]

    for who in (parent, student, finance):
        resp = who.get(f"/api/v1/fees/bills/{textbooks}/receipt")
        assert resp.status_code == 200 and resp.mimetype == "text/html"
    page = resp.get_data(as_text=True)
    assert "智慧后勤示范学校" in page and "陈同学（S2026001）" in page and "2026秋 教材费" in page
    assert "¥356.50 元" in page and bill.receipt_no in page
    assert "2026-10-14 10:00" in page  # paid at, school time
    transaction_id = db.session.get(FeeOrder, checkout["order_id"]).transaction_id
    assert transaction_id in page
    shown = parent.get(f"/api/v1/fees/bills/{textbooks}").get_json()
    assert shown["receipt_no"] == bill.receipt_no and shown["transaction_id"] == transaction_id


def test_finance_lists_a_classs_bills_with_who_paid(app, sim, parent, finance, chen_bills):
    checkout = parent.post("/api/v1/fees/checkouts", json={"bill_ids": chen_bills[:1]}).get_json()
    pay(app, sim, checkout["payment_id"])
    item_id = bills(chen_bills[:1])[0].item_id
    class_id = db.session.scalar(select(SchoolClass.id).where(SchoolClass.name == "高一(1)班"))
    listed = finance.get(f"/api/v1/fees/bills/admin?item_id={item_id}&class_id={class_id}").get_json()
    assert [(b["student"]["name"], b["status"], b["paid_by_name"]) for b in listed] == [
        ("林同学", "unpaid", None), ("陈同学", "paid", "陈同学家长")]
    assert parent.get("/api/v1/fees/bills/admin").status_code == 403


def test_an_item_issued_by_finance_shows_for_the_student(app, finance, student):
    item = new_item(finance)
    finance.post(f"/api/v1/fees/items/{item['id']}/issue", json={"student_numbers": ["S2026001"]})
    assert "校服" in [b["item"]["name"] for b in student.get("/api/v1/fees/bills").get_json()]
    listed = finance.get("/api/v1/fees/items").get_json()
    assert listed[0]["name"] == "校服" and len(listed) == 4
