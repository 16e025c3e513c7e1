"""Refunds: by finance (the API) or by a domain (``actor=None``, the system), never more than was paid
and not yet refunded. The refund and its ``out_refund_no`` are stored and committed before WeChat is
asked (``submit_refund``, a job after commit): a timeout, a crash or a retry asks WeChat for the *same*
refund, which WeChat answers without paying twice. WeChat unreachable: the refund stays pending and the
``payments.refund_retry`` timer submits it again. Its end (SUCCESS / ABNORMAL / CLOSED) comes as a
notification, or, when none has come 10 minutes after WeChat accepted it, from a query (the same timer)."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import select

from app.core import audit, clock, timers
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import ValidationFailed
from app.core.jobs import enqueue_after_commit
from app.payments import events
from app.payments.models import Payment, Refund
from app.payments.service.access import payment_for, require_finance
from app.payments.service.errors import NotRefundable, PaymentNotFound, RefundNumberTaken, RefundTooLarge
from app.payments.service.lifecycle import (
    book,
    lock,
    open_refunds_fen,
    raise_alert,
    settle_after_refund,
    system_fire,
)
from app.payments.states import (
    LABELS,
    OPEN_REFUNDS,
    REFUND_QUERY_AFTER,
    REFUND_RETRY_DELAYS,
    REFUND_RETRY_TIMER,
    REFUNDABLE,
    AlertKind,
    RefundStatus,
)
from app.wechat import gateway
from app.wechat.errors import PayRejected, PayUnavailable
from app.wechat.pay import Refund as WeChatRefund

log = logging.getLogger(__name__)
SUBMIT_JOB = "app.payments.jobs.submit_refund"


def refundable_fen(payment: Payment) -> int:
    return payment.amount_fen - payment.refunded_fen - open_refunds_fen(payment.id)


def start_refund(payment: Payment, *, amount_fen: int, reason: str, actor: Actor | None,
                 out_refund_no: str | None = None) -> Refund:
    """Store a refund of the (locked) payment and submit it after commit; the same ``out_refund_no``
    again answers the refund already stored."""
    if out_refund_no:
        existing = db.session.scalars(select(Refund).where(Refund.out_refund_no == out_refund_no)).one_or_none()
        if existing is not None:
            if existing.payment_id != payment.id or existing.amount_fen != amount_fen:
                raise RefundNumberTaken()
            return existing
    if payment.status not in REFUNDABLE:
        raise NotRefundable(message=f"支付单{_status_label(payment)}，不能退款")
    available = refundable_fen(payment)
    if amount_fen > available:
        raise RefundTooLarge(message=f"退款金额超过可退金额（最多可退 {available / 100:.2f} 元）")
    refund = Refund(payment_id=payment.id, out_refund_no=out_refund_no or _refund_no(payment), amount_fen=amount_fen,
                    reason=reason[:80], status=RefundStatus.PENDING, requested_by=actor.user_id if actor else None)
    db.session.add(refund)
    db.session.flush()
    audit.record("payment_refund", refund.id, "request", actor_id=refund.requested_by,
                 data={"payment_id": payment.id, "amount_fen": amount_fen, "reason": refund.reason})
    settle_after_refund(payment)
    enqueue_after_commit(SUBMIT_JOB, refund.id, queue="payments")
    return refund


def _status_label(payment: Payment) -> str:
    return LABELS.statuses.get(payment.status, payment.status)


def _refund_no(payment: Payment) -> str:
    return f"{payment.out_trade_no}R{secrets.token_hex(4).upper()}"


def refund(*, actor: Actor | None, payment_id: int, amount_fen: int, reason: str,
           out_refund_no: str | None = None) -> Refund:
    """Refund ``amount_fen`` of a paid payment: finance, or a domain (``actor=None``). Never more than
    paid − refunded − under way (409); idempotent by ``out_refund_no``."""
    require_finance(actor)
    if type(amount_fen) is not int or amount_fen <= 0:
        raise ValidationFailed(errors={"amount_fen": ["应为正整数（分）"]})
    payment = lock(payment_id)
    if payment is None:
        raise PaymentNotFound()
    return start_refund(payment, amount_fen=amount_fen, reason=reason, actor=actor, out_refund_no=out_refund_no)


def submit_refund(refund_id: int) -> str:
    """Ask WeChat for the stored refund (the job after commit, and its retry timer). Returns the refund's
    status afterwards."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != RefundStatus.PENDING:
        return refund.status if refund else "gone"
    payment = lock(refund.payment_id)
    refund = db.session.scalars(select(Refund).where(Refund.id == refund_id).with_for_update()
                                .execution_options(populate_existing=True)).one()
    if refund.status != RefundStatus.PENDING:
        return refund.status
    refund.attempts += 1
    try:
        answer = gateway.pay().refund(payment.out_trade_no, refund.out_refund_no, refund.amount_fen,
                                      payment.amount_fen, refund.reason)
    except PayUnavailable as exc:
        refund.last_error = f"{exc.code}"[:200]
        delay = REFUND_RETRY_DELAYS[min(refund.attempts - 1, len(REFUND_RETRY_DELAYS) - 1)]
        timers.schedule(REFUND_RETRY_TIMER, refund.id, clock.now() + delay)
        log.warning("refund not submitted, will retry", extra={"refund": refund.id, "code": exc.code})
        return refund.status
    except PayRejected as exc:
        refund.last_error = f"{exc.code}: {exc.user_message}"[:200]
        system_fire(refund, "fail", data={"code": exc.code})
        settle_after_refund(payment)
        raise_alert(AlertKind.REFUND_FAILED, source=f"refund:{refund.id}", payment=payment,
                    details={"out_refund_no": refund.out_refund_no, "code": exc.code})
        return refund.status
    status = apply_refund_state(payment, refund, answer)
    _check_later(refund)
    return status


