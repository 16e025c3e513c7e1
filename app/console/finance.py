"""The console's finance pages (缴费与支付): fee items and issuing them, bills with who has paid and
waive / adjust / refund, the collection rate with its chart and export, payments, refunds, alerts and the
daily reconciliation. Every action is the fees or payments service function the API calls, with the
signed-in person as actor: a dispatcher gets the services' 403, finance and admins what the services let
them see (admins read payments, alerts and the reconciliation; refunds and resolving alerts are
finance's). Registered on the console's Blueprint (``views.bp``), so the
sign-in, CSRF and error rules of ``views`` apply unchanged."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

import marshmallow as ma
from flask import g, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from app.console import service
from app.console.views import _Page, _page_number, bp
from app.core import clock
from app.core.errors import ValidationFailed
from app.fees import service as fees
from app.fees.schemas import FeeItemSchema
from app.fees.states import BILL_LABELS, BillStatus, Category
from app.payments import service as payments
from app.payments.states import LABELS as PAYMENT_LABELS
from app.payments.states import REFUND_LABELS, Status
from app.users import service as users

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALERT_LABELS = {
    "amount_mismatch": "金额不符", "foreign_merchant": "非本商户的通知", "late_payment": "关单后支付（已自动退款）",
    "refund_abnormal": "退款异常", "refund_failed": "退款失败", "unknown_order": "未知订单",
    "bill_hash_mismatch": "对账单校验失败", "reconciliation_mismatch": "对账不符",
}
MISMATCH_LABELS = {"missing_ours": "微信有、系统无", "missing_wechat": "系统有、微信无", "amount_diff": "金额不符"}
RECON_LABELS = {"pending": "尚未对账", "running": "对账中", "matched": "一致", "mismatched": "有差异",
                "refused": "对账单校验失败（未比对）"}
_NUMBER_SPLIT = re.compile(r"[\s,，、;；]+")


def _yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen / 100:,.2f}"


@bp.app_template_filter("yuan")
def _yuan_filter(fen: int | None) -> str:
    return _yuan(fen)


def _int_arg(name: str, source=None) -> int | None:
    text = (source if source is not None else request.args).get(name, "")
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) <= 18 else None


def _int_list(name: str) -> list[int]:
    return [int(v) for v in request.form.getlist(name) if v.isascii() and v.isdigit() and 0 < len(v) <= 18]


def _reason(field: str = "reason", limit: int = 200) -> str:
    text = request.form.get(field, "").strip()
    if not text:
        raise ValidationFailed(message="请填写原因", errors={field: ["请填写原因"]})
    if len(text) > limit:
        raise ValidationFailed(message=f"原因最多 {limit} 个字", errors={field: [f"最多 {limit} 个字"]})
    return text


def _fen_of(field: str) -> int:
    fen = fees.parse_yuan(request.form.get(field, ""))
    if fen is None:
        raise ValidationFailed(message="金额应为大于 0 的数字，最多两位小数，不超过 100000 元",
                               errors={field: ["金额格式不正确"]})
    return fen


def _load(schema: ma.Schema, data: Mapping[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """A form's fields through the API's schema: what it refuses is a 422 naming each field in Chinese
    (``labels``). ``data`` is read as a form is (an integer is its digits), not as a JSON object."""
    try:
        return schema.load(MappingProxyType(dict(data)))
    except ma.ValidationError as exc:
        text = "；".join(f"{labels.get(k, k)}：{'、'.join(map(str, v)) if isinstance(v, list) else v}"
                        for k, v in exc.messages.items())
        raise ValidationFailed(message=f"请检查填写的内容（{text}）", errors=exc.messages) from exc


def _grades_and_classes():
    classes = users.list_classes()
    grades = list({c.grade_id: c.grade for c in classes}.values())
    return grades, classes


def _is_htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def _to(target: str) -> Response:
    if _is_htmx():
        response = Response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


# --- 缴费项目: items, creating one, issuing ---------------------------------------------------------


@bp.get("/fees/items")
def fee_items():
    """缴费项目: the items, newest first, and the form to create one."""
    params = _Page(_page_number())
    term = (request.args.get("term") or "").strip()[:20] or None
    rows = fees.list_items(actor=g.console_actor, pagination=params, term=term)
    return render_template("console/fee_items.html", rows=rows, params=params, categories=[c.value for c in Category],
                           term=fees.current_term(clock.local_now().date()), list_term=term)


@bp.post("/fees/items")
def create_fee_item():
    """新建收费项目 (the form): the API's schema checks it, amounts are typed in 元."""
    form = request.form
    data = {"name": form.get("name", "").strip(), "category": form.get("category", ""), "amount_fen": _fen_of("amount"),
            "term": form.get("term", "").strip(), "due_date": form.get("due_date") or None,
            "description": form.get("description", "")}
    data = _load(FeeItemSchema(), data, {"name": "名称", "category": "类别", "term": "学期", "due_date": "截止日期",
                                         "description": "说明", "amount_fen": "金额"})
    fee_item = fees.create_item(actor=g.console_actor, **data)
    return _to(url_for("console.fee_issue", item_id=fee_item.id))


