"""Canteen tables: canteens and their windows (stalls), dishes, daily menus with their items (each
item's portions are an ``app.core.allocation`` stock), orders and their lines.

Prices are integer fen per price group (``MenuItem.prices``: ``{"staff": 800, "student": 1000,
"external": 1500}``) — data, so the subsidy changes without a release. An order copies its unit
prices: a later price change never changes what someone paid.
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
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.canteen.states import CLOSING_NOTICE_BEFORE, Status
from app.core.db import Base, IdMixin, TimestampMixin


class Canteen(IdMixin, TimestampMixin, Base):
    __tablename__ = "canteens"

    name: Mapped[str] = mapped_column(String(40), unique=True)
    location: Mapped[str] = mapped_column(String(80), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class CanteenWindow(IdMixin, TimestampMixin, Base):
    """A window (stall) of a canteen: where a dish is cooked and handed out."""

    __tablename__ = "canteen_windows"
    __table_args__ = (UniqueConstraint("canteen_id", "name"),)

    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteens.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Dish(IdMixin, TimestampMixin, Base):
    __tablename__ = "canteen_dishes"
    __table_args__ = (CheckConstraint("price_fen >= 0", name="price_not_negative"),)

    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteens.id", ondelete="CASCADE"), index=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("canteen_windows.id"))
    name: Mapped[str] = mapped_column(String(40))
    price_fen: Mapped[int] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    allergens: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    photo_key: Mapped[str | None] = mapped_column(String(200))
    """The dish's photo in ``app.core.storage`` (a re-encoded JPEG); None: no photo."""
    photo_thumb_key: Mapped[str | None] = mapped_column(String(200))
    """Its thumbnail for the menu list, made by a job after the upload; None until then."""


class Menu(IdMixin, TimestampMixin, Base):
    """One canteen's menu for one meal of one day, with its cut-off, cancellation deadline and pickup window."""

    __tablename__ = "canteen_menus"
    __table_args__ = (
        UniqueConstraint("canteen_id", "day", "meal"),
        CheckConstraint("meal IN ('breakfast', 'lunch', 'dinner')", name="meal"),
        CheckConstraint("pickup_from < pickup_until", name="pickup_window"),
        CheckConstraint("cancel_until <= orders_close_at", name="cancel_before_close"),
    )

    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteens.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(10))
    max_per_order: Mapped[int] = mapped_column(Integer, default=5)
    orders_close_at: Mapped[datetime]
    cancel_until: Mapped[datetime]
    pickup_from: Mapped[datetime]
    pickup_until: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def closing_notice_at(self) -> datetime:
        """When "取餐即将结束" goes out: 15 minutes before the window ends (never before it opens)."""
        return max(self.pickup_from, self.pickup_until - CLOSING_NOTICE_BEFORE)


class MenuItem(IdMixin, Base):
    """A dish on a menu: its portions (``stock_id``: an allocation stock), a cap per person and prices."""

    __tablename__ = "canteen_menu_items"
    __table_args__ = (UniqueConstraint("menu_id", "dish_id"),
                      CheckConstraint("max_per_person > 0", name="cap_positive"))

    menu_id: Mapped[int] = mapped_column(ForeignKey("canteen_menus.id", ondelete="CASCADE"), index=True)
    dish_id: Mapped[int] = mapped_column(ForeignKey("canteen_dishes.id"))
    window_id: Mapped[int] = mapped_column(ForeignKey("canteen_windows.id"))
    stock_id: Mapped[int] = mapped_column(ForeignKey("allocation_stocks.id"))
    max_per_person: Mapped[int] = mapped_column(Integer, default=2)
    prices: Mapped[dict[str, Any]]


class Order(IdMixin, TimestampMixin, Base):
    __tablename__ = "canteen_orders"
    __table_args__ = (
        UniqueConstraint("user_id", "request_id"),
        Index("uq_canteen_orders_open_code", "canteen_id", "pickup_code", unique=True,
              postgresql_where=text("status = 'paid'")),
        Index("ix_canteen_orders_user", "user_id", "id"),
        Index("ix_canteen_orders_menu", "menu_id", "status"),
        CheckConstraint("total_fen > 0", name="total_positive"),
    )

    user_id: Mapped[int] = mapped_column(BigInteger)
    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteens.id"))
    menu_id: Mapped[int] = mapped_column(ForeignKey("canteen_menus.id"))
    request_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=Status.PENDING_PAYMENT)
    price_group: Mapped[str] = mapped_column(String(10))
    total_fen: Mapped[int] = mapped_column(Integer)
    payment_id: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]
    pickup_code: Mapped[str | None] = mapped_column(String(8))
    qr_token: Mapped[str | None] = mapped_column(String(40), unique=True)
    paid_at: Mapped[datetime | None]
    picked_up_at: Mapped[datetime | None]
    picked_up_by: Mapped[int | None] = mapped_column(BigInteger)
    cancelled_at: Mapped[datetime | None]
    department_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """A department order (订餐员 for colleagues): billed to this department, no WeChat payment."""
    headcount: Mapped[int | None] = mapped_column(Integer)


class DepartmentOrderer(IdMixin, TimestampMixin, Base):
    """A staff member named 订餐员 of their department by canteen staff or an admin: orders for
    colleagues (billed to the department) and reads the department's monthly statements."""

    __tablename__ = "canteen_department_orderers"
    __table_args__ = (UniqueConstraint("department_id", "user_id"),)

    department_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    named_by: Mapped[int | None] = mapped_column(BigInteger)


class OrderLine(IdMixin, Base):
    __tablename__ = "canteen_order_lines"
    __table_args__ = (UniqueConstraint("order_id", "menu_item_id"),
                      CheckConstraint("quantity > 0", name="quantity_positive"))

    order_id: Mapped[int] = mapped_column(ForeignKey("canteen_orders.id", ondelete="CASCADE"))
    menu_item_id: Mapped[int] = mapped_column(ForeignKey("canteen_menu_items.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(Integer)
    allocation_key: Mapped[str] = mapped_column(String(120))
