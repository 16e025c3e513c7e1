"""Timers: the reminder before a meeting starts, the absentee reminder, the organiser's summary.

* **Timers** (reminder before start, absentee reminder at start + 10 min, organiser's summary after
  check-in closes) are RQ scheduled jobs set after commit; each claims its ``*_sent_at`` column with
  a conditional UPDATE that also re-checks the meeting's times, so a moved meeting's old timer does
  nothing, and a periodic sweep (``catch_up``) sends what a lost timer missed (only if it fell due
  within ``SWEEP_LOOKBACK_HOURS``). A reminder that would fall before creation is skipped: the
  invitation itself has just told people.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, select, update

from app.core import clock
from app.core.db import db
from app.core.jobs import schedule_after_commit
from app.meetings import events
from app.meetings.models import Invitation, LeaveRequest, Meeting
from app.meetings.service.attendance_report import counts
from app.meetings.service.notices import ABSENT, DETAIL_LINK, REMINDER, REPORT_LINK, SUMMARY, message_data, when_text
from app.meetings.states import (
    ABSENTEE_REMINDER_MINUTES,
    OPEN_LEAVE_STATUSES,
    SUMMARY_DELAY_MINUTES,
    SWEEP_LOOKBACK_HOURS,
    MeetingStatus,
)
from app.notifications import service as notifications

REMIND_JOB = "app.meetings.jobs.remind"
ABSENTEE_JOB = "app.meetings.jobs.remind_absentees"
SUMMARY_JOB = "app.meetings.jobs.summarise"
"""By dotted path: the job module imports this one."""


def _lead() -> timedelta:
    return timedelta(minutes=current_app.config["MEETING_REMINDER_MINUTES"])


_TOLERANCE = timedelta(seconds=5)


def arm_timers(meeting: Meeting) -> None:
    now = clock.now()
    remind_at = meeting.starts_at - _lead()
    if remind_at <= now:
        meeting.reminder_sent_at = meeting.reminder_sent_at or now  # the invitation or change notice just went out
    else:
        schedule_after_commit(remind_at, REMIND_JOB, meeting.id)
    schedule_after_commit(max(meeting.starts_at + timedelta(minutes=ABSENTEE_REMINDER_MINUTES), now), ABSENTEE_JOB,
                          meeting.id)
    schedule_after_commit(max(meeting.checkin_closes_at + timedelta(minutes=SUMMARY_DELAY_MINUTES), now),
                          SUMMARY_JOB, meeting.id)


def due_reminders(now: datetime):
    return and_(Meeting.status == str(MeetingStatus.SCHEDULED), Meeting.reminder_sent_at.is_(None),
                Meeting.starts_at <= now + _lead() + _TOLERANCE, Meeting.starts_at > now)


def due_absentees(now: datetime):
    after = timedelta(minutes=ABSENTEE_REMINDER_MINUTES)
    return and_(Meeting.status == str(MeetingStatus.SCHEDULED), Meeting.absentee_sent_at.is_(None),
                Meeting.starts_at <= now - after + _TOLERANCE, Meeting.checkin_closes_at > now,
                Meeting.starts_at > now - after - timedelta(hours=SWEEP_LOOKBACK_HOURS))


def due_summaries(now: datetime):
    delay = timedelta(minutes=SUMMARY_DELAY_MINUTES)
    return and_(Meeting.status == str(MeetingStatus.SCHEDULED), Meeting.summary_sent_at.is_(None),
                Meeting.checkin_closes_at <= now - delay + _TOLERANCE,
                Meeting.checkin_closes_at > now - delay - timedelta(hours=SWEEP_LOOKBACK_HOURS))


def _claim(meeting_id: int, column, due) -> Meeting | None:
    """Mark the timer done if it is due now (re-checked against the meeting as it is now)."""
    now = clock.now()
    claimed = db.session.execute(update(Meeting).where(Meeting.id == meeting_id, due(now))
                                 .values({column: now}).returning(Meeting.id)).scalar_one_or_none()
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
    meeting = _claim(meeting_id, Meeting.reminder_sent_at, due_reminders)
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
    meeting = _claim(meeting_id, Meeting.absentee_sent_at, due_absentees)
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
    meeting = _claim(meeting_id, Meeting.summary_sent_at, due_summaries)
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
