"""The device registry: one row per controller on site."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, TimestampMixin


class Device(IdMixin, TimestampMixin, Base):
    """A controller: ``code`` is the id it signs with, ``secret`` the HMAC key both sides hold (the
    server must sign with it too, so it is kept, not hashed), ``base_url`` where our server reaches it."""

    __tablename__ = "devices"

    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # locker (gate, door_lock, meter …)
    name: Mapped[str] = mapped_column(String(80), default="")
    secret: Mapped[str] = mapped_column(String(128))
    base_url: Mapped[str] = mapped_column(String(300))
    last_heartbeat_at: Mapped[datetime | None]
