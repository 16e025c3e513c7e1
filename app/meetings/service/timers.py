"""Timers: the reminder before a meeting starts, the absentee reminder, the organiser's summary.

* **Three timers of ``app.core.timers``** per meeting (kinds ``meetings.reminder``,
  ``meetings.absentees``, ``meetings.summary``, subject the meeting's id), scheduled when the meeting
  is created or its times change (scheduling again moves a timer) and cancelled with the meeting.
  Their handlers (``app.meetings.jobs``, registered in ``create_app``) are the ``send_*`` below. A
  lost job is fired by the timers' sweep, which the meetings sweep (``catch_up``) also runs for these
  kinds.
* **A handler decides from the meeting as it is now**: it sends only if the meeting is still
  scheduled, the message is due by the meeting's current times, still makes sense (a reminder before
  the start, an absentee reminder while check-in is open) and is not stale (it fell due within
  ``SWEEP_LOOKBACK_HOURS``: no reminders for last week's meeting after a long outage); and it records
  the sending in the meeting's ``*_sent_at`` column with the same conditional UPDATE, so a message
  goes out once however often its handler runs. A reminder that would fall before creation is
  skipped: the invitation itself has just told people.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, select, update

from app.core import clock
from app.core import timers as core_timers
from app.core.db import db
from app.meetings import events
from app.meetings.models import Invitation, LeaveRequest, Meeting
from app.meetings.service.attendance_report import counts
from app.meetings.service.notices import ABSENT, DETAIL_LINK, REMINDER, REPORT_LINK, SUMMARY, message_data, when_text
from app.meetings.states import (
    ABSENTEE_REMINDER_MINUTES,
    ABSENTEES_TIMER,
    OPEN_LEAVE_STATUSES,
    REMINDER_TIMER,
    SUMMARY_DELAY_MINUTES,
    SUMMARY_TIMER,
    SWEEP_LOOKBACK_HOURS,
    TIMER_KINDS,
    MeetingStatus,
)
from app.notifications import service as notifications

_SENT = {REMINDER_TIMER: "reminder_sent_at", ABSENTEES_TIMER: "absentee_sent_at", SUMMARY_TIMER: "summary_sent_at"}
"""The column that records that a timer's message went out."""


def _lead() -> timedelta:
    return timedelta(minutes=current_app.config["MEETING_REMINDER_MINUTES"])


def due_at(kind: str, meeting: Any) -> Any:
    """When ``kind`` falls due for ``meeting``: a datetime for a ``Meeting`` row, the same rule as an SQL
    expression when given the ``Meeting`` class (the handlers' re-check)."""
    if kind == REMINDER_TIMER:
        return meeting.starts_at - _lead()
    if kind == ABSENTEES_TIMER:
        return meeting.starts_at + timedelta(minutes=ABSENTEE_REMINDER_MINUTES)
    return meeting.checkin_closes_at + timedelta(minutes=SUMMARY_DELAY_MINUTES)


def arm_timers(meeting: Meeting) -> None:
    """Schedule (or move) the meeting's timers by its current times."""
    now = clock.now()
    for kind in TIMER_KINDS:
        due = due_at(kind, meeting)
        if kind == REMINDER_TIMER and due <= now:
            meeting.reminder_sent_at = meeting.reminder_sent_at or now  # the invitation or change notice just went out
            core_timers.cancel(kind, meeting.id)
        else:
            core_timers.schedule(kind, meeting.id, max(due, now))


def disarm_timers(meeting: Meeting) -> None:
    for kind in TIMER_KINDS:
        core_timers.cancel(kind, meeting.id)


def _still_due(kind: str, now: datetime) -> ColumnElement[bool]:
    """The meeting as it is now wants ``kind``'s message now (see the module docstring)."""
    due = due_at(kind, Meeting)
    conditions = [Meeting.status == str(MeetingStatus.SCHEDULED), getattr(Meeting, _SENT[kind]).is_(None),
                  due <= now + core_timers.TOLERANCE, due > now - timedelta(hours=SWEEP_LOOKBACK_HOURS)]
    if kind == REMINDER_TIMER:
        conditions.append(Meeting.starts_at > now)
    elif kind == ABSENTEES_TIMER:
        conditions.append(Meeting.checkin_closes_at > now)
    return and_(*conditions)