@bp.get("/fees/items/<int:item_id>/issue")
def fee_issue(item_id: int):
    """开单: to grades, classes and 学号 (a preview first), or from an .xlsx (a dry run listing every bad row)."""
    fee_item = fees.get_item(actor=g.console_actor, item_id=item_id)
    grades, classes = _grades_and_classes()
    return render_template("console/fee_issue.html", item=fee_item, grades=grades, classes=classes)


@bp.post("/fees/items/<int:item_id>/issue")
def issue_fee_item(item_id: int):
    """预览 (``dry_run=1``) or 确认开单: ``fees.issue`` with the grades, classes and 学号 chosen."""
    dry_run = request.form.get("dry_run") == "1"
    numbers = [n for n in _NUMBER_SPLIT.split(request.form.get("numbers", "")) if n]
    grade_ids, class_ids = _int_list("grade_ids"), _int_list("class_ids")
    if not (grade_ids or class_ids or numbers):
        raise ValidationFailed(message="请选择年级、班级或填写学号", errors={"_schema": ["请选择年级、班级或学生"]})
    result = fees.issue(actor=g.console_actor, item_id=item_id, grade_ids=grade_ids, class_ids=class_ids,
                        student_numbers=numbers, dry_run=dry_run)
    return render_template("console/_issue_result.html", result=result, item_id=item_id, source="roster")


