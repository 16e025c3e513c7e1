"""What finance does: fee items, issuing an item to grades, classes, named students or from an .xlsx
(all-or-nothing), waiving and adjusting bills (audited, refused once paid), refunds of paid bills, the
bills of a class or an item, and the collection rate with its .xlsx export."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert

from app.core import audit, clock, sheets
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import ValidationFailed
from app.core.pagination import PageParams, paginate
from app.fees.models import FeeBill, FeeItem
from app.fees.service.access import bill_for, item, present, require_finance
from app.fees.service.errors import NotPaid, RefundUnderWay
from app.fees.service.lifecycle import bills_machine, order_of
from app.fees.states import FINANCE, LIST_ORDER, MAX_BILL_FEN, BillStatus
from app.payments import service as payments
from app.users import service as users

REFUND_ENDED_WITHOUT_MONEY = ("closed", "failed")
"""A refund of a bill that ended so (WeChat closed or refused it): finance may ask again, with a new number."""
MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
BILL_COLUMNS = {"学号": "number", "姓名": "name"}
AMOUNT_COLUMN = {"金额(元)": "amount"}


# --- items --------------------------------------------------------------------------------------------


def create_item(*, actor: Actor, name: str, category: str, amount_fen: int, term: str, due_date: date | None = None,
                description: str = "") -> FeeItem:
    require_finance(actor)
    fee_item = FeeItem(name=name, category=category, amount_fen=amount_fen, term=term, due_date=due_date,
                       description=description or "", created_by=actor.user_id)
    db.session.add(fee_item)
    db.session.flush()
    audit.record("fee_item", fee_item.id, "create", actor_id=actor.user_id,
                 after={"name": name, "category": category, "amount_fen": amount_fen, "term": term})
    return fee_item


def get_item(*, actor: Actor, item_id: int) -> FeeItem:
    """One fee item (finance; 404 if there is none)."""
    require_finance(actor)
    return item(item_id)


def list_items(*, actor: Actor, pagination: PageParams, term: str | None = None) -> list[FeeItem]:
    require_finance(actor)
    stmt = select(FeeItem).order_by(FeeItem.id.desc())
    if term:
        stmt = stmt.where(FeeItem.term == term)
    return paginate(stmt, pagination)


# --- issuing ------------------------------------------------------------------------------------------


@dataclass
class IssueResult:
    created: int
    skipped: int
    dry_run: bool


def _write_bills(fee_item: FeeItem, amounts: dict[int, int], *, actor: Actor, dry_run: bool,
                 source: str) -> IssueResult:
    """Bills of ``fee_item`` for ``{student id: amount}``; a student who has the bill already keeps it."""
    existing = set(db.session.scalars(select(FeeBill.student_id).where(
        FeeBill.item_id == fee_item.id, FeeBill.student_id.in_(list(amounts))))) if amounts else set()
    result = IssueResult(created=len(set(amounts) - existing), skipped=len(existing & set(amounts)), dry_run=dry_run)
    if dry_run or not amounts:
        return result
    now = clock.now()
    rows = [{"item_id": fee_item.id, "student_id": sid, "amount_fen": fen, "status": BillStatus.UNPAID,
             "created_at": now, "updated_at": now} for sid, fen in sorted(amounts.items())]
    created = 0
    for start in range(0, len(rows), 1000):
        created += len(db.session.execute(
            insert(FeeBill).values(rows[start:start + 1000])
            .on_conflict_do_nothing(index_elements=["item_id", "student_id"]).returning(FeeBill.id)).all())
    result.created, result.skipped = created, len(amounts) - created
    audit.record("fee_item", fee_item.id, "issue", actor_id=actor.user_id,
                 data={"source": source, "created": result.created, "skipped": result.skipped})
    return result


def issue(*, actor: Actor, item_id: int, grade_ids: list[int] = (), class_ids: list[int] = (),
          student_numbers: list[str] = (), dry_run: bool = False) -> IssueResult:
    """Bill ``item_id`` to the active students of the grades, the classes and the 学号 given (an unknown
    学号 is a 422 listing every one; nothing is written). Issuing again bills only who has no bill yet."""
    require_finance(actor)
    fee_item = item(item_id)
    if not (grade_ids or class_ids or student_numbers):
        raise ValidationFailed(errors={"_schema": ["请选择年级、班级或学生"]})
    found = users.students_of(grade_ids=grade_ids, class_ids=class_ids)
    by_number = users.students_by_number(student_numbers)
    unknown = [n for n in dict.fromkeys(student_numbers) if n not in by_number]
    if unknown:
        raise ValidationFailed("fees.unknown_students", "学号不存在：" + "、".join(unknown),
                               errors={"student_numbers": [f"未找到学号“{n}”" for n in unknown]})
    amounts = {s.id: fee_item.amount_fen for s in [*found, *by_number.values()]}
    return _write_bills(fee_item, amounts, actor=actor, dry_run=dry_run, source="roster")


def parse_yuan(text: str) -> int | None:
    """``"1800"``, ``"1800.5"``, ``"1800.50"`` → fen; None for anything else (more than 2 decimals, ≤ 0,
    above the limit, not a number)."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        return None
    fen = int(value * 100)
    return fen if fen <= MAX_BILL_FEN else None


