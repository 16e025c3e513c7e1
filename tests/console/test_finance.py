"""缴费与支付 in the console: fee items and issuing (the .xlsx dry run lists every bad row and writes
nothing), bills with who has paid and waive / adjust / refund through the fees service (audited), the
collection rate with its chart and export, payments, alerts and reconciliation, the dashboard's finance
section, and who may see what (finance; admins the fees pages and, read-only, the payments pages; a
dispatcher nothing)."""

from __future__ import annotations

import io
import json
import re
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.db import commit_scope, db
from app.fees.models import FeeBill, FeeItem
from app.payments import jobs
from app.payments.models import Payment, PaymentAlert, Refund
from app.users.models import SchoolClass
from tests.conftest import drain
from tests.console.conftest import HTMX, csrf, post
from tests.fees.conftest import pay
from tests.support import xlsx


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def class_id(name: str) -> int:
    return db.session.scalar(select(SchoolClass.id).where(SchoolClass.name == name))


def figure(page: str, name: str) -> str:
    match = re.search(rf'id="figure-{name}" title="([^"]+)">.*?<div class="figure">(.*?)</div>', page, re.S)
    assert match, name
    return re.sub(r"<[^>]+>", "", match.group(2)).strip()


def sheet_errors(page: str) -> list[tuple[str, str, str]]:
    """(row, column, reason) of each bad row a dry run lists."""
    return re.findall(r'<tr class="sheet-error"><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>', page)


def new_item(browser, token, **values) -> int:
    form = {"name": "校服", "category": "校服费", "amount": "260", "term": "2026秋", "due_date": "2026-11-30",
            "description": "", **values}
    resp = browser.post("/console/fees/items", data={**form, "csrf_token": token})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return int(re.search(r"/console/fees/items/(\d+)/issue", resp.headers["Location"]).group(1))


def pay_chen(app, sim, login, bill_ids) -> int:
    resp = login("parent").post("/api/v1/fees/checkouts", json={"bill_ids": bill_ids})
    assert resp.status_code == 200, resp.get_json()
    pay(app, sim, resp.get_json()["payment_id"])
    return resp.get_json()["payment_id"]


FINANCE_PAGES = ["/console/fees/items", "/console/fees/bills", "/console/fees/collection",
                 "/console/fees/collection/export", "/console/payments", "/console/payments/alerts",
                 "/console/payments/reconciliation"]


# --- who -----------------------------------------------------------------------------------------------


def test_finance_sees_the_finance_pages_and_nothing_else(browser, signed_in, chen_bills):
    signed_in("finance")
    home = browser.get("/console/").get_data(as_text=True)
    for nav in ("nav-fee-items", "nav-fee-bills", "nav-fee-collection", "nav-payments"):
        assert f'id="{nav}"' in home
    assert 'id="nav-repairs"' not in home and 'id="nav-dead-letters"' not in home
    assert 'id="section-finance"' in home and 'id="section-repairs"' not in home
    assert "暂无可查看的统计" not in home
    for url in FINANCE_PAGES:
        assert browser.get(url).status_code == 200, url
    assert browser.get("/console/repairs").status_code == 403
    assert browser.get("/console/dead-letters").status_code == 403


def test_a_dispatcher_gets_403_and_no_menu(browser, signed_in, chen_bills):
    signed_in("dispatcher")
    home = browser.get("/console/").get_data(as_text=True)
    assert 'id="nav-fee-items"' not in home and 'id="nav-payments"' not in home
    assert 'id="section-finance"' not in home
    for url in [*FINANCE_PAGES, f"/console/fees/items/{chen_bills[0]}/issue"]:
        resp = browser.get(url)
        assert resp.status_code == 403 and "仅财务人员" in resp.get_data(as_text=True), url
    token = csrf(browser)
    assert post(browser, f"/console/fees/bills/{chen_bills[0]}/waive", {"reason": "x"}, token).status_code == 403
    resp = browser.post("/console/fees/items", data={"name": "x", "category": "其他", "amount": "1", "term": "2026秋",
                                                     "csrf_token": token})
    assert resp.status_code == 403
    assert count(FeeItem, FeeItem.name == "x") == 0
    assert count(FeeBill, FeeBill.status == "waived") == 0


