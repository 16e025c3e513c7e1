"""The inbox (one row per message) and the outbox (one delivery per push channel)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import clock
from app.core.db import Base, IdMixin, TimestampMixin


class Notification(IdMixin, Base):
    """A message to one user: what the inbox shows, and what the push channels send."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "id", postgresql_where=text("read_at IS NULL")),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300), doc="mini-program page the message opens")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="notification")


class Delivery(IdMixin, TimestampMixin, Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'skipped', 'failed', 'dead')", name="status"),
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
        # delivery_counts(since=…): the deliveries of a period by status, an index-only scan of that period
        Index("ix_notification_deliveries_created_status", "created_at", "status"),
    )

    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(64))

    notification: Mapped[Notification] = relationship(back_populates="deliveries", lazy="joined")


class SubscriptionGrant(IdMixin, TimestampMixin, Base):
    """How many one-time subscribe-message consents a user has left for a template."""

    __tablename__ = "subscription_grants"
    __table_args__ = (UniqueConstraint("user_id", "template_id"), CheckConstraint("remaining >= 0", name="remaining"))

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    template_id: Mapped[str] = mapped_column(String(64))
    remaining: Mapped[int] = mapped_column(Integer, default=0)