def _read(data: bytes) -> list[tuple[int, dict]]:
    try:
        return sheets.read_rows(data, {**BILL_COLUMNS, **AMOUNT_COLUMN}, max_rows=MAX_IMPORT_ROWS,
                                max_bytes=MAX_IMPORT_BYTES)
    except ValidationFailed as exc:
        if exc.error_code != "import.missing_columns" or set(exc.errors.get("columns") or ()) - set(AMOUNT_COLUMN):
            raise
    return sheets.read_rows(data, BILL_COLUMNS, max_rows=MAX_IMPORT_ROWS, max_bytes=MAX_IMPORT_BYTES)


def issue_sheet(*, actor: Actor, item_id: int, data: bytes, dry_run: bool = False) -> IssueResult:
    """Bill ``item_id`` from an .xlsx (学号, 姓名; optional 金额(元) overriding the item's amount): every
    row or none; a 422 lists every bad row (unknown 学号, a name that is not the roster's, a bad amount,
    a repeated 学号)."""
    require_finance(actor)
    fee_item = item(item_id)
    rows = _read(data)
    roster = users.students_by_number([r["number"] for _n, r in rows])
    errors = sheets.RowErrors()
    sheets.duplicates(rows, "number", errors, "学号", "学号重复")
    amounts: dict[int, int] = {}
    for number, r in rows:
        student = roster.get(r["number"])
        if not r["number"]:
            errors.add(number, "学号", "缺少学号")
        elif student is None:
            errors.add(number, "学号", f"未找到在校学生“{r['number']}”")
        elif r["name"] != student.name:
            errors.add(number, "姓名", f"姓名与学号不符（名册为“{student.name}”）")
        fen = fee_item.amount_fen
        if r.get("amount"):
            fen = parse_yuan(r["amount"])
            if fen is None:
                errors.add(number, "金额(元)", "金额应为大于 0 的数字，最多两位小数，不超过 100000 元")
        if student is not None and fen is not None:
            amounts[student.id] = fen
    errors.raise_if_any("fees.import_invalid", f"表格有 {len(errors.errors)} 处错误，未导入任何数据")
    return _write_bills(fee_item, amounts, actor=actor, dry_run=dry_run, source="xlsx")


# --- one bill -----------------------------------------------------------------------------------------


def waive(*, actor: Actor, bill_id: int, reason: str) -> dict[str, Any]:
    """减免: an unpaid bill is not to be paid (409 once it is in a payment or paid); audited with the reason."""
    require_finance(actor)
    bill = bill_for(actor, bill_id, lock=True)
    bills_machine.fire(bill, "waive", actor_id=actor.user_id, roles={FINANCE}, values={"note": reason[:200]},
                       data={"reason": reason})
    return present([bill])[0]


def adjust(*, actor: Actor, bill_id: int, amount_fen: int, reason: str) -> dict[str, Any]:
    """A new amount for an unpaid bill (409 once in a payment or paid); audited with before, after and reason."""
    require_finance(actor)
    if not 0 < amount_fen <= MAX_BILL_FEN:
        raise ValidationFailed(errors={"amount_fen": ["金额应为 1 到 10000000 分"]})
    bill = bill_for(actor, bill_id, lock=True)
    before = bill.amount_fen
    bills_machine.fire(bill, "adjust", actor_id=actor.user_id, roles={FINANCE},
                       values={"amount_fen": amount_fen, "note": reason[:200]},
                       data={"reason": reason, "amount_fen_before": before, "amount_fen_after": amount_fen})
    return present([bill])[0]