def test_an_admin_reads_the_payments_pages_but_only_finance_acts_on_them(browser, signed_in, chen_bills):
    signed_in("admin")
    alert = PaymentAlert(kind="refund_failed", source="test:1", details={"out_refund_no": "R1"})
    db.session.add(alert)
    db.session.commit()
    home = browser.get("/console/").get_data(as_text=True)
    assert 'id="nav-fee-collection"' in home and 'id="nav-payments"' in home
    assert 'id="figure-finance-term-rate"' in home and figure(home, "finance-open-alerts") == "1"
    for url in FINANCE_PAGES:
        assert browser.get(url).status_code == 200, url
    alerts = browser.get("/console/payments/alerts").get_data(as_text=True)
    row = re.search(rf'<tr id="alert-{alert.id}".*?</tr>', alerts, re.S).group(0)
    assert "待财务处理" in row and "标记已处理" not in row
    resp = post(browser, f"/console/payments/alerts/{alert.id}/resolve", {"note": "x"}, csrf(browser))
    assert resp.status_code == 403 and "仅财务人员" in resp.get_data(as_text=True)
    assert count(PaymentAlert, PaymentAlert.resolved.is_(True)) == 0
    assert count(AuditEvent, AuditEvent.entity_type == "payment_alert") == 0


def test_pages_need_a_sign_in(browser, app):
    for url in FINANCE_PAGES:
        assert browser.get(url).headers["Location"] == "/console/login"
    assert browser.post("/console/fees/bills/1/waive").headers["Location"] == "/console/login"


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(browser, signed_in, chen_bills):
    signed_in("finance")
    item = db.session.scalar(select(FeeBill.item_id).where(FeeBill.id == chen_bills[0]))
    alert = PaymentAlert(kind="refund_failed", source="test:1", details={"out_refund_no": "R1"})
    db.session.add(alert)
    db.session.commit()
    for url, data in [("/console/fees/items", {"name": "x", "category": "其他", "amount": "1", "term": "2026秋"}),
                      (f"/console/fees/items/{item}/issue", {"class_ids": str(class_id("高二(1)班"))}),
                      (f"/console/fees/bills/{chen_bills[0]}/waive", {"reason": "x"}),
                      (f"/console/fees/bills/{chen_bills[0]}/adjust", {"amount": "1", "reason": "x"}),
                      (f"/console/fees/bills/{chen_bills[0]}/refund", {"reason": "x"}),
                      (f"/console/payments/alerts/{alert.id}/resolve", {"note": "x"})]:
        resp = browser.post(url, data=data, headers=HTMX)
        assert resp.status_code == 403 and resp.headers["HX-Retarget"] == "#console-error", url
        assert "安全校验未通过" in resp.get_data(as_text=True)
    assert count(FeeItem, FeeItem.name == "x") == 0
    assert count(FeeBill, FeeBill.item_id == item) == 3  # 高一's demo bills only
    assert count(FeeBill, FeeBill.status != "unpaid") == 0 and count(Refund) == 0
    assert count(PaymentAlert, PaymentAlert.resolved.is_(True)) == 0
    assert count(AuditEvent, AuditEvent.entity_type.in_(["fee_bill", "fee_item", "payment_alert"])) == 0


# --- 缴费项目 and 开单 ---------------------------------------------------------------------------------


def test_create_an_item_then_preview_and_issue_it_to_a_class(browser, signed_in, app):
    finance = signed_in("finance")
    token = csrf(browser)
    item = new_item(browser, token, name="校服费（冬）", amount="356.50")
    assert db.session.get(FeeItem, item).amount_fen == 35650
    page = browser.get(f"/console/fees/items/{item}/issue").get_data(as_text=True)
    assert "开单 · 校服费（冬）（2026秋，356.50 元）" in page and "高一(1)班" in page
    listed = browser.get("/console/fees/items").get_data(as_text=True)
    assert f'id="fee-item-{item}"' in listed and "校服费（冬）" in listed
    assert "还没有缴费项目" in browser.get("/console/fees/items?term=2027春").get_data(as_text=True)

    klass = str(class_id("高一(1)班"))
    preview = post(browser, f"/console/fees/items/{item}/issue", {"class_ids": klass, "dry_run": "1"}, token)
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200 and '<strong class="created">2</strong>' in body and "尚未开单" in body
    assert count(FeeBill, FeeBill.item_id == item) == 0
    done = post(browser, f"/console/fees/items/{item}/issue", {"class_ids": klass, "dry_run": "0",
                                                              "numbers": "S2026003"}, token)
    assert '<strong class="created">3</strong>' in done.get_data(as_text=True)
    assert count(FeeBill, FeeBill.item_id == item) == 3
    again = post(browser, f"/console/fees/items/{item}/issue", {"class_ids": klass, "dry_run": "0"}, token)
    assert "跳过 2 名" in again.get_data(as_text=True) and count(FeeBill, FeeBill.item_id == item) == 3
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "fee_item")
                                .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["create", "issue", "issue"]
    assert {e.actor_id for e in events} == {finance.user["id"]}


