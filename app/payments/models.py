"""Payments, WeChat's notifications as received, refunds, the append-only ledger and the alerts finance
works through.

Money is integer fen. ``Payment.refunded_fen`` is what refunds have given back (succeeded); the ledger
holds one row per paid payment (+amount) and one per succeeded refund (−amount), unique per source, and
a trigger refuses to change or delete a row: the sum of the ledger is what the school holds.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.db import Base, IdMixin, TimestampMixin
from app.payments.states import RefundStatus, Status


class Payment(IdMixin, TimestampMixin, Base):
    """One attempt to collect ``amount_fen`` from ``payer_id`` for a domain's object ``(biz_type, biz_id)``.
    At most one payment per object is open (``created``): two requests at once get the same one."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refunded_within_amount"),
        Index("uq_payments_open_biz", "biz_type", "biz_id", unique=True,
              postgresql_where=text("status = 'created'")),
        Index("ix_payments_biz", "biz_type", "biz_id"),
        Index("ix_payments_payer", "payer_id", "id"),
        Index("ix_payments_status", "status", "id"),
    )

    biz_type: Mapped[str] = mapped_column(String(40))
    biz_id: Mapped[int] = mapped_column(BigInteger)
    payer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(127))
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=Status.CREATED)
    expires_at: Mapped[datetime]
    prepay_id: Mapped[str | None] = mapped_column(String(64))
    prepaid_at: Mapped[datetime | None]
    transaction_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    paid_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    synced_at: Mapped[datetime | None] = mapped_column(doc="the last active query to WeChat (rate limit)")


class PayNotification(IdMixin, Base):
    """A verified notification as WeChat sent it (``raw``) and decrypted (``resource``), stored before
    it is answered; ``applied_at`` is set once it has been applied (or found to change nothing)."""

    __tablename__ = "pay_notifications"
    __table_args__ = (Index("ix_pay_notifications_unapplied", "id", postgresql_where=text("applied_at IS NULL")),)

    notification_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    out_trade_no: Mapped[str] = mapped_column(String(32), index=True)
    out_refund_no: Mapped[str | None] = mapped_column(String(64))
    raw: Mapped[str] = mapped_column(Text)
    resource: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
    applied_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(40))


class Refund(IdMixin, TimestampMixin, Base):
    """A refund, stored (with its ``out_refund_no``) before WeChat is asked, so every retry asks for the
    same refund and WeChat never pays back twice."""

    __tablename__ = "payment_refunds"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),
                      Index("ix_payment_refunds_payment", "payment_id", "id"))

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    out_refund_no: Mapped[str] = mapped_column(String(64), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default=RefundStatus.PENDING)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), doc="None: the system")
    refund_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(String(200))
    succeeded_at: Mapped[datetime | None]


class LedgerEntry(IdMixin, Base):
    """Append-only: money in (+, a payment) and out (−, a refund), once per source."""

    __tablename__ = "payment_ledger"
    __table_args__ = (
        UniqueConstraint("kind", "source_id"),
        CheckConstraint("kind IN ('payment', 'refund')", name="kind"),
        CheckConstraint("(kind = 'payment' AND amount_fen > 0) OR (kind = 'refund' AND amount_fen < 0)",
                        name="sign"),
        Index("ix_payment_ledger_payment", "payment_id"),
    )

    kind: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[int] = mapped_column(BigInteger, doc="the payment's id (payment) or the refund's (refund)")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("payment_refunds.id"))
    booked_at: Mapped[datetime] = mapped_column(default=clock.now)


class PaymentAlert(IdMixin, TimestampMixin, Base):
    """Something finance must look at: a notification that disagrees with the order, a late payment
    refunded automatically, a refund WeChat could not complete."""

    __tablename__ = "payment_alerts"
    __table_args__ = (
        UniqueConstraint("kind", "source"),
        Index("ix_payment_alerts_open", "id", postgresql_where=text("NOT resolved")),
    )

    kind: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(80), doc="what raised it (a notification id, a refund): once each")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    details: Mapped[dict[str, Any]]
    resolved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)



class Reconciliation(IdMixin, TimestampMixin, Base):
    """One day's reconciliation with WeChat's trade bill: ``matched``, ``mismatched`` (see its
    mismatches) or ``refused`` (the bill did not match its SHA1: nothing was compared)."""

    __tablename__ = "payment_reconciliations"

    bill_date: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[str] = mapped_column(String(20))
    bill_lines: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    wechat_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    wechat_refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(String(200))


class ReconciliationMismatch(IdMixin, Base):
    """A line of the day's bill that disagrees with our records, or one of ours the bill lacks:
    ``missing_ours`` (WeChat has it, we do not), ``missing_wechat`` (we have it, WeChat does not),
    ``amount_diff``. ``reference`` is the out_trade_no or out_refund_no."""

    __tablename__ = "payment_recon_mismatches"
    __table_args__ = (UniqueConstraint("run_id", "kind", "reference"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("payment_reconciliations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    line_type: Mapped[str] = mapped_column(String(10), doc="payment or refund")
    reference: Mapped[str] = mapped_column(String(64))
    ours_fen: Mapped[int | None] = mapped_column(BigInteger)
    wechat_fen: Mapped[int | None] = mapped_column(BigInteger)