def refund_bill(*, actor: Actor, bill_id: int, reason: str) -> dict[str, Any]:
    """Give a paid bill's money back through payments (its order's payment, the bill's amount; the refund
    number ``FEEBILL<id>`` so a retry asks for the same refund). The bill is ``refunded`` when the refund
    succeeds (``refund_succeeded``); while one is under way another is a 409, after one WeChat closed or
    refused finance may ask again (``FEEBILL<id>-2`` …)."""
    require_finance(actor)
    bill = bill_for(actor, bill_id, lock=True)
    if bill.status != BillStatus.PAID:
        raise NotPaid(message=f"账单{_label(bill.status)}，不能退费")
    order = order_of(bill)
    if order is None or order.payment_id is None:
        raise NotPaid()
    attempt = 1
    if bill.refund_id is not None:
        earlier = [r for r in payments.list_refunds(actor=None, payment_id=order.payment_id) if r.id == bill.refund_id]
        if not earlier or earlier[0].status not in REFUND_ENDED_WITHOUT_MONEY:
            raise RefundUnderWay()
        attempt = int(earlier[0].out_refund_no.rpartition("-")[2]) + 1 if "-" in earlier[0].out_refund_no else 2
    # the domain refunds as the system (the payable contract): fees has checked finance-or-admin and
    # audits who asked (below); payments' own check knows only its ``finance`` role
    refund = payments.refund(actor=None, payment_id=order.payment_id, amount_fen=bill.amount_fen,
                             reason=reason, out_refund_no=f"FEEBILL{bill.id}" + (f"-{attempt}" if attempt > 1 else ""))
    bill.refund_id = refund.id
    db.session.flush()
    audit.record("fee_bill", bill.id, "refund_request", actor_id=actor.user_id,
                 data={"refund_id": refund.id, "amount_fen": bill.amount_fen, "reason": reason})
    return present([bill])[0]


def _label(status: str) -> str:
    return bills_machine.labels.statuses.get(status, status) if bills_machine.labels else status


# --- lists and figures --------------------------------------------------------------------------------


def _student_filter(grade_ids: list[int], class_ids: list[int]) -> list[int] | None:
    if not grade_ids and not class_ids:
        return None
    return [s.id for s in users.students_of(grade_ids=grade_ids, class_ids=class_ids)]