def test_a_bad_item_form_and_unknown_numbers_are_refused(browser, signed_in):
    signed_in("finance")
    token = csrf(browser)
    items = count(FeeItem)
    resp = post(browser, "/console/fees/items", {"name": "x", "category": "其他", "amount": "12.345", "term": "2026秋"},
                token)
    assert resp.status_code == 422 and "金额应为大于 0 的数字" in resp.get_data(as_text=True)
    resp = post(browser, "/console/fees/items", {"name": "", "category": "奖金", "amount": "1", "term": "2026秋"},
                token)
    assert resp.status_code == 422 and "类别" in resp.get_data(as_text=True)
    assert count(FeeItem) == items
    item = new_item(browser, token)
    resp = post(browser, f"/console/fees/items/{item}/issue", {"numbers": "S2026001, S9999999\nS8888888"}, token)
    assert resp.status_code == 422 and "学号不存在：S9999999、S8888888" in resp.get_data(as_text=True)
    resp = post(browser, f"/console/fees/items/{item}/issue", {"dry_run": "1"}, token)
    assert resp.status_code == 422 and "请选择年级、班级或填写学号" in resp.get_data(as_text=True)
    assert count(FeeBill, FeeBill.item_id == item) == 0
    assert browser.get("/console/fees/items/99999/issue").status_code == 404


def _sheet(browser, item, rows, token):
    return post(browser, f"/console/fees/items/{item}/issue/xlsx", {"file": (xlsx(rows), "bills.xlsx")}, token,
                content_type="multipart/form-data")


def test_the_xlsx_dry_run_lists_every_bad_row_and_writes_nothing(browser, signed_in):
    signed_in("finance")
    token = csrf(browser)
    item = new_item(browser, token)
    resp = _sheet(browser, item, [
        ["学号", "姓名", "金额(元)"],
        ["S2026001", "陈同学", "260"],
        ["S9999999", "无名", ""],
        ["S2026002", "王同学", ""],
        ["S2026003", "黄同学", "12.345"],
        ["S2025001", "何同学", "-5"],
        ["S2026001", "陈同学", ""],
    ], token)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "表格有 5 处错误，未导入任何数据" in body
    rows = sheet_errors(body)
    assert [(r, c) for r, c, _ in rows] == [("3", "学号"), ("4", "姓名"), ("5", "金额(元)"), ("6", "金额(元)"),
                                            ("7", "学号")]
    assert "名册为“林同学”" in rows[1][2] and "学号重复" in rows[4][2]
    assert "issue-sheet-confirm" not in body
    assert count(FeeBill, FeeBill.item_id == item) == 0
    assert count(AuditEvent, AuditEvent.action == "issue") == 0