def _check_later(refund: Refund) -> None:
    if refund.status == RefundStatus.PROCESSING:
        timers.schedule(REFUND_RETRY_TIMER, refund.id, clock.now() + REFUND_QUERY_AFTER)
    else:
        timers.cancel(REFUND_RETRY_TIMER, refund.id)


def query_refund(refund_id: int) -> str:
    """Ask WeChat how an accepted refund ended (its notification did not come) and apply the answer."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != RefundStatus.PROCESSING:
        return refund.status if refund else "gone"
    payment = lock(refund.payment_id)
    refund = find_refund(refund.out_refund_no)
    if refund.status != RefundStatus.PROCESSING:
        return refund.status
    status = apply_refund_state(payment, refund, gateway.pay().query_refund(refund.out_refund_no))
    _check_later(refund)
    return status


def retry_due(refund_id: int) -> bool:
    """Timer ``payments.refund_retry``: a pending refund is submitted again (same number), an accepted one
    that WeChat has not reported on is queried."""
    refund = db.session.get(Refund, refund_id)
    if refund is not None and refund.status == RefundStatus.PROCESSING:
        return query_refund(refund_id) != RefundStatus.PROCESSING
    return submit_refund(refund_id) != RefundStatus.PENDING


def find_refund(out_refund_no: str) -> Refund | None:
    return db.session.scalars(select(Refund).where(Refund.out_refund_no == out_refund_no).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()


def adopt_refund(payment: Payment, answer: WeChatRefund) -> Refund:
    """A refund WeChat reports that we never asked for (made in the merchant console): recorded, so the
    ledger still says what the school holds."""
    refund = Refund(payment_id=payment.id, out_refund_no=answer.out_refund_no, amount_fen=answer.refund_fen,
                    reason="商户平台退款", status=RefundStatus.PENDING, requested_by=None)
    db.session.add(refund)
    db.session.flush()
    audit.record("payment_refund", refund.id, "adopt", actor_id=None, data={"payment_id": payment.id})
    return refund


def apply_refund_state(payment: Payment, refund: Refund, answer: WeChatRefund) -> str:
    """Apply WeChat's word on a refund of the (locked) payment: accepted, succeeded (ledger −amount once,
    ``refund_succeeded``), abnormal (finance is alerted) or closed."""
    if answer.refund_id and not refund.refund_id:
        refund.refund_id = answer.refund_id
    status = answer.status
    if status == "PROCESSING":
        if refund.status == RefundStatus.PENDING:
            system_fire(refund, "accept")
    elif status == "SUCCESS":
        fired = system_fire(refund, "succeed", values={"succeeded_at": answer.success_time or clock.now()},
                            repeat=True)
        if not fired.ignored and book(payment, refund=refund):
            payment.refunded_fen += refund.amount_fen
            db.session.flush()
            settle_after_refund(payment)
            events.refund_succeeded.send(payment.id, refund_id=refund.id, biz_type=payment.biz_type,
                                         biz_id=payment.biz_id, amount_fen=refund.amount_fen,
                                         refunded_fen=payment.refunded_fen, reason=refund.reason)
    elif status == "ABNORMAL":
        fired = system_fire(refund, "abnormal", repeat=True)
        if not fired.ignored:
            settle_after_refund(payment)
            raise_alert(AlertKind.REFUND_ABNORMAL, source=f"refund:{refund.id}", payment=payment,
                        details={"out_refund_no": refund.out_refund_no, "amount_fen": refund.amount_fen})
    elif status == "CLOSED":
        fired = system_fire(refund, "close", repeat=True)
        if not fired.ignored:
            settle_after_refund(payment)
    if refund.status not in OPEN_REFUNDS:
        timers.cancel(REFUND_RETRY_TIMER, refund.id)
    return refund.status


def list_refunds(*, actor: Actor | None, payment_id: int) -> list[Refund]:
    payment_for(actor, payment_id)
    return list(db.session.scalars(select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)))


def refunds_of(payment_ids: list[int]) -> dict[int, list[Refund]]:
    out: dict[int, list[Refund]] = {pid: [] for pid in payment_ids}
    if payment_ids:
        for r in db.session.scalars(select(Refund).where(Refund.payment_id.in_(payment_ids)).order_by(Refund.id)):
            out[r.payment_id].append(r)
    return out