def admin_bills(*, actor: Actor, pagination: PageParams, item_id: int | None = None, class_id: int | None = None,
                grade_id: int | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Bills of an item, a class or a grade with who has paid (finance), unpaid first."""
    require_finance(actor)
    stmt = select(FeeBill)
    if item_id is not None:
        stmt = stmt.where(FeeBill.item_id == item_id)
    students = _student_filter([grade_id] if grade_id else [], [class_id] if class_id else [])
    if students is not None:
        stmt = stmt.where(FeeBill.student_id.in_(students))
    if status:
        stmt = stmt.where(FeeBill.status == status)
    rank = case({s.value: i for i, s in enumerate(LIST_ORDER)}, value=FeeBill.status)
    return present(paginate(stmt.order_by(rank, FeeBill.id), pagination))


def _figures() -> dict[str, int]:
    return {"billed": 0, "paid": 0, "waived": 0, "refunded": 0, "due_fen": 0, "paid_fen": 0}


def _add(fig: dict[str, int], status: str, amount: int) -> None:
    if status == BillStatus.WAIVED:
        fig["waived"] += 1
        return
    fig["billed"] += 1
    fig["due_fen"] += amount
    if status == BillStatus.PAID:
        fig["paid"] += 1
        fig["paid_fen"] += amount
    elif status == BillStatus.REFUNDED:
        fig["refunded"] += 1


def _rate(fig: dict[str, int]) -> dict[str, Any]:
    return {**fig, "rate": round(fig["paid_fen"] / fig["due_fen"], 4) if fig["due_fen"] else None}


def collection(*, actor: Actor, item_id: int | None = None, term: str | None = None) -> dict[str, list]:
    """收缴率 by item, by grade and by class (finance). ``billed`` counts bills not waived and ``due_fen``
    their amounts; ``paid``/``paid_fen`` the bills paid (a refunded bill is not paid); ``rate`` =
    paid_fen / due_fen (None with nothing due)."""
    require_finance(actor)
    stmt = select(FeeBill.item_id, FeeBill.student_id, FeeBill.status, FeeBill.amount_fen)
    items_stmt = select(FeeItem).order_by(FeeItem.id)
    if item_id is not None:
        stmt, items_stmt = stmt.where(FeeBill.item_id == item_id), items_stmt.where(FeeItem.id == item_id)
    if term:
        stmt = stmt.join(FeeItem, FeeItem.id == FeeBill.item_id).where(FeeItem.term == term)
        items_stmt = items_stmt.where(FeeItem.term == term)
    rows = db.session.execute(stmt).all()
    infos = users.students([r.student_id for r in rows])
    fee_items = {i.id: i for i in db.session.scalars(items_stmt)}
    by_item: dict[int, dict] = defaultdict(_figures)
    by_grade: dict[tuple[int, int], dict] = defaultdict(_figures)
    by_class: dict[tuple[int, int], dict] = defaultdict(_figures)
    names: dict[tuple[str, int], str] = {}
    for r in rows:
        info = infos[r.student_id]
        _add(by_item[r.item_id], r.status, r.amount_fen)
        _add(by_grade[(r.item_id, info.grade_id)], r.status, r.amount_fen)
        _add(by_class[(r.item_id, info.class_id)], r.status, r.amount_fen)
        names[("grade", info.grade_id)] = info.grade_name
        names[("class", info.class_id)] = info.class_name
        names[("class_grade", info.class_id)] = info.grade_name

    def head(iid: int) -> dict[str, Any]:
        fee_item = fee_items[iid]
        return {"item_id": iid, "item_name": fee_item.name, "term": fee_item.term}

    return {
        "items": [{**head(i), **_rate(by_item[i])} for i in fee_items if i in by_item],
        "grades": [{**head(i), "grade_id": g, "grade_name": names[("grade", g)], **_rate(f)}
                   for (i, g), f in sorted(by_grade.items(), key=lambda kv: (kv[0][0], names[("grade", kv[0][1])]))],
        "classes": [{**head(i), "class_id": c, "class_name": names[("class", c)],
                     "grade_name": names[("class_grade", c)], **_rate(f)}
                    for (i, c), f in sorted(by_class.items(), key=lambda kv: (kv[0][0], names[("class", kv[0][1])]))],
    }


def current_term(today: date) -> str:
    """The term's name as fee items spell it: ``2026秋`` from August to January, ``2027春`` from February
    to July (the meetings' terms, 1 Aug – 31 Jan and 1 Feb – 31 Jul)."""
    if today.month >= 8:
        return f"{today.year}秋"
    if today.month == 1:
        return f"{today.year - 1}秋"
    return f"{today.year}春"


def term_collection(*, actor: Actor, term: str) -> dict[str, Any]:
    """The collection rate of all the items of ``term`` together (finance): the figures of
    ``collection`` summed over its items, ``rate`` = paid_fen / due_fen (None with nothing due)."""
    total = _figures()
    for figures in collection(actor=actor, term=term)["items"]:
        for key in total:
            total[key] += figures[key]
    return {"term": term, **_rate(total)}


def export_collection(*, actor: Actor, item_id: int | None = None, term: str | None = None) -> bytes:
    """The collection rate as .xlsx: one sheet per level (audited)."""
    figures = collection(actor=actor, item_id=item_id, term=term)
    audit.record("fee_collection", item_id or 0, "export", actor_id=actor.user_id, data={"term": term})
    numbers = ["应缴人数", "已缴人数", "减免人数", "退费人数", "应收(元)", "实收(元)", "收缴率"]

    def tail(f: dict) -> list:
        rate = f"{f['rate'] * 100:.1f}%" if f["rate"] is not None else ""
        return [f["billed"], f["paid"], f["waived"], f["refunded"], f["due_fen"] / 100, f["paid_fen"] / 100, rate]

    return sheets.write_workbook([
        ("按项目", ["项目", "学期", *numbers], [[f["item_name"], f["term"], *tail(f)] for f in figures["items"]]),
        ("按年级", ["项目", "学期", "年级", *numbers],
         [[f["item_name"], f["term"], f["grade_name"], *tail(f)] for f in figures["grades"]]),
        ("按班级", ["项目", "学期", "年级", "班级", *numbers],
         [[f["item_name"], f["term"], f["grade_name"], f["class_name"], *tail(f)] for f in figures["classes"]]),
    ])