def test_a_clean_sheet_is_previewed_then_issued_on_confirmation(browser, signed_in, new_browser, login):
    signed_in("finance")
    token = csrf(browser)
    item = new_item(browser, token)
    resp = _sheet(browser, item, [["学号", "姓名", "金额(元)"], ["S2026001", "陈同学", "200"],
                                  ["S2026002", "林同学", ""]], token)
    body = resp.get_data(as_text=True)
    assert '<strong class="created">2</strong>' in body and "尚未开单" in body
    assert count(FeeBill, FeeBill.item_id == item) == 0
    sheet_token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    # the kept sheet is the uploader's: an admin in another browser cannot confirm it
    admin_browser = new_browser()
    code = re.search(r"/console/login/([A-Za-z0-9_-]{32})/status",
                     admin_browser.get("/console/login").get_data(as_text=True)).group(1)
    assert login("admin").post(f"/api/v1/console/logins/{code}/confirm").status_code == 200
    admin_browser.get(f"/console/login/{code}/status", headers=HTMX)
    theirs = post(admin_browser, f"/console/fees/items/{item}/issue/xlsx/confirm", {"token": sheet_token},
                  csrf(admin_browser))
    assert theirs.status_code == 404 and count(FeeBill, FeeBill.item_id == item) == 0
    done = post(browser, f"/console/fees/items/{item}/issue/xlsx/confirm", {"token": sheet_token}, token)
    assert "已开单：新开 <strong class=\"created\">2</strong>" in done.get_data(as_text=True)
    assert sorted(db.session.scalars(select(FeeBill.amount_fen).where(FeeBill.item_id == item))) == [20000, 26000]
    again = post(browser, f"/console/fees/items/{item}/issue/xlsx/confirm", {"token": sheet_token}, token)
    assert again.status_code == 404 and "上传的表格已过期" in again.get_data(as_text=True)
    unreadable = post(browser, f"/console/fees/items/{item}/issue/xlsx", {"file": (io.BytesIO(b"nope"), "x.xlsx")},
                      token, content_type="multipart/form-data")
    assert unreadable.status_code == 422 and unreadable.headers["HX-Retarget"] == "#console-error"


# --- 账单 ----------------------------------------------------------------------------------------------


def test_bills_of_a_class_show_who_has_paid(app, sim, browser, signed_in, login, chen_bills):
    pay_chen(app, sim, login, chen_bills[:1])
    signed_in("finance")
    item = db.session.scalar(select(FeeBill.item_id).where(FeeBill.id == chen_bills[0]))
    page = browser.get(f"/console/fees/bills?item_id={item}&class_id={class_id('高一(1)班')}").get_data(as_text=True)
    rows = re.findall(r'<tr id="bill-(\d+)" data-status="(\w+)">', page)
    assert len(rows) == 2 and rows[-1] == (str(chen_bills[0]), "paid")  # unpaid first
    paid_row = re.search(rf'<tr id="bill-{chen_bills[0]}".*?</tr>', page, re.S).group(0)
    assert "陈同学" in paid_row and "已缴费" in paid_row and "4,800.00" in paid_row and "退费" in paid_row
    assert "共 2 条" in page
    only_paid = browser.get("/console/fees/bills?status=paid").get_data(as_text=True)
    assert re.findall(r'<tr id="bill-(\d+)"', only_paid) == [str(chen_bills[0])]
    odd = browser.get("/console/fees/bills?status=nope&item_id=abc&page=-1")
    assert odd.status_code == 200


def test_waive_and_adjust_go_through_the_fees_service_audited(app, sim, browser, signed_in, login, chen_bills):
    tuition, boarding, textbooks = chen_bills
    pay_chen(app, sim, login, [textbooks])
    finance = signed_in("finance")
    token = csrf(browser)
    resp = post(browser, f"/console/fees/bills/{boarding}/waive", {"reason": "走读"}, token)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and f'<tr id="bill-{boarding}" data-status="waived">' in body
    assert "已减免" in body and "走读" in body
    resp = post(browser, f"/console/fees/bills/{tuition}/adjust", {"amount": "4000", "reason": "助学金抵扣"}, token)
    assert "4,000.00" in resp.get_data(as_text=True)
    assert db.session.get(FeeBill, tuition).amount_fen == 400000
    audits = db.session.execute(select(AuditEvent.entity_id, AuditEvent.action, AuditEvent.actor_id, AuditEvent.data)
                                .where(AuditEvent.entity_type == "fee_bill", AuditEvent.action.in_(["waive", "adjust"]))
                                .order_by(AuditEvent.id)).all()
    assert [(a.entity_id, a.action, a.actor_id) for a in audits] == [
        (boarding, "waive", finance.user["id"]), (tuition, "adjust", finance.user["id"])]
    assert audits[1].data == {"reason": "助学金抵扣", "amount_fen_before": 480000, "amount_fen_after": 400000}

    late = post(browser, f"/console/fees/bills/{textbooks}/waive", {"reason": "x"}, token)  # paid
    assert late.status_code == 409 and late.headers["HX-Retarget"] == "#console-error"
    assert db.session.get(FeeBill, textbooks).status == "paid"
    assert post(browser, f"/console/fees/bills/{tuition}/waive", {"reason": " "}, token).status_code == 422
    resp = post(browser, f"/console/fees/bills/{tuition}/adjust", {"amount": "0", "reason": "x"}, token)
    assert resp.status_code == 422
    assert post(browser, "/console/fees/bills/99999/waive", {"reason": "x"}, token).status_code == 404