def _claim(kind: str, meeting_id: int) -> Meeting | None:
    """The meeting, its ``kind`` message marked sent, if that message is due now; else None."""
    now = clock.now()
    claimed = db.session.execute(update(Meeting).where(Meeting.id == meeting_id, _still_due(kind, now))
                                 .values({_SENT[kind]: now}).returning(Meeting.id)).scalar_one_or_none()
    return db.session.get(Meeting, claimed) if claimed is not None else None


def still_expected(meeting_id: int) -> list[int]:
    """The invitees not in yet who have neither been excused nor asked for leave (who a reminder is for)."""
    on_leave = select(LeaveRequest.user_id).where(LeaveRequest.meeting_id == meeting_id,
                                                  LeaveRequest.status.in_([str(s) for s in OPEN_LEAVE_STATUSES]))
    return list(db.session.scalars(select(Invitation.user_id).where(
        Invitation.meeting_id == meeting_id, Invitation.checked_in_at.is_(None), Invitation.excused.is_(False),
        Invitation.user_id.not_in(on_leave))))


def send_reminder(meeting_id: int) -> int:
    """Before start: remind invitees who are not in yet and have not asked for leave. Returns how many."""
    meeting = _claim(REMINDER_TIMER, meeting_id)
    if meeting is None:
        return 0
    user_ids = still_expected(meeting.id)
    notifications.notify_many(
        user_ids=user_ids, event=REMINDER.event, title=f"会议即将开始：{meeting.title}",
        body=f"{when_text(meeting)}，{meeting.location}。到场后请扫码签到",
        data=message_data(meeting), link=DETAIL_LINK.format(id=meeting.id),
        idempotency_key=f"meetings.reminder:{meeting.id}:{int(meeting.starts_at.timestamp())}")
    return len(user_ids)


def send_absentee_reminder(meeting_id: int) -> int:
    """At start + 10 min: those not yet in (and not on leave) are told, urgently (no quiet hours)."""
    meeting = _claim(ABSENTEES_TIMER, meeting_id)
    if meeting is None:
        return 0
    user_ids = still_expected(meeting.id)
    notifications.notify_many(
        user_ids=user_ids, event=ABSENT.event, title=f"你还未签到：{meeting.title}",
        body=f"会议已于 {clock.to_local(meeting.starts_at):%H:%M} 开始（{meeting.location}），请尽快到场扫码签到",
        data=message_data(meeting, hint="会议已开始，请尽快签到"), link=DETAIL_LINK.format(id=meeting.id),
        urgency="urgent", idempotency_key=f"meetings.absent:{meeting.id}:{int(meeting.starts_at.timestamp())}")
    return len(user_ids)


def send_summary(meeting_id: int) -> bool:
    """After check-in closes: the organiser gets the figures."""
    meeting = _claim(SUMMARY_TIMER, meeting_id)
    if meeting is None:
        return False
    c = counts(meeting.id)
    body = f"应到{c['invited']} 实到{c['checked_in']} 迟到{c['late']} 请假{c['excused']} 缺席{c['absent']}"
    short = f"实到{c['checked_in']}/{c['invited']} 迟到{c['late']} 请假{c['excused']}"  # a `thing` holds 20
    notifications.notify(
        user_id=meeting.organiser_id, event=SUMMARY.event, title=f"签到结果：{meeting.title}", body=body,
        data=message_data(meeting, figures=short, **c), link=REPORT_LINK.format(id=meeting.id),
        idempotency_key=f"meetings.summary:{meeting.id}:{int(meeting.checkin_closes_at.timestamp())}")
    events.meeting_closed.send(meeting.id, **c)
    return True
