"""What WeChat Pay v3 answers, as typed records: integer fen, UTC-aware times, WeChat's state names.

The parsers take WeChat's JSON (an answer, or a notification's decrypted ``resource``) and raise
``KeyError``/``TypeError``/``ValueError`` on a document that lacks what the record needs; the provider
turns those into its own errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

CHINA = timezone(timedelta(hours=8))
"""WeChat Pay writes every time as RFC 3339 in +08:00."""

TRADE_STATES = ("SUCCESS", "REFUND", "NOTPAY", "CLOSED", "REVOKED", "USERPAYING", "PAYERROR")
PAID_TRADE_STATES = frozenset({"SUCCESS", "REFUND"})
"""``REFUND`` is a paid order with a refund under way or done (WeChat's 转入退款)."""
REFUND_STATUSES = ("SUCCESS", "PROCESSING", "ABNORMAL", "CLOSED")

OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_*-]{6,32}")
"""Our order numbers: WeChat allows ``|`` too, but wechatpayv3 puts the number into the URL unquoted and
signs it so, while requests sends ``|`` percent-encoded: WeChat would check another URL (SIGN_ERROR)."""
OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_*@-]{1,64}")


def rfc3339(moment: datetime) -> str:
    """``2026-10-14T10:30:00+08:00``: an aware time as WeChat Pay wants it."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: WeChat Pay times must be aware")
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def parse_time(value: Any) -> datetime | None:
    """A WeChat RFC 3339 time as a UTC-aware datetime; ``None`` for an absent or empty one."""
    if value in (None, ""):
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset: {value!r}")
    return moment.astimezone(UTC)


def _fen(value: Any) -> int:
    if type(value) is not int:  # bool is an int; JSON 1.0 is not a fen amount
        raise TypeError(f"amount is not an integer: {value!r}")
    return value


def _optional_fen(value: Any) -> int | None:
    return None if value is None else _fen(value)


@dataclass(frozen=True)
class Prepay:
    """A JSAPI prepay: hand ``prepay_id`` to ``jsapi_params`` for ``wx.requestPayment``."""

    prepay_id: str
    out_trade_no: str
    expires_at: datetime


@dataclass(frozen=True)
class TradeState:
    """An order as WeChat Pay sees it: the answer of a query, the resource of TRANSACTION.SUCCESS.

    ``state`` is one of ``TRADE_STATES``; ``amount_fen`` is the order's total, ``payer_total_fen``
    what the payer paid (``None`` before payment); ``transaction_id``, ``payer_openid`` and
    ``success_time`` exist once paid.
    """

    out_trade_no: str
    state: str
    state_desc: str
    amount_fen: int
    payer_total_fen: int | None
    currency: str
    transaction_id: str | None
    payer_openid: str | None
    success_time: datetime | None
    attach: str | None
    mchid: str
    appid: str
    trade_type: str | None

    @property
    def paid(self) -> bool:
        return self.state in PAID_TRADE_STATES


def trade_state_from(doc: Mapping[str, Any]) -> TradeState:
    amount = doc["amount"]
    return TradeState(
        out_trade_no=str(doc["out_trade_no"]),
        state=str(doc["trade_state"]),
        state_desc=str(doc.get("trade_state_desc", "")),
        amount_fen=_fen(amount["total"]),
        payer_total_fen=_optional_fen(amount.get("payer_total")),
        currency=str(amount.get("currency") or amount.get("payer_currency") or "CNY"),
        transaction_id=doc.get("transaction_id") or None,
        payer_openid=(doc.get("payer") or {}).get("openid") or None,
        success_time=parse_time(doc.get("success_time")),
        attach=doc.get("attach") or None,
        mchid=str(doc["mchid"]),
        appid=str(doc.get("appid", "")),
        trade_type=doc.get("trade_type") or None,
    )


@dataclass(frozen=True)
class Refund:
    """A refund: the answer of create and query, the resource of REFUND.* notifications.

    ``status`` is one of ``REFUND_STATUSES`` (queries say ``status``, notifications ``refund_status``).
    """

    out_refund_no: str
    refund_id: str
    out_trade_no: str
    transaction_id: str
    status: str
    refund_fen: int
    total_fen: int
    payer_refund_fen: int | None
    success_time: datetime | None
    create_time: datetime | None
    user_received_account: str | None
    channel: str | None
    mchid: str | None


def refund_from(doc: Mapping[str, Any]) -> Refund:
    amount = doc["amount"]
    return Refund(
        out_refund_no=str(doc["out_refund_no"]),
        refund_id=str(doc["refund_id"]),
        out_trade_no=str(doc["out_trade_no"]),
        transaction_id=str(doc["transaction_id"]),
        status=str(doc["status"] if "status" in doc else doc["refund_status"]),
        refund_fen=_fen(amount["refund"]),
        total_fen=_fen(amount["total"]),
        payer_refund_fen=_optional_fen(amount.get("payer_refund")),
        success_time=parse_time(doc.get("success_time")),
        create_time=parse_time(doc.get("create_time")),
        user_received_account=doc.get("user_received_account") or None,
        channel=doc.get("channel") or None,
        mchid=doc.get("mchid") or None,
    )


@dataclass(frozen=True)
class Notification:
    """A verified, decrypted notification: ``event_type`` is ``TRANSACTION.SUCCESS``, ``REFUND.SUCCESS``,
    ``REFUND.ABNORMAL`` or ``REFUND.CLOSED``; ``id`` is the same on every retry of one notification."""

    id: str
    event_type: str
    create_time: datetime | None
    summary: str
    resource: TradeState | Refund
