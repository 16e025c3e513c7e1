"""What the meetings domain tells people: the WeChat subscription-message templates, the
mini-program links the messages open, and what the messages share (the meeting's data, when and
where in words, a series in words, the invitation itself).

A message to many people (invitations, reminders, changes, cancellations) is one ``notify_many``
call: a few statements per thousand recipients, each recipient's key ``<prefix>:<user id>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.core import clock
from app.meetings.models import Meeting, MeetingSeries
from app.notifications import service as notifications
from app.notifications import templates
from app.notifications.templates import TemplateSpec

DETAIL_LINK = "/packageMeetings/pages/detail/detail?id={id}"
REPORT_LINK = "/packageMeetings/pages/report/report?id={id}"
LEAVES_LINK = "/packageMeetings/pages/leaves/leaves?meeting={id}"

INVITED = templates.register(TemplateSpec(
    event="meetings.invited", title="会议通知", page="packageMeetings/pages/detail/detail?id={meeting_id}",
    fields={"thing1": "meeting_title", "time2": "starts_at", "thing3": "location"}))
REMINDER = templates.register(TemplateSpec(
    event="meetings.reminder", title="会议开始提醒", page="packageMeetings/pages/detail/detail?id={meeting_id}",
    fields={"thing1": "meeting_title", "time2": "starts_at", "thing3": "location"}))
ABSENT = templates.register(TemplateSpec(
    event="meetings.absent", title="会议签到提醒", page="packageMeetings/pages/detail/detail?id={meeting_id}",
    fields={"thing1": "meeting_title", "time2": "starts_at", "thing3": "hint"}))
CHANGED = templates.register(TemplateSpec(
    event="meetings.changed", title="会议变更通知", page="packageMeetings/pages/detail/detail?id={meeting_id}",
    fields={"thing1": "meeting_title", "time2": "starts_at", "thing3": "location", "phrase4": "state"}))
SUMMARY = templates.register(TemplateSpec(
    event="meetings.summary", title="会议签到结果", page="packageMeetings/pages/report/report?id={meeting_id}",
    fields={"thing1": "meeting_title", "thing2": "figures", "time3": "starts_at"}))
LEAVE_REQUESTED = templates.register(TemplateSpec(
    event="meetings.leave_requested", title="请假审批提醒",
    page="packageMeetings/pages/leaves/leaves?meeting={meeting_id}",
    fields={"thing1": "meeting_title", "name2": "requester", "thing3": "reason"}))
LEAVE_DECIDED = templates.register(TemplateSpec(
    event="meetings.leave_decided", title="请假审批结果", page="packageMeetings/pages/detail/detail?id={meeting_id}",
    fields={"thing1": "meeting_title", "phrase2": "state", "thing3": "note"}))

_WEEKDAYS = "一二三四五六日"


def message_data(meeting: Meeting, **extra: Any) -> dict[str, Any]:
    return {"meeting_id": meeting.id, "meeting_title": meeting.title, "starts_at": meeting.starts_at.isoformat(),
            "location": meeting.location, **extra}


def when_text(meeting: Meeting) -> str:
    start, end = clock.to_local(meeting.starts_at), clock.to_local(meeting.ends_at)
    return f"{start.month}月{start.day}日 {start:%H:%M}-{end:%H:%M}"


def series_text(series: MeetingSeries) -> str:
    start = clock.to_local(series.first_starts_at)
    every = "每周" if series.interval_weeks == 1 else f"每{series.interval_weeks}周"
    return f"{every}{_WEEKDAYS[start.weekday()]} {start:%H:%M}，{start.month}月{start.day}日起"


def notify_invited(meeting: Meeting, user_ids: Iterable[int], *, series: MeetingSeries | None = None) -> None:
    when = series_text(series) if series is not None else when_text(meeting)
    key = f"series:{series.id}" if series is not None else f"meeting:{meeting.id}"
    notifications.notify_many(
        user_ids=user_ids, event=INVITED.event, title=f"会议通知：{meeting.title}",
        body=f"{when}，{meeting.location}", data=message_data(meeting),
        link=DETAIL_LINK.format(id=meeting.id), idempotency_key=f"meetings.invited:{key}")
