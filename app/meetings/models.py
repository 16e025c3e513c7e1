"""Meetings, their invitees (the attendance rows), every scan, leave requests and recurring series.

* ``Meeting`` stores the check-in window as absolute times (``checkin_opens_at``, ``late_at``,
  ``checkin_closes_at``) computed from the minute offsets the organiser chose, so the check-in hot
  path compares timestamps and reads nothing else.
* ``Invitation`` is one row per invited person, materialised when the meeting is created or edited.
  It is also the *derived* attendance row: ``checked_in_at``, ``late``, ``signed_out_at`` and
  ``excused`` are a projection of the scans and leave decisions, written in the same transaction.
  ``UNIQUE (meeting_id, user_id)`` plus a conditional update (``… WHERE checked_in_at IS NULL``)
  is what makes two simultaneous scans by one person give one check-in.
* ``Scan`` is append-only: every scan, refused ones included, manual check-ins and take-backs by the
  organiser (with their reason). ``UNIQUE (user_id, nonce)`` makes a retried request harmless: the
  retry finds the first answer instead of writing a second row.
* ``name`` and ``department_id`` are copied onto the invitation: an attendance sheet is a record of
  that day (someone who changes department later still counts where they were), and per-department
  figures are a plain GROUP BY without reaching into the users domain's tables.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.db import Base, IdMixin, TimestampMixin


class MeetingSeries(IdMixin, TimestampMixin, Base):
    """A weekly (or every-n-weeks) meeting; occurrences are generated ``SERIES_HORIZON_WEEKS`` ahead."""

    __tablename__ = "meeting_series"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'cancelled')", name="status"),
        CheckConstraint("interval_weeks BETWEEN 1 AND 8", name="interval_weeks"),
    )

    organiser_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    template: Mapped[dict[str, Any]] = mapped_column(doc="the meeting fields every occurrence starts from")
    first_starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer)
    interval_weeks: Mapped[int] = mapped_column(Integer, default=1)
    until: Mapped[date | None] = mapped_column(doc="last possible occurrence date (school time), inclusive")
    status: Mapped[str] = mapped_column(String(10), default="active")
    generated_until: Mapped[datetime | None] = mapped_column(doc="occurrences exist up to this start time")


class Meeting(IdMixin, TimestampMixin, Base):
    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'cancelled')", name="status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("checkin_opens_at <= late_at AND late_at <= checkin_closes_at", name="window"),
        CheckConstraint("NOT allow_static_code OR geofence_radius_m IS NOT NULL", name="static_needs_geofence"),
        UniqueConstraint("series_id", "occurrence_date"),
        Index("ix_meetings_starts_at", "starts_at"),
    )

    code: Mapped[str] = mapped_column(String(12), unique=True, doc="public code: the static QR's scene m=<code>")
    series_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_series.id", ondelete="SET NULL"), index=True)
    occurrence_date: Mapped[date | None]
    detached: Mapped[bool] = mapped_column(Boolean, default=False, doc="edited on its own: series edits skip it")
    organiser_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"))
    location: Mapped[str] = mapped_column(String(120), default="", doc="the place's full name, or free text")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    opens_before_minutes: Mapped[int] = mapped_column(Integer, default=30)
    late_after_minutes: Mapped[int] = mapped_column(Integer, default=5)
    closes_after_end_minutes: Mapped[int] = mapped_column(Integer, default=0)
    checkin_opens_at: Mapped[datetime]
    late_at: Mapped[datetime] = mapped_column(doc="a check-in strictly after this is late")
    checkin_closes_at: Mapped[datetime]
    geofence_lat: Mapped[float | None] = mapped_column(Float)
    geofence_lng: Mapped[float | None] = mapped_column(Float)
    geofence_radius_m: Mapped[int | None] = mapped_column(Integer)
    allow_static_code: Mapped[bool] = mapped_column(Boolean, default=False)
    projector_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                                 doc="projector links carry it; revoking them adds one")
    sign_out_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict, doc="who is invited, as the organiser said it")
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    reminder_sent_at: Mapped[datetime | None]
    absentee_sent_at: Mapped[datetime | None]
    summary_sent_at: Mapped[datetime | None]

    @property
    def has_geofence(self) -> bool:
        return self.geofence_radius_m is not None


class Invitation(IdMixin, Base):
    """One invitee of one meeting, and their attendance (derived from the scans)."""

    __tablename__ = "meeting_invitations"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id"),
        CheckConstraint("check_in_via IS NULL OR check_in_via IN ('rotating', 'static', 'manual')", name="via"),
    )

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    number: Mapped[str | None] = mapped_column(String(32), doc="工号 / 学号, for the export")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    checked_in_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    check_in_via: Mapped[str | None] = mapped_column(String(10))
    signed_out_at: Mapped[datetime | None]
    excused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Scan(IdMixin, Base):
    """Append-only: one row per scan or manual action, whatever its result."""

    __tablename__ = "meeting_scans"
    __table_args__ = (
        UniqueConstraint("user_id", "nonce"),
        CheckConstraint("result IN ('ok', 'error')", name="result"),
        CheckConstraint("action IN ('check_in', 'sign_out', 'undo')", name="action"),
        Index("ix_meeting_scans_meeting", "meeting_id", "id"),
    )

    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(10))
    via: Mapped[str] = mapped_column(String(10))
    result: Mapped[str] = mapped_column(String(5))
    reason: Mapped[str | None] = mapped_column(String(24))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    device: Mapped[dict[str, Any] | None] = mapped_column(doc="what the mini-program reports of the phone")
    ip: Mapped[str | None] = mapped_column(String(45))
    recorded_by: Mapped[int | None] = mapped_column(doc="the organiser, for manual rows")
    note: Mapped[str | None] = mapped_column(String(200), doc="the organiser's reason, for manual rows")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class LeaveRequest(IdMixin, TimestampMixin, Base):
    """请假: an invitee asks, the organiser decides; approved counts as excused."""

    __tablename__ = "meeting_leave_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')", name="status"),
        Index("uq_meeting_leave_requests_open", "meeting_id", "user_id", unique=True,
              postgresql_where=text("status IN ('pending', 'approved')")),
    )

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by: Mapped[int | None]
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(200))
