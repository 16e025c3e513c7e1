"""Locker tables: banks (a controller device at a place), compartments (units of ``app.core.allocation``:
``holder_key`` is the parcel holding one) and parcels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, TimestampMixin


class LockerBank(IdMixin, TimestampMixin, Base):
    __tablename__ = "locker_banks"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="RESTRICT"), unique=True)


class LockerCompartment(IdMixin, TimestampMixin, Base):
    __tablename__ = "locker_compartments"
    __table_args__ = (
        UniqueConstraint("bank_id", "label"),
        CheckConstraint("size IN ('S', 'M', 'L')", name="size"),
        CheckConstraint("status IN ('free', 'reserved', 'occupied', 'out_of_service')", name="status"),
        Index("ix_locker_compartments_free", "bank_id", "size", postgresql_where=text("holder_key IS NULL")),
    )

    bank_id: Mapped[int] = mapped_column(ForeignKey("locker_banks.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(10))  # what the controller calls it: A01 …
    size: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(20), default="free", server_default="free")
    holder_key: Mapped[str | None] = mapped_column(String(60), unique=True)


class Parcel(IdMixin, TimestampMixin, Base):
    __tablename__ = "parcels"
    __table_args__ = (
        Index("uq_parcels_open_tracking_no", "tracking_no", unique=True,
              postgresql_where=text("status IN ('depositing', 'stored', 'to_return')")),
        Index("uq_parcels_stored_pickup_code", "pickup_code", unique=True,
              postgresql_where=text("status = 'stored'")),
        Index("ix_parcels_recipient", "recipient_id", "id"),
        Index("ix_parcels_stored_slot", "pickup_slot_at", postgresql_where=text("status = 'stored'")),
        CheckConstraint("status IN ('depositing', 'stored', 'picked_up', 'to_return', 'returned')", name="status"),
        CheckConstraint("storage IN ('locker', 'counter')", name="storage"),
        CheckConstraint("fee_paid_fen >= 0", name="fee_paid_not_negative"),
    )

    tracking_no: Mapped[str] = mapped_column(String(40))
    bank_id: Mapped[int] = mapped_column(ForeignKey("locker_banks.id", ondelete="RESTRICT"), index=True)
    compartment_id: Mapped[int | None] = mapped_column(ForeignKey("locker_compartments.id", ondelete="SET NULL"))
    size: Mapped[str] = mapped_column(String(1))
    storage: Mapped[str] = mapped_column(String(10), default="locker")
    shelf_code: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    courier_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    proxy_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    pickup_code: Mapped[str | None] = mapped_column(String(8))
    door_txn: Mapped[str | None] = mapped_column(String(60), unique=True)
    """The door transaction under way (deposit or pickup): the controller's events name it."""
    door_purpose: Mapped[str | None] = mapped_column(String(10))  # deposit | pickup | return
    door_attempts: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    stored_at: Mapped[datetime | None]
    picked_up_at: Mapped[datetime | None]
    picked_up_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reminded_at: Mapped[datetime | None]
    fee_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    returned_at: Mapped[datetime | None]
    pickup_slot_at: Mapped[datetime | None]
    """The start of the half-hour pickup slot the stored message suggested (``service.slots``)."""