def test_refund_a_paid_bill_through_the_fees_service(app, sim, browser, signed_in, login, chen_bills):
    textbooks = chen_bills[2]
    pay_chen(app, sim, login, [textbooks])
    finance = signed_in("finance")
    token = csrf(browser)
    page = browser.get("/console/fees/bills?status=paid").get_data(as_text=True)
    assert 'hx-confirm="将 356.50 元原路退回给缴费人，确定退费？"' in page
    resp = post(browser, f"/console/fees/bills/{textbooks}/refund", {"reason": "教材未发"}, token)
    assert resp.status_code == 200 and "已缴费（退费中）" in resp.get_data(as_text=True)
    again = post(browser, f"/console/fees/bills/{textbooks}/refund", {"reason": "教材未发"}, token)
    assert again.status_code == 409 and "该账单已在退费中" in again.get_data(as_text=True)
    refund = db.session.scalars(select(Refund)).one()
    assert (refund.out_refund_no, refund.amount_fen) == (f"FEEBILL{textbooks}", 35650)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "fee_bill",
                                                        AuditEvent.action == "refund_request")).one()
    assert event.actor_id == finance.user["id"] and event.data["reason"] == "教材未发"
    unpaid = post(browser, f"/console/fees/bills/{chen_bills[0]}/refund", {"reason": "x"}, token)
    assert unpaid.status_code == 409 and "不能退费" in unpaid.get_data(as_text=True)
    drain(app)
    payments_page = browser.get("/console/payments").get_data(as_text=True)
    assert f"FEEBILL{textbooks}" in payments_page and "356.50 元" in payments_page


# --- 收缴率 --------------------------------------------------------------------------------------------


def test_collection_rate_table_chart_and_export(app, sim, browser, signed_in, login, chen_bills):
    pay_chen(app, sim, login, chen_bills[:1])  # 陈同学's 学费 4800
    finance = signed_in("finance")
    token = csrf(browser)
    item = db.session.scalar(select(FeeBill.item_id).where(FeeBill.id == chen_bills[0]))
    others = db.session.scalars(select(FeeBill.id).where(FeeBill.item_id == item, FeeBill.id != chen_bills[0])
                                .order_by(FeeBill.id)).all()
    post(browser, f"/console/fees/bills/{others[0]}/waive", {"reason": "困难补助"}, token)
    students = len(others) + 1
    page = browser.get(f"/console/fees/collection?item_id={item}").get_data(as_text=True)
    row = re.search(rf'<tr id="collection-item-{item}">(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    due = 480000 * (students - 1)
    assert cells[2:] == [str(students - 1), "1", "1", "0", f"{due / 100:,.2f}", "4,800.00",
                         f"{100 * 480000 / due:.1f}%"]
    chart = json.loads(re.search(r'<script id="collection-data" type="application/json">(.*?)</script>', page,
                                 re.S).group(1))
    by_class = {c["name"]: c["rate"] for c in chart}
    assert by_class["高一(1)班"] == 100.0  # 陈 paid, 林 waived
    assert 'id="chart-collection"' in page and "vendor/echarts/echarts.min.js" in page
    export = f"/console/fees/collection/export?item_id={item}"
    assert f'href="{export}" id="collection-export"' in page
    resp = browser.get(export)
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["按项目", "按年级", "按班级"]
    assert [c.value for c in book["按项目"][2]][:4] == ["学费", "2026秋", students - 1, 1]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "fee_collection")).one()
    assert event.action == "export" and event.actor_id == finance.user["id"]


# --- 支付与对账 ----------------------------------------------------------------------------------------


