"""WeChat Pay's notifications: verified and stored at once (the answer WeChat waits for), applied after
commit by a job, one at a time per payment (the payment row is locked), and swept up if a crash came
between storing and applying.

A notification is stored once by WeChat's id, however often WeChat sends it (concurrently too); applying
it again changes nothing. A refund notification that arrives before its payment's success waits, stored,
and is applied once the payment is paid.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core import clock
from app.core.db import db
from app.core.jobs import enqueue_after_commit
from app.payments.models import PayNotification
from app.payments.service.lifecycle import lock_by_trade_no, raise_alert
from app.payments.service.refunds import adopt_refund, apply_refund_state, find_refund
from app.payments.service.settle import apply_trade_state
from app.payments.states import SETTLED, AlertKind, Status
from app.wechat import gateway
from app.wechat.errors import BadSignature, ForeignMerchant, PayError
from app.wechat.pay import Refund as WeChatRefund
from app.wechat.pay import TradeState
from app.wechat.pay.records import parse_time

log = logging.getLogger(__name__)
APPLY_JOB = "app.payments.jobs.apply_notification"
SWEEP_GRACE = timedelta(seconds=30)
"""The sweep leaves a notification this long to its own job before it applies it itself."""


class NotificationRefused(Exception):
    """Not a notification we may act on: answer WeChat 4xx/5xx ``FAIL`` (it will send it again if it
    was real), store nothing. ``keep_writes``: the alert raised about it stays although the answer is 4xx."""

    def __init__(self, status: int, message: str, *, keep_writes: bool = False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.keep_writes = keep_writes


def receive(headers: Mapping[str, str], body: bytes) -> int | None:
    """Verify, decrypt and store a notification as WeChat posted it; its apply job leaves after commit.
    Returns the stored row's id (None: stored before). ``NotificationRefused`` when it does not verify."""
    try:
        note = gateway.pay().parse_notify(headers, body)
    except ForeignMerchant as exc:
        # WeChat Pay's own, for another merchant id: nothing is applied, finance is told once per
        # notification (WeChat sends it again on our 4xx).
        record = exc.notification.resource
        log.warning("pay notification for another merchant", extra={"mchid": exc.mchid})
        raise_alert(AlertKind.FOREIGN_MERCHANT, source=f"notify:{exc.notification.id}", payment=None,
                    details={"notification_id": exc.notification.id, "stated_mchid": exc.mchid,
                             "out_trade_no": getattr(record, "out_trade_no", None),
                             "event_type": exc.notification.event_type})
        raise NotificationRefused(400, "商户号不符", keep_writes=True) from None
    except BadSignature as exc:
        log.warning("pay notification refused", extra={"code": exc.code})
        raise NotificationRefused(401, "签名验证失败") from None
    except PayError as exc:
        log.warning("pay notification refused", extra={"code": exc.code})
        raise NotificationRefused(400, "无法处理的通知") from None
    record = note.resource
    resource = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in asdict(record).items()}
    row = db.session.execute(
        insert(PayNotification).values(
            notification_id=note.id, event_type=note.event_type, out_trade_no=record.out_trade_no,
            out_refund_no=getattr(record, "out_refund_no", None), raw=body.decode("utf-8"), resource=resource,
            received_at=clock.now())
        .on_conflict_do_nothing(index_elements=["notification_id"]).returning(PayNotification.id)
    ).first()
    if row is None:
        stored = db.session.scalars(select(PayNotification).where(PayNotification.notification_id == note.id)).one()
        if stored.applied_at is None:
            enqueue_after_commit(APPLY_JOB, stored.id, queue="payments", once=True)
        return None
    enqueue_after_commit(APPLY_JOB, row.id, queue="payments")
    return row.id


def _trade_state(doc: dict) -> TradeState:
    return TradeState(**{**doc, "success_time": parse_time(doc.get("success_time"))})


def _refund(doc: dict) -> WeChatRefund:
    return WeChatRefund(**{**doc, "success_time": parse_time(doc.get("success_time")),
                           "create_time": parse_time(doc.get("create_time"))})


def apply_stored(notification_id: int) -> str | None:
    """Apply one stored notification (the apply job, the sweep). Locks its payment first, then the
    notification: notifications of one payment are applied one at a time, each once."""
    stored = db.session.get(PayNotification, notification_id)
    if stored is None or stored.applied_at is not None:
        return None
    payment = lock_by_trade_no(stored.out_trade_no)
    stored = db.session.scalars(select(PayNotification).where(PayNotification.id == notification_id)
                                .with_for_update().execution_options(populate_existing=True)).one()
    if stored.applied_at is not None:
        return None
    if payment is None:  # money WeChat took for an order we never made: finance must find out why
        outcome = "unknown_order"
        log.warning("pay notification for an unknown order", extra={"out_trade_no": stored.out_trade_no})
        raise_alert(AlertKind.UNKNOWN_ORDER, source=f"notify:{stored.notification_id}", payment=None,
                    details={"out_trade_no": stored.out_trade_no, "event_type": stored.event_type,
                             "amount_fen": stored.resource.get("amount_fen") or stored.resource.get("refund_fen")})
    elif stored.event_type.startswith("TRANSACTION."):
        outcome = apply_trade_state(payment, _trade_state(stored.resource), source=f"notify:{stored.notification_id}")
    else:
        answer = _refund(stored.resource)
        if payment.status not in (*SETTLED, Status.REFUNDING):
            log.info("refund notification before its payment's success: kept", extra={"payment": payment.id})
            return "waiting"  # stays unapplied; applied when the payment is paid
        refund = find_refund(answer.out_refund_no) or adopt_refund(payment, answer)
        outcome = "refund_" + apply_refund_state(payment, refund, answer)
    stored.applied_at = clock.now()
    stored.outcome = outcome[:40]
    db.session.flush()
    if outcome in ("paid", "late") and payment is not None:
        for waiting in db.session.scalars(select(PayNotification.id).where(
                PayNotification.out_trade_no == payment.out_trade_no, PayNotification.applied_at.is_(None),
                PayNotification.id != stored.id).order_by(PayNotification.id)).all():
            apply_stored(waiting)
    return outcome


def sweep(limit: int = 200) -> int:
    """Apply stored notifications nobody applied (a crash between storing and applying, a lost job)."""
    due = clock.now() - SWEEP_GRACE
    ids = db.session.scalars(select(PayNotification.id).where(
        PayNotification.applied_at.is_(None), PayNotification.received_at <= due)
        .order_by(PayNotification.id).limit(limit)).all()
    done = 0
    for notification_id in ids:
        try:
            with db.session.begin_nested():
                done += apply_stored(notification_id) not in (None, "waiting")
        except Exception:
            log.exception("pay notification could not be applied", extra={"notification": notification_id})
    return done