def _upload(message: str = "请选择要上传的 .xlsx 文件") -> bytes:
    """The bytes of the form's ``file``; none chosen: 422 with ``message``."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(message=message, errors={"file": ["请选择文件"]})
    return upload.read()


def _dry_run(check: Callable[[bytes], Any]) -> tuple[bytes, Any, str | None]:
    """The uploaded sheet, ``check(sheet)``'s result (a service's dry run) and None; or, when the service
    found bad rows, the fragment listing every one of them (row, column, reason) in place of the result.
    Any other refusal (an unreadable file, a missing column, a 403) is raised as it is."""
    data = _upload()
    try:
        return data, check(data), None
    except ValidationFailed as exc:
        rows = (exc.errors or {}).get("rows")
        if not rows:
            raise
        return data, None, render_template("console/_issue_sheet_errors.html", message=exc.message,
                                           rows=sorted(rows, key=lambda r: (r["row"], r["column"] or "")))


@bp.post("/fees/items/<int:item_id>/issue/xlsx")
def issue_fee_sheet(item_id: int):
    """The .xlsx dry run: every bad row listed and nothing written; a clean sheet is kept (15 minutes)
    for 确认开单."""
    actor = g.console_actor
    data, result, errors = _dry_run(lambda sheet: fees.issue_sheet(actor=actor, item_id=item_id, data=sheet,
                                                                   dry_run=True))
    if errors is not None:
        return errors
    token = service.keep_sheet(actor=actor, purpose=f"fees.issue:{item_id}", data=data)
    return render_template("console/_issue_result.html", result=result, item_id=item_id, source="xlsx", token=token)


@bp.post("/fees/items/<int:item_id>/issue/xlsx/confirm")
def confirm_fee_sheet(item_id: int):
    """确认开单 of a sheet that passed its dry run: the same checks again, then every row or none."""
    actor = g.console_actor
    purpose, token = f"fees.issue:{item_id}", request.form.get("token", "")
    data = service.sheet(actor=actor, purpose=purpose, token=token)
    result = fees.issue_sheet(actor=actor, item_id=item_id, data=data, dry_run=False)
    service.drop_sheet(actor=actor, purpose=purpose, token=token)
    return render_template("console/_issue_result.html", result=result, item_id=item_id, source="xlsx")


# --- 账单: who has paid, waive / adjust / refund -------------------------------------------------------


def _bill_filters() -> dict:
    status = request.args.get("status") or None
    return {"item_id": _int_arg("item_id"), "grade_id": _int_arg("grade_id"), "class_id": _int_arg("class_id"),
            "status": status if status in {s.value for s in BillStatus} else None}


@bp.get("/fees/bills")
def fee_bills():
    """账单: of an item, a grade, a class, a status, with who has paid (unpaid first)."""
    actor = g.console_actor
    filters = _bill_filters()
    params = _Page(_page_number())
    rows = fees.admin_bills(actor=actor, pagination=params, **filters)
    items = fees.list_items(actor=actor, pagination=_Page(1, page_size=200))
    grades, classes = _grades_and_classes()
    query = {k: v for k, v in filters.items() if v is not None}
    return render_template("console/fee_bills.html", rows=rows, params=params, filters=filters, query=query,
                           items=items, grades=grades, classes=classes, statuses=BILL_LABELS.statuses)


def _bill_row(bill: dict) -> str:
    return render_template("console/_bill_row.html", b=bill, statuses=BILL_LABELS.statuses)


@bp.post("/fees/bills/<int:bill_id>/waive")
def waive_bill(bill_id: int):
    """减免 with a reason (``fees.waive``: audited; 409 once the bill is in a payment or paid)."""
    return _bill_row(fees.waive(actor=g.console_actor, bill_id=bill_id, reason=_reason()))


@bp.post("/fees/bills/<int:bill_id>/adjust")
def adjust_bill(bill_id: int):
    """调整金额 (元) with a reason (``fees.adjust``: audited with before and after)."""
    amount = _fen_of("amount")
    return _bill_row(fees.adjust(actor=g.console_actor, bill_id=bill_id, amount_fen=amount, reason=_reason()))


@bp.post("/fees/bills/<int:bill_id>/refund")
def refund_fee_bill(bill_id: int):
    """退费 of a paid bill (``fees.refund_bill``): the bill shows 退费中 until WeChat reports the refund."""
    return _bill_row(fees.refund_bill(actor=g.console_actor, bill_id=bill_id, reason=_reason(limit=80)))


# --- 收缴率 -------------------------------------------------------------------------------------------


def _collection_query() -> dict:
    return {"item_id": _int_arg("item_id"), "term": (request.args.get("term") or "").strip()[:20] or None}


@bp.get("/fees/collection")
def fee_collection():
    """收缴率 by item, grade and class, a bar chart of the classes (or items), and the .xlsx export."""
    actor = g.console_actor
    query = _collection_query()
    figures = fees.collection(actor=actor, **query)
    items = fees.list_items(actor=actor, pagination=_Page(1, page_size=200))
    level = "classes" if query["item_id"] else "items"
    chart = [{"name": (f"{f['class_name']}" if level == "classes" else f"{f['item_name']}（{f['term']}）"),
              "rate": None if f["rate"] is None else round(f["rate"] * 100, 1)} for f in figures[level]]
    args = {k: v for k, v in query.items() if v is not None}
    return render_template("console/fee_collection.html", figures=figures, items=items, query=query, chart=chart,
                           level=level, export_url=url_for("console.fee_collection_export", **args))


@bp.get("/fees/collection/export")
def fee_collection_export():
    """The collection rate as .xlsx (``fees.export_collection``, audited)."""
    data = fees.export_collection(actor=g.console_actor, **_collection_query())
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="fees-collection.xlsx")


# --- 支付与对账 ---------------------------------------------------------------------------------------


@bp.get("/payments")
def payment_list():
    """支付记录 by status, each with its refunds (``payments.admin_payments``: finance)."""
    status = request.args.get("status") or None
    status = status if status in {s.value for s in Status} else None
    params = _Page(_page_number())
    rows = payments.admin_payments(actor=g.console_actor, pagination=params, status=status)
    return render_template("console/payments.html", rows=rows, params=params, status=status,
                           statuses=PAYMENT_LABELS.statuses, refund_statuses=REFUND_LABELS.statuses)


@bp.get("/payments/alerts")
def payment_alerts():
    """待处理 / 已处理 alerts (``payments.alerts``), each open one with 处理 and a note."""
    resolved = request.args.get("resolved") == "1"
    params = _Page(_page_number())
    rows = payments.alerts(actor=g.console_actor, pagination=params, resolved=resolved)
    return render_template("console/payment_alerts.html", rows=rows, params=params, resolved=resolved,
                           kinds=ALERT_LABELS)


@bp.post("/payments/alerts/<int:alert_id>/resolve")
def resolve_payment_alert(alert_id: int):
    """处理 an alert with a note (``payments.resolve_alert``: audited); answers the row as it now is."""
    alert = payments.resolve_alert(actor=g.console_actor, alert_id=alert_id, note=_reason("note", 1000))
    return render_template("console/_alert_row.html", a=alert, kinds=ALERT_LABELS)


@bp.get("/payments/reconciliation")
def payment_reconciliation():
    """对账: a day's reconciliation with WeChat's trade bill and its mismatches (yesterday by default)."""
    text = request.args.get("date", "")
    try:
        day = date.fromisoformat(text) if text else clock.local_now().date() - timedelta(days=1)
    except ValueError:
        raise ValidationFailed(message="日期格式应为 YYYY-MM-DD", errors={"date": ["日期格式不正确"]}) from None
    if not 2000 <= day.year <= 2100:
        raise ValidationFailed(message="日期应在 2000 年到 2100 年之间", errors={"date": ["日期超出范围"]})
    run = payments.reconciliation(actor=g.console_actor, bill_date=day)
    return render_template("console/reconciliation.html", run=run, day=day, labels=RECON_LABELS,
                           kinds=MISMATCH_LABELS)
