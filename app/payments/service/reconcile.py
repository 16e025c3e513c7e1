"""The daily reconciliation: yesterday's WeChat trade bill, line by line, against our payments and
refunds. Every difference is stored for finance (``missing_ours``: WeChat has money we do not know of;
``missing_wechat``: we booked money WeChat does not list; ``amount_diff``) and one alert says the day
disagrees. A bill that does not match its SHA1 is refused (nothing compared) and alerted.

Days are the school's (+08:00, as WeChat's bill). Payments are matched by their success time; refunds
by the day we asked for them (WeChat lists a refund on the day it accepted it, the same day unless a
retry crossed midnight — that case shows as a mismatch of both days, for finance to see).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from app.core import clock
from app.core.auth import Actor
from app.core.db import db
from app.payments.models import Payment, Reconciliation, ReconciliationMismatch, Refund
from app.payments.service.access import require_reader
from app.payments.service.lifecycle import raise_alert
from app.payments.states import RECONCILE_AFTER_HOUR, AlertKind, RefundStatus
from app.wechat import gateway
from app.wechat.errors import BillHashMismatch, PayRejected

log = logging.getLogger(__name__)
NO_BILL = ("NO_STATEMENT_EXIST",)
_COLUMNS = {"out_trade_no": 6, "kind": 9, "out_refund_no": 15, "refund": 16, "total": 24}


def _fen(text: str) -> int:
    return int((Decimal(text) * 100).to_integral_value())


def parse_bill(text: str) -> tuple[dict[str, int], dict[str, int]]:
    """``({out_trade_no: fen}, {out_refund_no: fen})`` of a trade bill (type ALL)."""
    payments: dict[str, int] = {}
    refunds: dict[str, int] = {}
    lines = text.lstrip("\ufeff").splitlines()
    for line in lines[1:]:
        if not line.startswith("`"):
            break  # the summary header
        fields = [f.removeprefix("`") for f in line.split(",")]
        if fields[_COLUMNS["kind"]] == "REFUND":
            refunds[fields[_COLUMNS["out_refund_no"]]] = _fen(fields[_COLUMNS["refund"]])
        else:
            payments[fields[_COLUMNS["out_trade_no"]]] = _fen(fields[_COLUMNS["total"]])
    return payments, refunds


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=clock.school_zone())
    return start, start + timedelta(days=1)


def reconcile(bill_date: date) -> Reconciliation:
    """Reconcile ``bill_date`` (again: its mismatches are replaced). ``PayUnavailable`` propagates: the
    periodic job tries again."""
    run = db.session.scalars(select(Reconciliation).where(Reconciliation.bill_date == bill_date)
                             .with_for_update()).one_or_none()
    if run is None:
        run = Reconciliation(bill_date=bill_date, status="running")
        db.session.add(run)
        db.session.flush()
    db.session.execute(delete(ReconciliationMismatch).where(ReconciliationMismatch.run_id == run.id))
    try:
        text = gateway.pay().fetch_bill(bill_date).decode("utf-8")
    except BillHashMismatch as exc:
        run.status, run.error = "refused", f"{exc.code}"[:200]
        db.session.flush()
        raise_alert(AlertKind.BILL_HASH_MISMATCH, source=f"bill:{bill_date.isoformat()}", payment=None,
                    details={"bill_date": bill_date.isoformat(), "code": exc.code})
        return run
    except PayRejected as exc:
        if exc.code not in NO_BILL:
            raise
        text = ""
    wechat_payments, wechat_refunds = parse_bill(text) if text else ({}, {})
    start, end = _day_bounds(bill_date)
    ours_payments = dict(db.session.execute(select(Payment.out_trade_no, Payment.amount_fen).where(
        Payment.paid_at >= start, Payment.paid_at < end, Payment.transaction_id.is_not(None))).all())
    ours_refunds = dict(db.session.execute(select(Refund.out_refund_no, Refund.amount_fen).where(
        Refund.created_at >= start, Refund.created_at < end,
        Refund.status.in_([RefundStatus.PROCESSING, RefundStatus.SUCCEEDED, RefundStatus.ABNORMAL,
                           RefundStatus.CLOSED]))).all())
    # a refund WeChat lists that we asked for on another day is still ours
    known_refunds = dict(db.session.execute(select(Refund.out_refund_no, Refund.amount_fen).where(
        Refund.out_refund_no.in_(list(wechat_refunds)))).all()) if wechat_refunds else {}
    known_payments = dict(db.session.execute(select(Payment.out_trade_no, Payment.amount_fen).where(
        Payment.out_trade_no.in_(list(wechat_payments)), Payment.transaction_id.is_not(None))).all()) \
        if wechat_payments else {}
    rows = []
    for line_type, wechat, ours, known in (("payment", wechat_payments, ours_payments, known_payments),
                                           ("refund", wechat_refunds, ours_refunds, known_refunds)):
        for ref, fen in wechat.items():
            mine = ours.get(ref, known.get(ref))
            if mine is None:
                rows.append(("missing_ours", line_type, ref, None, fen))
            elif mine != fen:
                rows.append(("amount_diff", line_type, ref, mine, fen))
        for ref, fen in ours.items():
            if ref not in wechat:
                rows.append(("missing_wechat", line_type, ref, fen, None))
    if rows:
        db.session.execute(insert(ReconciliationMismatch).values([
            {"run_id": run.id, "kind": k, "line_type": t, "reference": r, "ours_fen": o, "wechat_fen": w}
            for k, t, r, o, w in rows]).on_conflict_do_nothing())
    run.status = "mismatched" if rows else "matched"
    run.error = None
    run.bill_lines = len(wechat_payments) + len(wechat_refunds)
    run.wechat_paid_fen = sum(wechat_payments.values())
    run.wechat_refunded_fen = sum(wechat_refunds.values())
    db.session.flush()
    if rows:
        raise_alert(AlertKind.RECONCILIATION, source=f"reconciliation:{bill_date.isoformat()}:{len(rows)}",
                    payment=None, details={"bill_date": bill_date.isoformat(), "mismatches": len(rows)})
    log.info("reconciled", extra={"bill_date": bill_date.isoformat(), "status": run.status, "mismatches": len(rows)})
    return run


def reconcile_due() -> str | None:
    """The periodic job: after 10:00 school time, yesterday's bill once (a refused or failed day is
    tried again on the next run)."""
    now = clock.local_now()
    if now.hour < RECONCILE_AFTER_HOUR:
        return None
    day = now.date() - timedelta(days=1)
    done = db.session.scalar(select(Reconciliation.status).where(Reconciliation.bill_date == day))
    if done in ("matched", "mismatched"):
        return None
    return reconcile(day).status


def reconciliation(*, actor: Actor, bill_date: date) -> dict:
    """A day's reconciliation as finance (and admins) see it (``status`` ``pending`` before it ran)."""
    require_reader(actor)
    run = db.session.scalars(select(Reconciliation).where(Reconciliation.bill_date == bill_date)).one_or_none()
    if run is None:
        return {"bill_date": bill_date, "status": "pending", "bill_lines": 0, "wechat_paid_fen": 0,
                "wechat_refunded_fen": 0, "mismatches": []}
    mismatches = list(db.session.scalars(select(ReconciliationMismatch).where(
        ReconciliationMismatch.run_id == run.id).order_by(ReconciliationMismatch.id)))
    return {"bill_date": run.bill_date, "status": run.status, "bill_lines": run.bill_lines,
            "wechat_paid_fen": run.wechat_paid_fen, "wechat_refunded_fen": run.wechat_refunded_fen,
            "error": run.error, "mismatches": mismatches}
