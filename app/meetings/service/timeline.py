"""A meeting's timeline: the check-in window its times give (opens, turns late, closes), the phase
it is in now, the refusal to change a meeting that has ended and to make one that ends in the past.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core import clock
from app.core.errors import Conflict, ValidationFailed
from app.meetings.models import Meeting
from app.meetings.states import MeetingStatus


class MeetingEnded(Conflict):
    error_code = "meetings.ended"
    message = "会议已结束，不能再修改"


def require_future_end(ends_at: datetime) -> None:
    """A meeting (a new one, an edit, a series' first occurrence) must end in the future."""
    if ends_at <= clock.now():
        raise ValidationFailed("meetings.in_the_past", "会议结束时间已过", errors={"ends_at": ["会议结束时间已过"]})


@dataclass(frozen=True)
class Window:
    opens: datetime
    late: datetime
    closes: datetime


def window_for(starts_at: datetime, ends_at: datetime, opens_before: int, late_after: int,
               closes_after_end: int) -> Window:
    return Window(opens=starts_at - timedelta(minutes=opens_before),
                  late=starts_at + timedelta(minutes=late_after),
                  closes=ends_at + timedelta(minutes=closes_after_end))


def phase(meeting: Meeting, now: datetime | None = None) -> str:
    now = now or clock.now()
    if meeting.status == MeetingStatus.CANCELLED:
        return "cancelled"
    if now < meeting.checkin_opens_at:
        return "upcoming"
    if now < meeting.starts_at:
        return "open"
    if now < max(meeting.ends_at, meeting.checkin_closes_at):
        return "in_progress"
    return "ended"
