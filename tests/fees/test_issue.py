"""Finance issues a fee item to a class, to named students or from an .xlsx: all rows or none, every bad
row listed, and issuing twice bills nobody twice."""

from __future__ import annotations

from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import db
from app.fees.models import FeeBill
from app.users.models import SchoolClass
from tests.fees.conftest import count, new_item, student_id
from tests.support import xlsx


def _class_id(name: str) -> int:
    return db.session.scalar(select(SchoolClass.id).where(SchoolClass.name == name))


def _upload(finance, item_id, rows, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return finance.post(f"/api/v1/fees/items/{item_id}/issue/xlsx?{qs}",
                        data={"file": (xlsx(rows), "bills.xlsx")}, content_type="multipart/form-data")


def test_an_item_issued_to_a_class_bills_each_of_its_students_once(app, finance):
    item = new_item(finance)
    first = finance.post(f"/api/v1/fees/items/{item['id']}/issue", json={"class_ids": [_class_id("高一(1)班")]})
    assert first.status_code == 200 and first.get_json() == {"created": 2, "skipped": 0, "dry_run": False}
    again = finance.post(f"/api/v1/fees/items/{item['id']}/issue",
                         json={"class_ids": [_class_id("高一(1)班")], "student_numbers": ["S2026003"]})
    assert again.get_json() == {"created": 1, "skipped": 2, "dry_run": False}
    assert count(FeeBill, FeeBill.item_id == item["id"]) == 3
    assert count(AuditEvent, AuditEvent.entity_type == "fee_item", AuditEvent.action == "issue") == 2


def test_an_item_issued_to_a_grade_bills_its_active_students(app, finance):
    item = new_item(finance)
    grade_id = db.session.scalar(select(SchoolClass.grade_id).where(SchoolClass.name == "高二(1)班"))
    dry = finance.post(f"/api/v1/fees/items/{item['id']}/issue", json={"grade_ids": [grade_id], "dry_run": True})
    assert dry.get_json() == {"created": 1, "skipped": 0, "dry_run": True}
    assert count(FeeBill, FeeBill.item_id == item["id"]) == 0
    resp = finance.post(f"/api/v1/fees/items/{item['id']}/issue", json={"grade_ids": [grade_id]})
    assert resp.get_json()["created"] == 1
    assert db.session.scalar(select(FeeBill.student_id).where(FeeBill.item_id == item["id"])) == student_id("S2025001")


def test_an_unknown_student_number_issues_nothing(app, finance):
    item = new_item(finance)
    resp = finance.post(f"/api/v1/fees/items/{item['id']}/issue",
                        json={"student_numbers": ["S2026001", "S9999999", "S8888888"]})
    assert resp.status_code == 422 and resp.get_json()["error_code"] == "fees.unknown_students"
    assert resp.get_json()["message"] == "学号不存在：S9999999、S8888888"
    assert count(FeeBill, FeeBill.item_id == item["id"]) == 0


def test_only_finance_issues(app, finance, stranger):
    item = new_item(finance)
    assert stranger.post(f"/api/v1/fees/items/{item['id']}/issue", json={"grade_ids": [1]}).status_code == 403
    assert stranger.post("/api/v1/fees/items", json={"name": "x", "category": "其他", "amount_fen": 1,
                                                     "term": "2026秋"}).status_code == 403


def test_a_sheet_with_bad_rows_issues_nothing_and_lists_every_one(app, finance):
    item = new_item(finance)
    resp = _upload(finance, item["id"], [
        ["学号", "姓名", "金额(元)"],
        ["S2026001", "陈同学", "260"],
        ["S9999999", "无名", ""],
        ["S2026002", "王同学", ""],
        ["S2026003", "黄同学", "12.345"],
        ["S2025001", "何同学", "-5"],
        ["S2026001", "陈同学", ""],
    ])
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error_code"] == "fees.import_invalid"
    assert [(e["row"], e["column"]) for e in body["errors"]["rows"]] == [
        (7, "学号"), (3, "学号"), (4, "姓名"), (5, "金额(元)"), (6, "金额(元)")]
    assert "名册为“林同学”" in body["errors"]["rows"][2]["reason"]
    assert count(FeeBill, FeeBill.item_id == item["id"]) == 0


def test_a_sheet_bills_with_its_amounts_a_dry_run_writes_nothing_and_again_adds_nothing(app, finance):
    item = new_item(finance)
    rows = [["学号", "姓名", "金额(元)"], ["S2026001", "陈同学", "130.5"], [2026002, "林同学", ""]]
    rows[2][0] = "S2026002"
    dry = _upload(finance, item["id"], rows, dry_run="true")
    assert dry.get_json() == {"created": 2, "skipped": 0, "dry_run": True}
    assert count(FeeBill, FeeBill.item_id == item["id"]) == 0

    assert _upload(finance, item["id"], rows).get_json() == {"created": 2, "skipped": 0, "dry_run": False}
    assert _upload(finance, item["id"], rows).get_json() == {"created": 0, "skipped": 2, "dry_run": False}
    db.session.rollback()
    amounts = dict(db.session.execute(select(FeeBill.student_id, FeeBill.amount_fen)
                                      .where(FeeBill.item_id == item["id"])).all())
    assert amounts == {student_id("S2026001"): 13050, student_id("S2026002"): 26000}


def test_a_sheet_without_the_amount_column_bills_the_items_amount(app, finance):
    item = new_item(finance, amount_fen=9900)
    resp = _upload(finance, item["id"], [["学号", "姓名"], ["S2025001", "何同学"]])
    assert resp.get_json()["created"] == 1
    assert db.session.scalar(select(FeeBill.amount_fen).where(FeeBill.item_id == item["id"])) == 9900
