from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, TimestampMixin


class Place(IdMixin, TimestampMixin, Base):
    __tablename__ = "places"
    __table_args__ = (CheckConstraint("kind IN ('campus', 'building', 'floor', 'room')", name="kind"),)

    parent_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def scene(self) -> str:
        """The mini-program code's ``scene`` (≤ 32 characters)."""
        return f"p={self.code}"
