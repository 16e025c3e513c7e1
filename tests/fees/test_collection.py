"""The collection rate (收缴率) by item, grade and class, and its .xlsx export."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from app.core.audit import AuditEvent
from app.core.auth import Actor
from app.core.errors import Forbidden
from app.fees import service
from tests.fees.conftest import bills, count, pay


def _figures(row: dict) -> tuple:
    return row["billed"], row["paid"], row["waived"], row["due_fen"], row["paid_fen"], row["rate"]


def test_the_collection_rate_by_item_grade_and_class(app, sim, parent, finance, chen_bills):
    # 陈同学 pays 学费 and 教材费; 林同学's 学费 is waived; 黄同学 (高一(2)班) pays nothing
    checkout = parent.post("/api/v1/fees/checkouts", json={"bill_ids": [chen_bills[0], chen_bills[2]]}).get_json()
    pay(app, sim, checkout["payment_id"])
    tuition_item = bills(chen_bills[:1])[0].item_id
    listed = finance.get(f"/api/v1/fees/bills/admin?item_id={tuition_item}").get_json()
    lin = next(b for b in listed if b["student"]["name"] == "林同学")
    finance.post(f"/api/v1/fees/bills/{lin['id']}/waive", json={"reason": "困难补助"})

    body = finance.get("/api/v1/fees/collection?term=2026秋").get_json()
    by_item = {r["item_name"]: _figures(r) for r in body["items"]}
    assert by_item == {
        "学费": (2, 1, 1, 960000, 480000, 0.5),
        "住宿费": (3, 0, 0, 360000, 0, 0.0),
        "教材费": (3, 1, 0, 106950, 35650, 0.3333),
    }
    assert {r["grade_name"] for r in body["grades"]} == {"高一"}
    classes = {(r["item_name"], r["class_name"]): _figures(r) for r in body["classes"]}
    assert classes[("学费", "高一(1)班")] == (1, 1, 1, 480000, 480000, 1.0)
    assert classes[("学费", "高一(2)班")] == (1, 0, 0, 480000, 0, 0.0)
    only = finance.get(f"/api/v1/fees/collection?item_id={tuition_item}").get_json()
    assert [r["item_name"] for r in only["items"]] == ["学费"]
    assert parent.get("/api/v1/fees/collection").status_code == 403


def test_the_collection_export_is_an_xlsx_with_one_sheet_per_level(app, sim, parent, finance, chen_bills):
    checkout = parent.post("/api/v1/fees/checkouts", json={"bill_ids": chen_bills[:1]}).get_json()
    pay(app, sim, checkout["payment_id"])
    resp = finance.get("/api/v1/fees/collection/export")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["按项目", "按年级", "按班级"]
    rows = list(book["按项目"].iter_rows(values_only=True))
    assert rows[0] == ("项目", "学期", "应缴人数", "已缴人数", "减免人数", "退费人数", "应收(元)", "实收(元)", "收缴率")
    assert rows[1] == ("学费", "2026秋", 3, 1, 0, 0, 14400, 4800, "33.3%")
    classes = list(book["按班级"].iter_rows(values_only=True))
    assert ("学费", "2026秋", "高一", "高一(1)班", 2, 1, 0, 0, 9600, 4800, "50.0%") in classes
    assert count(AuditEvent, AuditEvent.entity_type == "fee_collection", AuditEvent.action == "export") == 1
    assert parent.get("/api/v1/fees/collection/export").status_code == 403



def test_the_terms_collection_rate_sums_its_items(app, sim, parent, finance, chen_bills):
    assert [service.current_term(date(2026, m, 1)) for m in (1, 2, 7, 8, 12)] == [
        "2025秋", "2026春", "2026春", "2026秋", "2026秋"]
    checkout = parent.post("/api/v1/fees/checkouts", json={"bill_ids": [chen_bills[0]]}).get_json()
    pay(app, sim, checkout["payment_id"])
    items = finance.get("/api/v1/fees/collection?term=2026秋").get_json()["items"]
    as_finance = Actor(user_id=finance.user["id"], roles=frozenset({"finance"}))
    total = service.term_collection(actor=as_finance, term="2026秋")
    assert total["due_fen"] == sum(f["due_fen"] for f in items) and total["paid_fen"] == 480000
    assert total["billed"] == sum(f["billed"] for f in items) and total["paid"] == 1
    assert total["rate"] == round(480000 / total["due_fen"], 4)
    assert service.term_collection(actor=as_finance, term="2027春")["rate"] is None
    with pytest.raises(Forbidden):
        service.term_collection(actor=Actor(user_id=1, roles=frozenset({"dispatcher"})), term="2026秋")
