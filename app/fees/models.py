"""Fee items (what the school charges), bills (one item for one student) and fee orders (several bills
of one student paid as one WeChat payment). Money is integer fen; students are roster ids (``students``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, IdMixin, TimestampMixin
from app.fees.states import BillStatus, OrderStatus


class FeeItem(IdMixin, TimestampMixin, Base):
    """收费项目, e.g. 2026秋 学费 4800 元."""

    __tablename__ = "fee_items"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("category IN ('学费', '住宿费', '教材费', '校服费', '其他')", name="category"),
    )

    name: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(10))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    term: Mapped[str] = mapped_column(String(20))
    due_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, server_default=text("''"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class FeeBill(IdMixin, TimestampMixin, Base):
    """One item billed to one student (issuing the item again changes nothing)."""

    __tablename__ = "fee_bills"
    __table_args__ = (
        UniqueConstraint("item_id", "student_id"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status IN ('unpaid', 'paying', 'paid', 'waived', 'refunded')", name="status"),
        Index("ix_fee_bills_student", "student_id", "id"),
    )

    item_id: Mapped[int] = mapped_column(ForeignKey("fee_items.id", ondelete="RESTRICT"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="RESTRICT"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default=BillStatus.UNPAID)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("fee_orders.id", ondelete="SET NULL"), index=True)
    """The fee order paying it now (``paying``) or that paid it."""
    paid_at: Mapped[datetime | None]
    paid_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    receipt_no: Mapped[str | None] = mapped_column(String(24), unique=True)
    refund_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    """The payments refund giving this bill's money back (finance asked for it)."""
    note: Mapped[str | None] = mapped_column(String(200))
    """Why it was waived or adjusted last (the audit log has every change)."""

    item: Mapped[FeeItem] = relationship(lazy="joined")


class FeeOrder(IdMixin, TimestampMixin, Base):
    """Several unpaid bills of one student, paid by ``payer_id`` as one payment (``fees.order``)."""

    __tablename__ = "fee_orders"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status IN ('open', 'paid', 'closed')", name="status"),
    )

    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="RESTRICT"), index=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default=OrderStatus.OPEN)
    bill_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    """The bills it pays, in id order (a double tap with the same set finds this order again)."""
    payment_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    transaction_id: Mapped[str | None] = mapped_column(String(32))
    paid_at: Mapped[datetime | None]