def test_payments_list_by_status(app, sim, browser, signed_in, login, chen_bills):
    payment = pay_chen(app, sim, login, chen_bills)
    signed_in("finance")
    page = browser.get("/console/payments").get_data(as_text=True)
    row = re.search(rf'<tr id="payment-{payment}">.*?</tr>', page, re.S).group(0)
    assert "6,356.50" in row and "已支付" in row
    assert f'id="payment-{payment}"' in browser.get("/console/payments?status=paid").get_data(as_text=True)
    closed = browser.get("/console/payments?status=closed").get_data(as_text=True)
    assert "没有支付记录" in closed


def test_alerts_are_resolved_with_a_note(browser, signed_in):
    finance = signed_in("finance")
    token = csrf(browser)
    alert = PaymentAlert(kind="refund_failed", source="refund:7", details={"out_refund_no": "FEEBILL7"})
    db.session.add(alert)
    db.session.commit()
    page = browser.get("/console/payments/alerts").get_data(as_text=True)
    assert f'id="alert-{alert.id}"' in page and "退款失败" in page and "FEEBILL7" in page
    assert figure(browser.get("/console/").get_data(as_text=True), "finance-open-alerts") == "1"
    assert post(browser, f"/console/payments/alerts/{alert.id}/resolve", {"note": ""}, token).status_code == 422
    resp = post(browser, f"/console/payments/alerts/{alert.id}/resolve", {"note": "已线下退款"}, token)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'data-resolved="true"' in body and "已线下退款" in body
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "payment_alert")).one()
    assert event.actor_id == finance.user["id"] and event.data == {"note": "已线下退款"}
    assert "没有待处理的告警" in browser.get("/console/payments/alerts").get_data(as_text=True)
    assert f'id="alert-{alert.id}"' in browser.get("/console/payments/alerts?resolved=1").get_data(as_text=True)
    assert figure(browser.get("/console/").get_data(as_text=True), "finance-open-alerts") == "0"
    assert post(browser, "/console/payments/alerts/99999/resolve", {"note": "x"}, token).status_code == 404


def test_reconciliation_of_a_day_shows_its_mismatches(app, sim, browser, signed_in, login, clock, chen_bills):
    payment = pay_chen(app, sim, login, chen_bills)
    out_trade_no = db.session.get(Payment, payment).out_trade_no
    sim.plant_bill_mismatch(date(2026, 10, 14), amounts={out_trade_no: 1})  # the fixed clock's day
    clock.shift(days=1)
    with commit_scope():
        assert jobs.reconcile_due() == "mismatched"
    signed_in("finance")
    page = browser.get("/console/payments/reconciliation").get_data(as_text=True)  # yesterday by default
    assert "有差异" in page and out_trade_no in page and "金额不符" in page and "6,356.50" in page
    pending = browser.get("/console/payments/reconciliation?date=2026-01-01").get_data(as_text=True)
    assert "尚未对账" in pending and "这一天尚未对账" in pending
    assert browser.get("/console/payments/reconciliation?date=2026-13-01").status_code == 422
    assert browser.get("/console/payments/reconciliation?date=9999-01-01").status_code == 422


# --- 首页 ----------------------------------------------------------------------------------------------


def test_the_dashboards_finance_section(app, sim, browser, signed_in, login, chen_bills):
    signed_in("finance")
    page = browser.get("/console/").get_data(as_text=True)
    assert figure(page, "finance-today-paid") == "0.00" and figure(page, "finance-today-count") == "0"
    assert figure(page, "finance-term-rate") == "0.0%"
    pay_chen(app, sim, login, chen_bills)
    page = browser.get("/console/").get_data(as_text=True)
    assert figure(page, "finance-today-paid") == "6,356.50" and figure(page, "finance-today-count") == "1"
    totals = login("finance").get("/api/v1/fees/collection?term=2026秋").get_json()["items"]
    due = sum(f["due_fen"] for f in totals)
    assert figure(page, "finance-term-rate") == f"{round(100 * 635650 / due, 1)}%"
    assert "已缴账单金额 ÷ 应缴账单金额" in re.search(r'id="figure-finance-term-rate" title="([^"]+)"', page).group(1)
    assert "2026秋 收缴率" in page and figure(page, "finance-open-alerts") == "0"
