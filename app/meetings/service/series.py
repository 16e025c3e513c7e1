"""Recurring meetings: an organiser creates a weekly series, edits it or stops it.

* **Series**: a series row holds the template; occurrences are ordinary meetings generated
  ``SERIES_HORIZON_WEEKS`` ahead (the sweep, ``catch_up``, extends the horizon), each editable on
  its own (it is then ``detached`` and series edits leave it alone). One invitation message per
  person for the series, not one per occurrence; reminders go out per occurrence.
* **Stopping** is the series' one transition (``SERIES_TRANSITIONS``: active → cancelled, by its
  organiser or an admin); its future occurrences are cancelled with it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.core import audit, clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.statemachine import StateMachine
from app.meetings.models import Invitation, Meeting, MeetingSeries
from app.meetings.service.access import require_creator, roles_on
from app.meetings.service.meetings import apply, cancel, edit, materialise, new_code, normalise_audience
from app.meetings.service.notices import CHANGED, DETAIL_LINK, message_data, notify_invited, series_text
from app.meetings.service.timeline import phase, require_future_end
from app.meetings.service.timers import arm_timers
from app.meetings.states import (
    MAX_SERIES_OCCURRENCES,
    SERIES_HORIZON_WEEKS,
    SERIES_LABELS,
    SERIES_TRANSITIONS,
    MeetingStatus,
    SeriesStatus,
)
from app.notifications import service as notifications


class SeriesNotFound(NotFound):
    error_code = "meetings.series_not_found"
    message = "周期会议不存在"


series_machine = StateMachine(MeetingSeries, SERIES_TRANSITIONS, entity="meeting_series", labels=SERIES_LABELS)

_TEMPLATE_KEYS = ("title", "description", "place_id", "location", "opens_before_minutes", "late_after_minutes",
                  "closes_after_end_minutes", "geofence", "allow_static_code", "sign_out_enabled", "audience")


def occurrence_starts(series: MeetingSeries, upto: datetime) -> list[datetime]:
    first = clock.to_local(series.first_starts_at)
    out = []
    for k in range(MAX_SERIES_OCCURRENCES):
        start = first + timedelta(weeks=k * series.interval_weeks)  # wall-clock arithmetic in the school's zone
        if start > upto or (series.until is not None and start.date() > series.until):
            break
        out.append(start)
    return out


def occurrence_data(series: MeetingSeries, local_start: datetime) -> dict[str, Any]:
    data = {k: series.template.get(k) for k in _TEMPLATE_KEYS}
    data["starts_at"] = local_start
    data["ends_at"] = local_start + timedelta(minutes=series.duration_minutes)
    return data


def generate(series: MeetingSeries, *, notify_series: bool = False, actor_id: int | None = None) -> list[Meeting]:
    """Create the occurrences up to the horizon that do not exist yet (idempotent)."""
    now = clock.now()
    horizon = now + timedelta(weeks=SERIES_HORIZON_WEEKS)
    existing = set(db.session.scalars(select(Meeting.occurrence_date).where(Meeting.series_id == series.id)))
    created = []
    for local_start in occurrence_starts(series, horizon):
        if local_start.date() in existing or local_start + timedelta(minutes=series.duration_minutes) <= now:
            continue
        meeting = Meeting(code=new_code(), organiser_id=series.organiser_id, series_id=series.id,
                          occurrence_date=local_start.date(), status=str(MeetingStatus.SCHEDULED))
        apply(meeting, occurrence_data(series, local_start))
        db.session.add(meeting)
        db.session.flush()
        added, _kept, _removed = materialise(meeting)
        arm_timers(meeting)
        created.append((meeting, added))
    series.generated_until = horizon
    if created and notify_series:
        invited = {uid for _m, added in created for uid in added}
        notify_invited(created[0][0], sorted(invited), series=series)
    if created:
        audit.record("meeting_series", series.id, "generate", actor_id=actor_id,
                     data={"meetings": [m.id for m, _a in created]})
    return [m for m, _a in created]


def _check_series_input(data: dict[str, Any]) -> None:
    require_future_end(data["ends_at"])
    repeat = data.get("repeat") or {}
    until = repeat.get("until")
    if until is not None and until < clock.to_local(data["starts_at"]).date():
        raise ValidationFailed(errors={"repeat": {"until": ["结束日期不能早于第一次会议"]}})


def _set_recurrence(series: MeetingSeries, repeat: dict[str, Any]) -> None:
    """Every ``interval_weeks`` from the first start, until a date and/or for ``count`` occurrences."""
    series.interval_weeks = repeat.get("interval_weeks", 1)
    series.until = repeat.get("until")
    if repeat.get("count"):
        last = clock.to_local(series.first_starts_at) + timedelta(weeks=(repeat["count"] - 1) * series.interval_weeks)
        series.until = min(series.until, last.date()) if series.until else last.date()


def _template(data: dict[str, Any]) -> dict[str, Any]:
    template = {k: data.get(k) for k in _TEMPLATE_KEYS}
    template["audience"] = normalise_audience(data["audience"])
    return template


def create_series(*, actor: Actor, data: dict[str, Any]) -> MeetingSeries:
    require_creator(actor)
    _check_series_input(data)
    series = MeetingSeries(
        organiser_id=actor.user_id, title=data["title"].strip(), template=_template(data),
        first_starts_at=data["starts_at"],
        duration_minutes=int((data["ends_at"] - data["starts_at"]).total_seconds() // 60),
        status=str(SeriesStatus.ACTIVE))
    _set_recurrence(series, data.get("repeat") or {})
    db.session.add(series)
    db.session.flush()
    audit.record("meeting_series", series.id, "create", actor_id=actor.user_id,
                 after={"title": series.title, "first_starts_at": series.first_starts_at.isoformat(),
                        "interval_weeks": series.interval_weeks})
    if not generate(series, notify_series=True, actor_id=actor.user_id):
        raise ValidationFailed("meetings.series_empty", "按此设置不会产生任何会议")
    return series


def _managed_series(actor: Actor, series_id: int) -> MeetingSeries:
    series = db.session.get(MeetingSeries, series_id, with_for_update=True)
    if series is None or not (actor.is_admin or series.organiser_id == actor.user_id):
        raise SeriesNotFound()
    return series


def _future_occurrences(series: MeetingSeries) -> list[Meeting]:
    return list(db.session.scalars(select(Meeting).where(
        Meeting.series_id == series.id, Meeting.status == str(MeetingStatus.SCHEDULED),
        Meeting.checkin_opens_at > clock.now()).order_by(Meeting.starts_at)))


def update_series(*, actor: Actor, series_id: int, data: dict[str, Any]) -> MeetingSeries:
    """Change the series from the occurrence ``starts_at`` names on (an end in the future, like a new
    series), and its future occurrences that were not edited on their own. The weekday stays (a
    different day is a new series); the time of day, the length and, when ``repeat`` is given, the
    interval and the end may change (without it the recurrence stays). Occurrences the new schedule
    no longer has are cancelled and their people told once; the ones it adds are generated."""
    series = _managed_series(actor, series_id)
    if series.status != SeriesStatus.ACTIVE:
        raise Conflict("meetings.series_cancelled", "周期会议已停止")
    _check_series_input(data)
    if clock.to_local(data["starts_at"]).weekday() != clock.to_local(series.first_starts_at).weekday():
        raise ValidationFailed("meetings.series_weekday", "周期会议不能更改星期，请停止后重新创建",
                               errors={"starts_at": ["不能更改星期"]})
    series.template = _template(data)
    series.title = data["title"].strip()
    series.first_starts_at = data["starts_at"]
    series.duration_minutes = int((data["ends_at"] - data["starts_at"]).total_seconds() // 60)
    if data.get("repeat"):
        _set_recurrence(series, data["repeat"])
    schedule = {start.date(): start for start in occurrence_starts(
        series, clock.now() + timedelta(weeks=SERIES_HORIZON_WEEKS))}
    changed, dropped = [], []
    for meeting in _future_occurrences(series):
        if meeting.detached:
            continue
        if meeting.occurrence_date not in schedule:
            cancel(meeting, actor=actor, reason="周期调整", notify=False)
            dropped.append(meeting)
            continue
        edit(meeting, occurrence_data(series, schedule[meeting.occurrence_date]), actor_id=actor.user_id,
             notify_added=False)
        changed.append(meeting.id)
    audit.record("meeting_series", series.id, "update", actor_id=actor.user_id,
                 after={"first_starts_at": series.first_starts_at.isoformat(), "interval_weeks": series.interval_weeks,
                        "until": series.until.isoformat() if series.until else None},
                 data={"meetings": changed, "cancelled": [m.id for m in dropped]})
    dates = "、".join(f"{m.occurrence_date.month}月{m.occurrence_date.day}日" for m in dropped)
    _tell_cancelled(dropped, title=f"周期会议已调整：{series.title}",
                    body=f"{series_text(series)}。不再举行：{dates}",
                    key=f"meetings.series_changed:{series.id}:{int(clock.now().timestamp())}")
    generate(series, actor_id=actor.user_id)
    return series


def _tell_cancelled(cancelled: list[Meeting], *, title: str, body: str, key: str) -> None:
    """One message to each person invited to any of the ``cancelled`` occurrences."""
    if not cancelled:
        return
    people = db.session.scalars(select(Invitation.user_id).distinct().where(
        Invitation.meeting_id.in_([m.id for m in cancelled])))
    notifications.notify_many(
        user_ids=people, event=CHANGED.event, title=title, body=body,
        data=message_data(cancelled[0], state="已取消"), link=DETAIL_LINK.format(id=cancelled[0].id),
        idempotency_key=key)


def cancel_series(*, actor: Actor, series_id: int, reason: str = "") -> MeetingSeries:
    """Stop the series: future occurrences are cancelled (each invitee is told once)."""
    series = _managed_series(actor, series_id)
    future = _future_occurrences(series)
    series_machine.fire(series, "cancel", actor_id=actor.user_id, roles=roles_on(actor, series),
                        data={"reason": reason, "meetings": [m.id for m in future]})
    for meeting in future:
        cancel(meeting, actor=actor, reason=reason, notify=False)
    _tell_cancelled(future, title=f"周期会议已停止：{series.title}",
                    body=f"{series_text(series)}" + (f"。{reason}" if reason else ""),
                    key=f"meetings.series_cancelled:{series.id}")
    return series


def series_view(series: MeetingSeries, actor: Actor) -> dict[str, Any]:
    occurrences = db.session.scalars(select(Meeting).where(Meeting.series_id == series.id)
                                     .order_by(Meeting.starts_at)).all()
    return {"id": series.id, "title": series.title, "status": series.status,
            "interval_weeks": series.interval_weeks, "until": series.until,
            "first_starts_at": series.first_starts_at, "duration_minutes": series.duration_minutes,
            "description": series_text(series), "template": series.template,
            "occurrences": [{"id": m.id, "starts_at": m.starts_at, "ends_at": m.ends_at, "status": m.status,
                             "detached": m.detached, "phase": phase(m)} for m in occurrences]}


def get_series(*, actor: Actor, series_id: int) -> dict[str, Any]:
    series = db.session.get(MeetingSeries, series_id)
    if series is None or not (actor.is_admin or series.organiser_id == actor.user_id):
        raise SeriesNotFound()
    return series_view(series, actor)
