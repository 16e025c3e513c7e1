"""The payable contract, the half a domain calls: ask for a payment of its object, and take the payer to
WeChat's cashier (``checkout``). What happens next comes back as signals (``app.payments.events``)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, text

from app.core import audit, clock, timers
from app.core.auth import Actor
from app.core.db import bound_insert, db, fetch, prebuilt
from app.core.errors import ValidationFailed
from app.payments.models import Payment
from app.payments.service.access import payment_for
from app.payments.service.errors import AmountConflict, PaymentExpired, PaymentNotFound, PayUnavailableError
from app.payments.states import CLOSE_TIMER, MAX_AMOUNT_FEN, MIN_OPEN, QUERY_AFTER_CHECKOUT, QUERY_TIMER, Status
from app.users import service as users
from app.wechat import gateway
from app.wechat.errors import PayRejected, PayUnavailable


def _out_trade_no(now: datetime) -> str:
    """``P`` + the school-local time to the second + 12 random characters: 27 characters, sortable by
    time, never guessable, within WeChat's 6–32 ``[0-9A-Za-z_*-]``."""
    return "P" + clock.to_local(now).strftime("%Y%m%d%H%M%S") + secrets.token_hex(6).upper()


def close_due(payment: Payment) -> datetime:
    return _close_at(payment.expires_at, payment.created_at)


def _close_at(expires_at: datetime, created_at: datetime) -> datetime:
    """When an unpaid payment is closed: at its deadline, never sooner than 5 minutes after creation."""
    return max(expires_at, created_at + MIN_OPEN)


_OPENED = (
    bound_insert(Payment, ("biz_type", "biz_id", "payer_id", "amount_fen", "description", "out_trade_no", "status",
                           "expires_at", "refunded_fen", "created_at", "updated_at"))
    # a literal predicate: PostgreSQL infers the partial index from it, never from a bound parameter
    # (psycopg prepares a statement after its fifth run, and a parameter cannot match the index)
    .on_conflict_do_nothing(index_elements=["biz_type", "biz_id"], index_where=text("status = 'created'"))
    .returning(Payment.id)
    .cte("opened")
)
_OPEN = prebuilt(select(_OPENED.c.id)
                 .add_cte(audit.recorded_for(_OPENED, "payment", "request").cte("audited"))
                 .add_cte(timers.scheduled_for(_OPENED, CLOSE_TIMER).cte("timed")))
"""The payment, its audit event and its close timer in one statement, built once and run by ``fetch``: at
the lunch rush every order opens a payment (the ORM's insert of an entity cost more than the insert
itself, and each further statement a round trip). Nothing is written when one is open already."""


def request_payment(*, biz_type: str, biz_id: int, amount_fen: int, description: str, payer: int | Actor,
                    expires_at: datetime) -> int:
    """The id of the open payment of ``(biz_type, biz_id)``, created if there is none. Idempotent: asking
    again (a double tap, two requests at once) answers the same payment; asking for another amount while
    one is open is a 409. ``payer`` is the user (or actor) who pays; ``expires_at`` the deadline WeChat is
    given (``time_expire``) — the payment is closed then (never sooner than 5 minutes after creation)."""
    payer_id = payer.user_id if isinstance(payer, Actor) else int(payer)
    if type(amount_fen) is not int or not 0 < amount_fen <= MAX_AMOUNT_FEN:
        raise ValidationFailed(errors={"amount_fen": ["金额应为 1 到 10000000 分"]})
    if not description or len(description) > 127:
        raise ValidationFailed(errors={"description": ["应为 1 到 127 个字"]})
    now = clock.now()
    if expires_at.tzinfo is None or expires_at <= now:
        raise ValidationFailed(errors={"expires_at": ["应为将来的时间（带时区）"]})
    close_at = _close_at(expires_at, now)
    opened = fetch(_OPEN, {
        "biz_type": biz_type, "biz_id": biz_id, "payer_id": payer_id, "amount_fen": amount_fen,
        "description": description, "out_trade_no": _out_trade_no(now), "status": Status.CREATED,
        "expires_at": expires_at, "refunded_fen": 0, "created_at": now, "updated_at": now,
        **audit.record_params(actor_id=payer_id, data={"biz_type": biz_type, "biz_id": biz_id,
                                                       "amount_fen": amount_fen}),
        **timers.schedule_params(close_at)})
    if not opened:  # one is open already (perhaps created this instant by a concurrent request)
        payment = db.session.scalars(select(Payment).where(
            Payment.biz_type == biz_type, Payment.biz_id == biz_id, Payment.status == Status.CREATED)).one()
        if payment.amount_fen != amount_fen or payment.payer_id != payer_id:
            raise AmountConflict()
        return payment.id
    timers.arm(CLOSE_TIMER, close_at)
    return opened[0].id


def checkout(*, actor: Actor | None, payment_id: int) -> dict[str, Any]:
    """Prepay at WeChat (``time_expire`` = the payment's deadline) and the ``wx.requestPayment``
    parameters. Safe to call again: WeChat answers a new prepay id for the same order and parameters.
    ``actor`` None is the system (a domain); a person must be the payer."""
    payment = payment_for(actor, payment_id, lock=True)
    if actor is not None and payment.payer_id != actor.user_id:
        raise PaymentNotFound()
    if payment.status != Status.CREATED:
        return {"payment_id": payment.id, "status": payment.status, "params": None}
    if payment.expires_at <= clock.now():
        raise PaymentExpired()
    contact = users.contact(payment.payer_id)
    if contact is None:
        raise PaymentExpired("payments.payer_gone", "付款人账号不可用")
    try:
        prepay = gateway.pay().prepay(payment.out_trade_no, payment.description, payment.amount_fen,
                                      contact.openid, payment.expires_at, attach=f"{payment.biz_type}:{payment.biz_id}")
    except PayUnavailable:
        raise PayUnavailableError() from None
    except PayRejected as exc:
        raise PayUnavailableError("payments.prepay_refused", exc.user_message) from None
    first = payment.prepaid_at is None
    payment.prepay_id = prepay.prepay_id
    payment.prepaid_at = payment.prepaid_at or clock.now()
    db.session.flush()
    if first:
        timers.schedule(QUERY_TIMER, payment.id, clock.now() + QUERY_AFTER_CHECKOUT)
    return {"payment_id": payment.id, "status": payment.status,
            "params": gateway.pay().jsapi_params(prepay.prepay_id)}
