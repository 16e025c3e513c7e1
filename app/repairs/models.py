"""Repairs: the work order, its photos, deadlines, materials and ratings, and the configuration that
drives them (categories, worker groups, dispatch rules, SLA policies, the working-day calendar).

Denormalised on purpose: ``place_name`` (the full path when reported) and ``building_id`` are copied from
the places domain at submit time, so lists, dispatch rules and statistics need no walk up the places
tree per row; ``due_at`` is the current step's deadline (the earliest unmet level-1 deadline), so the
dispatcher's queue sorts overdue work first with an index instead of a subquery.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import clock
from app.core.db import Base, IdMixin, TimestampMixin
from app.repairs.states import Status, Urgency


class RepairCategory(IdMixin, TimestampMixin, Base):
    """水电, 木工, 空调 … with the icon and colour of its tile in the mini-program."""

    __tablename__ = "repair_categories"

    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(20))
    icon: Mapped[str] = mapped_column(String(16), default="🔧")
    color: Mapped[str] = mapped_column(String(9), default="#8f959e")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class WorkerGroup(IdMixin, TimestampMixin, Base):
    """A team of repair workers (水电班, 木工班 …) that dispatch rules send work to."""

    __tablename__ = "repair_worker_groups"
    __table_args__ = (CheckConstraint("dispatch_mode IN ('auto', 'pool')", name="dispatch_mode"),)

    name: Mapped[str] = mapped_column(String(40), unique=True)
    dispatch_mode: Mapped[str] = mapped_column(String(10), default="auto")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    members: Mapped[list[WorkerGroupMember]] = relationship(
        back_populates="group", lazy="selectin", order_by="WorkerGroupMember.id", cascade="all, delete-orphan")


class WorkerGroupMember(IdMixin, TimestampMixin, Base):
    __tablename__ = "repair_worker_group_members"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    group_id: Mapped[int] = mapped_column(ForeignKey("repair_worker_groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    last_assigned_at: Mapped[datetime | None] = mapped_column(doc="tie-break: the longest idle goes first")

    group: Mapped[WorkerGroup] = relationship(back_populates="members")


class DispatchRule(IdMixin, TimestampMixin, Base):
    """Category × building -> worker group; NULL means "any". The most specific rule wins:
    (category, building) > (category, any) > (any, building) > (any, any)."""

    __tablename__ = "repair_dispatch_rules"
    __table_args__ = (
        Index("uq_repair_dispatch_rules_scope", func.coalesce(text("category_id"), 0),
              func.coalesce(text("building_id"), 0), unique=True),
    )

    category_id: Mapped[int | None] = mapped_column(ForeignKey("repair_categories.id", ondelete="CASCADE"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("repair_worker_groups.id", ondelete="CASCADE"), index=True)


class SlaPolicy(IdMixin, TimestampMixin, Base):
    """Deadlines for one category (NULL: every category without its own) and urgency."""

    __tablename__ = "repair_sla_policies"
    __table_args__ = (
        Index("uq_repair_sla_policies_scope", func.coalesce(text("category_id"), 0), text("urgency"), unique=True),
        CheckConstraint("urgency IN ('normal', 'urgent')", name="urgency"),
    )

    category_id: Mapped[int | None] = mapped_column(ForeignKey("repair_categories.id", ondelete="CASCADE"))
    urgency: Mapped[str] = mapped_column(String(10))
    accept_span: Mapped[str] = mapped_column(String(8))
    arrive_span: Mapped[str] = mapped_column(String(8))
    finish_span: Mapped[str] = mapped_column(String(8))


class CalendarDay(IdMixin, TimestampMixin, Base):
    """An exception to "weekdays work, weekends do not": a holiday on a weekday or a make-up working day."""

    __tablename__ = "repair_calendar_days"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),)

    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(20), default="")


class Material(IdMixin, TimestampMixin, Base):
    """The materials catalogue: what a worker can record as used, at a unit cost in fen."""

    __tablename__ = "repair_materials"
    __table_args__ = (CheckConstraint("unit_cost_fen >= 0", name="unit_cost"),)

    name: Mapped[str] = mapped_column(String(50), unique=True)
    unit: Mapped[str] = mapped_column(String(10))
    unit_cost_fen: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


_STATUSES = ", ".join(f"'{s.value}'" for s in Status)


class Repair(IdMixin, TimestampMixin, Base):
    """A repair report and the work order it becomes."""

    __tablename__ = "repairs"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        CheckConstraint("urgency IN ('normal', 'urgent')", name="urgency"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        Index("ix_repairs_open_place", "place_id", "category_id",
              postgresql_where=text("status IN ('submitted', 'assigned', 'accepted', 'in_progress', 'on_hold')")),
        Index("ix_repairs_assignee_status", "assignee_id", "status"),
        Index("ix_repairs_status_due", "status", "due_at"),
        Index("ix_repairs_reporter", "reporter_id", "id"),
        # the statistics, 月报 and 首页 read a period of created_at: without it they read the whole history
        Index("ix_repairs_created_at", "created_at"),
    )

    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    category_id: Mapped[int] = mapped_column(ForeignKey("repair_categories.id", ondelete="RESTRICT"), index=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"))
    place_name: Mapped[str] = mapped_column(String(200), doc="full path when reported, e.g. 东校区 › 行政楼 › 3F › 301")
    building_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(10), default=Urgency.NORMAL.value)
    contact_phone: Mapped[str] = mapped_column(String(20))
    preferred_time: Mapped[str | None] = mapped_column(String(40))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("repairs.id", ondelete="SET NULL"))

    status: Mapped[str] = mapped_column(String(20), default=Status.SUBMITTED.value)
    step: Mapped[int] = mapped_column(Integer, default=0, doc="counts transitions; keys one notification each")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("repair_worker_groups.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    declined_by: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list, server_default=text("'{}'"))

    sla: Mapped[dict[str, Any]] = mapped_column(default=dict, doc="the spans in force: accept/arrive/finish")
    sla_round: Mapped[int] = mapped_column(Integer, default=1, doc="a reopen starts a new round of deadlines")
    round_started_at: Mapped[datetime] = mapped_column(default=clock.now)
    due_at: Mapped[datetime | None] = mapped_column(doc="the current step's deadline; NULL when nothing is due")

    assigned_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None] = mapped_column(doc="first acceptance (time to accept)")
    started_at: Mapped[datetime | None]
    held_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None] = mapped_column(doc="confirmed or cancelled")

    labour_minutes: Mapped[int | None] = mapped_column(Integer)
    material_cost_fen: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    completion_note: Mapped[str | None] = mapped_column(Text)

    rating: Mapped[int | None] = mapped_column(Integer)
    rating_tags: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list, server_default=text("'{}'"))
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rating_auto: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    rated_at: Mapped[datetime | None]

    category: Mapped[RepairCategory] = relationship(lazy="joined")
    # Loaded when read (the detail page), not on every refresh after a transition.
    photos: Mapped[list[RepairPhoto]] = relationship(back_populates="repair", order_by="RepairPhoto.id")
    materials: Mapped[list[RepairMaterialUse]] = relationship(order_by="RepairMaterialUse.id")

    def overdue_at(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at <= now


class RepairPhoto(IdMixin, Base):
    """A processed (re-encoded, metadata-free) photo. Uploaded first, owned by the uploader and
    unattached; a report or a completion then claims it (``repair_id`` and ``kind``)."""

    __tablename__ = "repair_photos"
    __table_args__ = (
        CheckConstraint("kind IS NULL OR kind IN ('report', 'after')", name="kind"),
        Index("ix_repair_photos_unattached", "created_at", postgresql_where=text("repair_id IS NULL")),
    )

    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    repair_id: Mapped[int | None] = mapped_column(ForeignKey("repairs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str | None] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    thumb_key: Mapped[str | None] = mapped_column(String(200))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    repair: Mapped[Repair | None] = relationship(back_populates="photos")


class RepairMaterialUse(IdMixin, Base):
    """A material a worker used on a repair; name, unit and cost are copied so later price changes do not
    rewrite history."""

    __tablename__ = "repair_material_uses"

    repair_id: Mapped[int] = mapped_column(ForeignKey("repairs.id", ondelete="CASCADE"), index=True)
    material_id: Mapped[int | None] = mapped_column(ForeignKey("repair_materials.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(50))
    unit: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_cost_fen: Mapped[int] = mapped_column(Integer)
    cost_fen: Mapped[int] = mapped_column(Integer)


class RepairDeadline(IdMixin, Base):
    """One deadline of one round: ``kind`` (accept/arrive/finish) at ``level`` 1 (the deadline itself)
    or 2 (the same span again: 督办). ``escalated_at`` is set by a conditional UPDATE, so a timer and the
    sweep racing each other escalate once."""

    __tablename__ = "repair_deadlines"
    __table_args__ = (
        UniqueConstraint("repair_id", "round", "kind", "level"),
        CheckConstraint("kind IN ('accept', 'arrive', 'finish')", name="kind"),
        CheckConstraint("level IN (1, 2)", name="level"),
        Index("ix_repair_deadlines_pending", "due_at",
              postgresql_where=text("met_at IS NULL AND escalated_at IS NULL AND voided_at IS NULL")),
    )

    repair_id: Mapped[int] = mapped_column(ForeignKey("repairs.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    level: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    met_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None] = mapped_column(doc="cancelled repair: this deadline no longer applies")


class RepairFollower(IdMixin, Base):
    """Someone whose report of the same problem was linked to this repair instead of duplicating it:
    they see it and are told its progress."""

    __tablename__ = "repair_followers"
    __table_args__ = (UniqueConstraint("repair_id", "user_id"),)

    repair_id: Mapped[int] = mapped_column(ForeignKey("repairs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
