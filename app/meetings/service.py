"""Meeting check-in: meetings, invitees, QR codes, scans, organiser tools, leave, attendance, timers.

Decisions (and why):

* **Who organises.** No new role: any staff member (a teacher organises their 教研组's meeting) and
  admins may create meetings; a meeting is managed only by its organiser or an admin. Adding an
  "organiser" role would make the office hand out a right nobody needs to be refused, and the real
  boundary is per meeting anyway. Students and parents cannot create meetings (403).
* **Who sees what.** A meeting is visible to its organiser, admins and its invitees (plus any staff
  member for an "all staff" meeting); anyone else gets 404. An invitee who asks for the attendance
  of a meeting they only attend gets 403 ``meetings.forbidden`` (they know it exists); a stranger 404.
* **Invitees are materialised** (one ``Invitation`` row per person, at creation and on every edit)
  so attendance is a GROUP BY; "all staff" meetings also accept staff bound after creation (their
  row is added by their first scan).
* **The check-in answer** is HTTP 200 ``{"status": "ok"|"error", "reason", "message", "late"}`` for
  every business outcome, because the scan page shows it as a result, not an error toast; malformed
  requests (no token, no nonce) stay 422 envelopes. Reasons are ``states.Reason``.
* **The hot path** (``scan``) verifies the token with an HMAC (no query), then does one SELECT
  (the nonce's earlier answer, the meeting and the person's invitation, outer-joined) and one
  atomic write: a check-in is a single statement whose first CTE up-serts the invitation with
  ``… DO UPDATE … WHERE checked_in_at IS NULL`` and whose second inserts the scan row with the
  outcome (``ON CONFLICT (user_id, nonce) DO NOTHING``). Two simultaneous scans by one person: the
  second waits on the row lock, finds the person in and records ``already_checked_in`` — one
  check-in. A retried nonce finds its first answer and writes nothing. Statements are built once at
  import and run on the session's connection (Core): building and ORM-compiling them per request cost
  more than the database work. A refusal is one INSERT.
  The common scans — a good rotating token of an open meeting without a geofence, by an invitee,
  first or "did it work?" — skip the SELECT: one statement (``_FAST_CHECK_IN``) checks the meeting
  and the nonce in SQL, checks the person in or records ``already_checked_in``, and returns what
  the answer needs. When its conditions do not hold it writes nothing and the general path above
  judges the scan, so every other answer, and its reason, comes from one place (``_judge``).
* **Geofence** is checked server-side when the meeting has one, on every scan; the location comes from
  the phone (``wx.getLocation``, GCJ-02 like ``wx.chooseLocation`` the organiser used), so it deters
  rather than proves. A static door code requires it (database check too).
* **Timers** (reminder before start, absentee reminder at start + 10 min, organiser's summary after
  check-in closes) are RQ scheduled jobs set after commit; each claims its ``*_sent_at`` column with
  a conditional UPDATE that also re-checks the meeting's times, so a moved meeting's old timer does
  nothing, and a periodic sweep sends what a lost timer missed (only if it fell due within
  ``SWEEP_LOOKBACK_HOURS``). A reminder that would fall before creation is skipped: the invitation
  itself has just told people.
* **Series**: a series row holds the template; occurrences are ordinary meetings generated
  ``SERIES_HORIZON_WEEKS`` ahead (the sweep extends the horizon), each editable on its own (it is
  then ``detached`` and series edits leave it alone). One invitation message per person for the
  series, not one per occurrence; reminders go out per occurrence.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import segno
from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import (
    BigInteger,
    Select,
    String,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from app.core.jobs import schedule_after_commit
from app.core.pagination import PageParams, paginate
from app.core.sheets import write_workbook
from app.core.statemachine import StateMachine
from app.meetings import events, tokens
from app.meetings.models import Invitation, LeaveRequest, Meeting, MeetingSeries, Scan
from app.meetings.states import (
    ABSENTEE_REMINDER_MINUTES,
    ATTENDANCE_LABELS,
    DEFAULT_CLOSES_AFTER_END_MINUTES,
    DEFAULT_LATE_AFTER_MINUTES,
    DEFAULT_OPENS_BEFORE_MINUTES,
    LEAVE_LABELS,
    LEAVE_TRANSITIONS,
    LOCATION_NEEDED_MESSAGE,
    MAX_INVITEES,
    MAX_SERIES_OCCURRENCES,
    MEETING_TRANSITIONS,
    OK_MESSAGES,
    OPEN_LEAVE_STATUSES,
    PURPOSE_CODES,
    REASON_MESSAGES,
    SERIES_HORIZON_WEEKS,
    SIGN_OUT_GRACE_MINUTES,
    SLOT_SECONDS,
    SUMMARY_DELAY_MINUTES,
    SWEEP_LOOKBACK_HOURS,
    VIA_LABELS,
    AttendanceStatus,
    ClassMembers,
    LeaveStatus,
    MeetingStatus,
    Reason,
    ScanAction,
    ScanVia,
    SeriesStatus,
)
from app.notifications import service as notifications
from app.notifications import templates
from app.notifications.templates import TemplateSpec
from app.places import service as places_service
from app.users import seed as users_seed
from app.users import service as users_service
from app.wechat import client as wx
from app.wechat import gateway
from app.wechat.errors import WeChatError

log = logging.getLogger(__name__)

REMIND_JOB = "app.meetings.jobs.remind"
ABSENTEE_JOB = "app.meetings.jobs.remind_absentees"
SUMMARY_JOB = "app.meetings.jobs.summarise"
"""By dotted path: the job module imports this one."""

CHECKIN_PAGE = "packageMeetings/pages/checkin/checkin"
DETAIL_LINK = "/packageMeetings/pages/detail/detail?id={id}"
REPORT_LINK = "/packageMeetings/pages/report/report?id={id}"
LEAVES_LINK = "/packageMeetings/pages/leaves/leaves?meeting={id}"
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PROJECTOR_AUDIENCE = "meetings.projector"
DEVICE_KEYS = ("brand", "model", "system", "platform", "version", "SDKVersion")

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

meeting_machine = StateMachine(Meeting, MEETING_TRANSITIONS, entity="meetings",
                               messages={"invalid_transition": "会议已取消，不能再操作"})
leave_machine = StateMachine(LeaveRequest, LEAVE_TRANSITIONS, entity="meeting_leave",
                             messages={"invalid_transition": "该请假申请已处理，不能再操作",
                                       "concurrent_change": "该请假申请已被处理，请刷新后重试"})


class MeetingNotFound(NotFound):
    error_code = "meetings.not_found"
    message = "会议不存在"


class NotOrganiser(Forbidden):
    error_code = "meetings.forbidden"
    message = "只有会议组织者或管理员可以进行此操作"


class MeetingEnded(Conflict):
    error_code = "meetings.ended"
    message = "会议已结束，不能再修改"


class AttendeeNotFound(NotFound):
    error_code = "meetings.attendee_not_found"
    message = "此人不在本次会议的参会名单中"


class LeaveNotFound(NotFound):
    error_code = "meetings.leave_not_found"
    message = "请假申请不存在"


class SeriesNotFound(NotFound):
    error_code = "meetings.series_not_found"
    message = "周期会议不存在"


# --- who may do what ------------------------------------------------------------------------------


def can_create(actor: Actor) -> bool:
    return actor.is_admin or actor.staff_id is not None


def _require_creator(actor: Actor) -> None:
    if not can_create(actor):
        raise Forbidden("meetings.forbidden", "只有教职工可以发起会议")


def _manages(meeting: Meeting, actor: Actor) -> bool:
    return actor.is_admin or meeting.organiser_id == actor.user_id


def _invitation(meeting_id: int, user_id: int) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(Invitation.meeting_id == meeting_id,
                                                      Invitation.user_id == user_id))


def _open_to(meeting: Meeting, actor: Actor) -> bool:
    """An "all staff" meeting also admits staff bound after it was created."""
    return bool(meeting.audience.get("all_staff")) and actor.staff_id is not None


def _visible(meeting: Meeting | None, actor: Actor) -> bool:
    if meeting is None:
        return False
    return _manages(meeting, actor) or _open_to(meeting, actor) or _invitation(meeting.id, actor.user_id) is not None


def get_visible(*, actor: Actor, meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if not _visible(meeting, actor):
        raise MeetingNotFound()
    return meeting


def get_managed(*, actor: Actor, meeting_id: int, lock: bool = False) -> Meeting:
    """The meeting if the actor organises it (or is an admin); 403 for its invitees, 404 otherwise."""
    meeting = db.session.get(Meeting, meeting_id, with_for_update=lock or None)
    if meeting is None:
        raise MeetingNotFound()
    if not _manages(meeting, actor):
        if _visible(meeting, actor):
            raise NotOrganiser()
        raise MeetingNotFound()
    return meeting


# --- creating and editing ---------------------------------------------------------------------------


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


def _new_code() -> str:
    for _ in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        if db.session.scalar(select(Meeting.id).where(Meeting.code == code)) is None:
            return code
    raise RuntimeError("could not find a free meeting code")  # 32^8 codes: not in this universe


def _normalise_audience(audience: dict[str, Any]) -> dict[str, Any]:
    """Check the audience's ids and return it in a canonical, JSON-safe form."""
    aud = {
        "all_staff": bool(audience.get("all_staff")),
        "department_ids": sorted(set(audience.get("department_ids") or [])),
        "class_ids": sorted(set(audience.get("class_ids") or [])),
        "class_members": str(ClassMembers(audience.get("class_members") or ClassMembers.STUDENTS)),
        "roles": sorted(set(audience.get("roles") or [])),
        "user_ids": sorted(set(audience.get("user_ids") or [])),
    }
    errors: dict[str, list[str]] = {}
    known_departments = {d.id for d in users_service.list_departments()}
    if unknown := [i for i in aud["department_ids"] if i not in known_departments]:
        errors["department_ids"] = [f"未知部门：{', '.join(map(str, unknown))}"]
    known_classes = {c.id for c in users_service.list_classes()}
    if unknown := [i for i in aud["class_ids"] if i not in known_classes]:
        errors["class_ids"] = [f"未知班级：{', '.join(map(str, unknown))}"]
    if aud["user_ids"]:
        found = {p.user_id for p in users_service.people(aud["user_ids"])}
        if unknown := [i for i in aud["user_ids"] if i not in found]:
            errors["user_ids"] = [f"未知或已停用的用户：{', '.join(map(str, unknown))}"]
    if errors:
        raise ValidationFailed("meetings.invalid_audience", "参会人员有误", errors={"audience": errors})
    if not (aud["all_staff"] or aud["department_ids"] or aud["class_ids"] or aud["roles"] or aud["user_ids"]):
        raise ValidationFailed("meetings.empty_audience", "请选择参会人员", errors={"audience": ["请选择参会人员"]})
    return aud


def _audience_people(aud: dict[str, Any]) -> list[users_service.Person]:
    ids: set[int] = set()
    if aud["all_staff"]:
        ids.update(users_service.staff_user_ids())
    if aud["department_ids"]:
        ids.update(users_service.staff_user_ids(department_ids=aud["department_ids"]))
    if aud["class_ids"]:
        ids.update(users_service.class_user_ids(aud["class_ids"], parents=aud["class_members"] == ClassMembers.PARENTS))
    if aud["roles"]:
        ids.update(users_service.users_with_roles(*aud["roles"]))
    ids.update(aud["user_ids"])
    if len(ids) > MAX_INVITEES:
        raise ValidationFailed("meetings.too_many_invitees", f"一次会议最多邀请 {MAX_INVITEES} 人")
    return users_service.people(sorted(ids))


def _materialise(meeting: Meeting) -> tuple[list[int], list[int], list[int]]:
    """Make the invitation rows match the audience. Returns (added, kept, removed) user ids; people
    who already checked in stay on the list even if the audience no longer names them."""
    wanted = {p.user_id: p for p in _audience_people(meeting.audience)}
    existing = dict(db.session.execute(select(Invitation.user_id, Invitation.checked_in_at)
                                       .where(Invitation.meeting_id == meeting.id)).all())
    added = [uid for uid in wanted if uid not in existing]
    removed = [uid for uid, checked_in in existing.items() if uid not in wanted and checked_in is None]
    kept = [uid for uid in existing if uid not in removed]
    now = clock.now()
    rows = [{"meeting_id": meeting.id, "user_id": uid, "name": wanted[uid].name, "number": wanted[uid].number,
             "department_id": wanted[uid].department_id, "created_at": now} for uid in added]
    for start in range(0, len(rows), 1000):
        db.session.execute(insert(Invitation).values(rows[start:start + 1000])
                           .on_conflict_do_nothing(index_elements=["meeting_id", "user_id"]))
    if removed:
        db.session.execute(delete(Invitation).where(Invitation.meeting_id == meeting.id,
                                                    Invitation.user_id.in_(removed),
                                                    Invitation.checked_in_at.is_(None)))
    return added, kept, removed


def _place_fields(data: dict[str, Any]) -> tuple[int | None, str]:
    place_id = data.get("place_id")
    location = (data.get("location") or "").strip()
    if place_id is not None:
        place = places_service.get_place(place_id)  # 404 places.not_found for an unknown place
        full = places_service.view(place).full_name
        return place.id, (f"{full}（{location}）" if location and location != full else full)[:120]
    if not location:
        raise ValidationFailed("meetings.location_required", "请选择会议室或填写地点",
                               errors={"location": ["请选择会议室或填写地点"]})
    return None, location


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _apply(meeting: Meeting, data: dict[str, Any]) -> None:
    """Copy the organiser's fields onto the meeting (validated by the schema) and derive the window."""
    meeting.title = data["title"].strip()
    meeting.description = (data.get("description") or "").strip()
    meeting.place_id, meeting.location = _place_fields(data)
    meeting.starts_at, meeting.ends_at = data["starts_at"].astimezone(UTC), data["ends_at"].astimezone(UTC)
    meeting.opens_before_minutes = _or(data.get("opens_before_minutes"), DEFAULT_OPENS_BEFORE_MINUTES)
    meeting.late_after_minutes = _or(data.get("late_after_minutes"), DEFAULT_LATE_AFTER_MINUTES)
    meeting.closes_after_end_minutes = _or(data.get("closes_after_end_minutes"), DEFAULT_CLOSES_AFTER_END_MINUTES)
    w = window_for(meeting.starts_at, meeting.ends_at, meeting.opens_before_minutes, meeting.late_after_minutes,
                   meeting.closes_after_end_minutes)
    if w.late > w.closes:
        raise ValidationFailed("meetings.invalid_window", "迟到时间不能晚于签到截止时间",
                               errors={"late_after_minutes": ["迟到时间不能晚于签到截止时间"]})
    meeting.checkin_opens_at, meeting.late_at, meeting.checkin_closes_at = w.opens, w.late, w.closes
    fence = data.get("geofence")
    meeting.geofence_lat = fence["latitude"] if fence else None
    meeting.geofence_lng = fence["longitude"] if fence else None
    meeting.geofence_radius_m = fence["radius_m"] if fence else None
    meeting.allow_static_code = bool(data.get("allow_static_code"))
    if meeting.allow_static_code and not fence:
        raise ValidationFailed("meetings.geofence_required", "固定签到码必须设置签到范围（地理围栏）",
                               errors={"geofence": ["固定签到码必须设置签到范围"]})
    meeting.sign_out_enabled = bool(data.get("sign_out_enabled"))
    meeting.audience = _normalise_audience(data["audience"])


def _message_data(meeting: Meeting, **extra: Any) -> dict[str, Any]:
    return {"meeting_id": meeting.id, "meeting_title": meeting.title, "starts_at": meeting.starts_at.isoformat(),
            "location": meeting.location, **extra}


def _when_text(meeting: Meeting) -> str:
    start, end = clock.to_local(meeting.starts_at), clock.to_local(meeting.ends_at)
    return f"{start.month}月{start.day}日 {start:%H:%M}-{end:%H:%M}"


def _notify_invited(meeting: Meeting, user_ids: Iterable[int], *, series: MeetingSeries | None = None) -> None:
    when = _series_text(series) if series is not None else _when_text(meeting)
    key = f"series:{series.id}" if series is not None else f"meeting:{meeting.id}"
    for uid in user_ids:
        notifications.notify(
            user_id=uid, event=INVITED.event, title=f"会议通知：{meeting.title}",
            body=f"{when}，{meeting.location}", data=_message_data(meeting),
            link=DETAIL_LINK.format(id=meeting.id), idempotency_key=f"meetings.invited:{key}:{uid}")


def create_meeting(*, actor: Actor, data: dict[str, Any]) -> Meeting:
    _require_creator(actor)
    if data["ends_at"] <= clock.now():
        raise ValidationFailed("meetings.in_the_past", "会议结束时间已过", errors={"ends_at": ["会议结束时间已过"]})
    meeting = Meeting(code=_new_code(), organiser_id=actor.user_id, status=str(MeetingStatus.SCHEDULED))
    _apply(meeting, data)
    db.session.add(meeting)
    db.session.flush()
    added, _kept, _removed = _materialise(meeting)
    audit.record("meeting", meeting.id, "create", actor_id=actor.user_id,
                 after={"title": meeting.title, "starts_at": meeting.starts_at.isoformat(), "invitees": len(added)})
    _notify_invited(meeting, added)
    _arm_timers(meeting)
    events.meeting_created.send(meeting.id, organiser_id=actor.user_id)
    return meeting


def update_meeting(*, actor: Actor, meeting_id: int, data: dict[str, Any]) -> Meeting:
    meeting = get_managed(actor=actor, meeting_id=meeting_id, lock=True)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise Conflict("meetings.cancelled", "会议已取消，不能修改")
    if meeting.checkin_closes_at <= clock.now():
        raise MeetingEnded()
    if data["ends_at"] <= clock.now():
        raise ValidationFailed("meetings.in_the_past", "会议结束时间已过", errors={"ends_at": ["会议结束时间已过"]})
    _edit(meeting, data, actor_id=actor.user_id)
    if meeting.series_id is not None:
        meeting.detached = True
    return meeting


def _edit(meeting: Meeting, data: dict[str, Any], *, actor_id: int | None, notify_added: bool = True) -> None:
    before = {"title": meeting.title, "starts_at": meeting.starts_at.isoformat(),
              "ends_at": meeting.ends_at.isoformat(), "location": meeting.location}
    old_times = (meeting.starts_at, meeting.checkin_closes_at)
    _apply(meeting, data)
    db.session.flush()
    added, kept, removed = _materialise(meeting)
    after = {"title": meeting.title, "starts_at": meeting.starts_at.isoformat(),
             "ends_at": meeting.ends_at.isoformat(), "location": meeting.location}
    audit.record("meeting", meeting.id, "update", actor_id=actor_id, before=before, after=after,
                 data={"added": len(added), "removed": len(removed)})
    if notify_added:
        _notify_invited(meeting, added)
    if (before["starts_at"], before["ends_at"], before["location"]) != (after["starts_at"], after["ends_at"],
                                                                       after["location"]):
        stamp = int(clock.now().timestamp())
        for uid in kept:
            notifications.notify(
                user_id=uid, event=CHANGED.event, title=f"会议变更：{meeting.title}",
                body=f"新的时间地点：{_when_text(meeting)}，{meeting.location}",
                data=_message_data(meeting, state="已变更"), link=DETAIL_LINK.format(id=meeting.id),
                idempotency_key=f"meetings.changed:{meeting.id}:{stamp}:{uid}")
    if (meeting.starts_at, meeting.checkin_closes_at) != old_times:
        meeting.reminder_sent_at = meeting.absentee_sent_at = meeting.summary_sent_at = None
        _arm_timers(meeting)


def cancel_meeting(*, actor: Actor, meeting_id: int, reason: str = "") -> Meeting:
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    if meeting.checkin_closes_at <= clock.now():
        raise MeetingEnded("meetings.ended", "会议已结束，不能取消")
    _cancel(meeting, actor_id=actor.user_id, reason=reason)
    if meeting.series_id is not None:
        meeting.detached = True
    return meeting


def _cancel(meeting: Meeting, *, actor_id: int | None, reason: str, notify: bool = True) -> None:
    meeting_machine.fire(meeting, "cancel", actor_id=actor_id, check_roles=False, data={"reason": reason})
    if not notify:
        return
    user_ids = db.session.scalars(select(Invitation.user_id).where(Invitation.meeting_id == meeting.id)).all()
    for uid in user_ids:
        notifications.notify(
            user_id=uid, event=CHANGED.event, title=f"会议已取消：{meeting.title}",
            body=f"原定 {_when_text(meeting)}，{meeting.location}" + (f"。{reason}" if reason else ""),
            data=_message_data(meeting, state="已取消"), link=DETAIL_LINK.format(id=meeting.id),
            idempotency_key=f"meetings.cancelled:{meeting.id}:{uid}")
    events.meeting_cancelled.send(meeting.id)


# --- reading ------------------------------------------------------------------------------------------


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


def _organiser_names(meetings: Iterable[Meeting]) -> dict[int, str]:
    return {p.user_id: p.name for p in users_service.people(sorted({m.organiser_id for m in meetings}))}


def _open_leave(meeting_id: int, user_id: int) -> LeaveRequest | None:
    return db.session.scalar(select(LeaveRequest).where(
        LeaveRequest.meeting_id == meeting_id, LeaveRequest.user_id == user_id,
        LeaveRequest.status.in_([str(s) for s in OPEN_LEAVE_STATUSES])))


def _mine(meeting: Meeting, actor: Actor) -> dict[str, Any] | None:
    inv = _invitation(meeting.id, actor.user_id)
    if inv is None and not _open_to(meeting, actor):
        return None
    leave = _open_leave(meeting.id, actor.user_id)
    return {
        "invited": inv is not None or _open_to(meeting, actor),
        "status": str(attendance_status(inv)) if inv is not None else str(AttendanceStatus.ABSENT),
        "checked_in_at": inv.checked_in_at if inv else None,
        "late": inv.late if inv else False,
        "signed_out_at": inv.signed_out_at if inv else None,
        "excused": inv.excused if inv else False,
        "leave": _leave_dict(leave) if leave is not None else None,
    }


def _leave_dict(leave: LeaveRequest) -> dict[str, Any]:
    return {"id": leave.id, "status": leave.status, "status_label": LEAVE_LABELS[LeaveStatus(leave.status)],
            "reason": leave.reason, "decision_note": leave.decision_note}


def meeting_view(meeting: Meeting, actor: Actor, *, organiser_name: str | None = None,
                 with_mine: bool = True) -> dict[str, Any]:
    manages = _manages(meeting, actor)
    if organiser_name is None:
        organiser_name = _organiser_names([meeting]).get(meeting.organiser_id, "")
    view = {
        "id": meeting.id, "code": meeting.code, "title": meeting.title, "description": meeting.description,
        "place_id": meeting.place_id, "location": meeting.location,
        "starts_at": meeting.starts_at, "ends_at": meeting.ends_at,
        "opens_before_minutes": meeting.opens_before_minutes, "late_after_minutes": meeting.late_after_minutes,
        "closes_after_end_minutes": meeting.closes_after_end_minutes,
        "checkin_opens_at": meeting.checkin_opens_at, "late_at": meeting.late_at,
        "checkin_closes_at": meeting.checkin_closes_at,
        "geofence": ({"latitude": meeting.geofence_lat, "longitude": meeting.geofence_lng,
                      "radius_m": meeting.geofence_radius_m} if meeting.has_geofence else None),
        "allow_static_code": meeting.allow_static_code, "sign_out_enabled": meeting.sign_out_enabled,
        "status": meeting.status, "phase": phase(meeting), "series_id": meeting.series_id,
        "organiser": {"id": meeting.organiser_id, "name": organiser_name},
        "can_manage": manages,
        "audience": meeting.audience if manages else None,
        "mine": _mine(meeting, actor) if with_mine else None,
        "counts": counts(meeting.id) if manages else None,
    }
    return view


def get_meeting(*, actor: Actor, meeting_id: int) -> dict[str, Any]:
    return meeting_view(get_visible(actor=actor, meeting_id=meeting_id), actor)


def list_meetings(*, actor: Actor, params: PageParams, scope: str = "invited", when: str = "upcoming") -> list:
    """My meetings: those I am invited to (``invited``), organise (``organised``), or every meeting
    (``all``, admins only); ``upcoming`` (not ended, soonest first) or ``past`` (latest first)."""
    now = clock.now()
    stmt = select(Meeting)
    if scope == "organised":
        stmt = stmt.where(Meeting.organiser_id == actor.user_id)
    elif scope == "all":
        require_roles(actor, "admin", error_code="meetings.forbidden", message="只有管理员可以查看全部会议")
    else:
        invited = select(Invitation.meeting_id).where(Invitation.user_id == actor.user_id)
        condition = Meeting.id.in_(invited)
        if actor.staff_id is not None:
            condition = or_(condition, Meeting.audience["all_staff"].astext == "true")
        stmt = stmt.where(condition)
    if when == "past":
        stmt = stmt.where(Meeting.ends_at < now).order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    else:
        stmt = stmt.where(Meeting.ends_at >= now).order_by(Meeting.starts_at, Meeting.id)
    meetings = paginate(stmt, params)
    names = _organiser_names(meetings)
    return [meeting_view(m, actor, organiser_name=names.get(m.organiser_id, ""), with_mine=scope == "invited")
            for m in meetings]


# --- QR codes -------------------------------------------------------------------------------------------


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def qr_link(token: str, *, geofenced: bool = False) -> str:
    """What the rotating QR encodes. ``g=1`` tells the scan page to fetch the phone's location before
    sending (the server checks it); without it the page does not ask for location at all."""
    return f"{current_app.config['WECHAT_QR_LINK_BASE']}checkin?t={token}" + ("&g=1" if geofenced else "")


def _png_data_uri(text: str) -> str:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=2)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _check_purpose(meeting: Meeting, purpose: str) -> ScanAction:
    action = ScanAction(purpose)
    if action == ScanAction.SIGN_OUT and not meeting.sign_out_enabled:
        raise Conflict("meetings.sign_out_disabled", "本会议未开启签退")
    if action not in (ScanAction.CHECK_IN, ScanAction.SIGN_OUT):
        raise ValidationFailed(errors={"purpose": ["应为 check_in 或 sign_out"]})
    return action


def _qr_payload(meeting: Meeting, purpose: ScanAction) -> dict[str, Any]:
    now = clock.now()
    slot = tokens.slot_of(now)
    token = tokens.make_token(_secret(), meeting.id, slot, purpose)
    link = qr_link(token, geofenced=meeting.has_geofence)
    next_change = datetime.fromtimestamp(tokens.slot_ends(slot), tz=now.tzinfo)
    until_change_ms = max(int((next_change - now).total_seconds() * 1000), 0)
    return {
        "meeting_id": meeting.id, "title": meeting.title, "purpose": str(purpose), "token": token, "link": link,
        "image": _png_data_uri(link), "slot": slot, "slot_seconds": SLOT_SECONDS,
        "changes_at": next_change, "valid_until": next_change + timedelta(seconds=SLOT_SECONDS),
        # poll at least every 5 s for the live count, and right after the code changes
        "refresh_in_ms": min(until_change_ms + 200, 5000),
        "server_time": now, "phase": phase(meeting, now), "status": meeting.status,
        "counts": counts(meeting.id),
    }


def rotating_qr(*, actor: Actor, meeting_id: int, purpose: str = ScanAction.CHECK_IN) -> dict[str, Any]:
    """The current rotating token and its QR image, for the organiser's phone."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("meetings.cancelled", "会议已取消")
    return _qr_payload(meeting, _check_purpose(meeting, purpose))


def _projector_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(_secret(), salt=PROJECTOR_AUDIENCE)


def projector_key(*, actor: Actor, meeting_id: int, purpose: str = ScanAction.CHECK_IN) -> dict[str, Any]:
    """A link for a projector or a browser on a big screen: it shows the rotating code (no names) until
    sign-out closes, without a login. Anyone holding it can display the code, which is no more than
    standing in the room."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    action = _check_purpose(meeting, purpose)
    key = _projector_serializer().dumps({"m": meeting.id, "p": PURPOSE_CODES[action]})
    audit.record("meeting", meeting.id, "projector_link", actor_id=actor.user_id, data={"purpose": str(action)})
    return {"key": key, "path": f"/api/v1/meetings/projector/{key}", "expires_at": _projector_expiry(meeting)}


def _projector_expiry(meeting: Meeting) -> datetime:
    return max(meeting.checkin_closes_at, meeting.ends_at + timedelta(minutes=SIGN_OUT_GRACE_MINUTES))


def projector_qr(*, key: str) -> dict[str, Any]:
    try:
        payload = _projector_serializer().loads(key)
    except BadData as exc:
        raise NotFound("meetings.projector_not_found", "投屏链接无效") from exc
    purposes = {code: action for action, code in PURPOSE_CODES.items()}
    purpose = purposes.get(payload.get("p")) if isinstance(payload, dict) else None
    meeting = db.session.get(Meeting, payload.get("m")) if purpose is not None else None
    if meeting is None:
        raise NotFound("meetings.projector_not_found", "投屏链接无效")
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("meetings.cancelled", "会议已取消")
    if clock.now() > _projector_expiry(meeting):
        raise Forbidden("meetings.projector_expired", "会议已结束，投屏链接已失效")
    return _qr_payload(meeting, _check_purpose(meeting, purpose))


@dataclass
class Image:
    data: bytes
    mimetype: str
    source: str  # "wechat" (mini-program code) or "qr" (segno fallback)


def static_code(*, actor: Actor, meeting_id: int, prefer: str = "wechat") -> Image:
    """The printable door code: a mini-program code whose scene is ``m=<meeting code>``. It never
    changes, so it is only offered for meetings with a geofence (checked at every scan)."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    if not meeting.allow_static_code:
        raise Conflict("meetings.static_code_disabled", "本会议未开启固定签到码（需要先设置签到范围）")
    scene = f"m={meeting.code}"
    audit.record("meeting", meeting.id, "static_code", actor_id=actor.user_id)
    if prefer == "wechat":
        try:
            env = {"developer": "develop", "trial": "trial"}.get(gateway.miniprogram_state(), "release")
            png = wx.get_unlimited_code(gateway.mini_program(), scene, CHECKIN_PAGE, env_version=env,
                                        check_path=env == "release")
            return Image(png, "image/png", "wechat")
        except WeChatError:
            pass  # a plain QR code opens the same page through 扫普通链接二维码打开小程序
    buffer = io.BytesIO()
    segno.make(f"{current_app.config['WECHAT_QR_LINK_BASE']}checkin?m={meeting.code}", error="m").save(
        buffer, kind="png", scale=8, border=2)
    return Image(buffer.getvalue(), "image/png", "qr")


# --- scanning (the hot path) ---------------------------------------------------------------------------


@dataclass
class Answer:
    status: str  # "ok" | "error"
    reason: str | None
    message: str
    action: str
    late: bool
    meeting: dict[str, Any] | None
    checked_in_at: datetime | None
    signed_out_at: datetime | None
    scanned_at: datetime
    replayed: bool = False


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine), metres."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


def _device(device: dict[str, Any] | None, user_agent: str | None) -> dict[str, Any] | None:
    out = {k: str(device[k])[:64] for k in DEVICE_KEYS if device and device.get(k) is not None}
    if user_agent:
        out["user_agent"] = user_agent[:200]
    return out or None


def _where_from(location: dict[str, Any] | None, device: dict[str, Any] | None, user_agent: str | None,
                ip: str | None) -> dict[str, Any]:
    """The scan row's record of where the phone said it was and what it was."""
    return {"latitude": location["latitude"] if location else None,
            "longitude": location["longitude"] if location else None,
            "accuracy_m": location.get("accuracy") if location else None,
            "device": _device(device, user_agent), "ip": ip}


def _hhmm(value: datetime) -> str:
    local = clock.to_local(value)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _message(reason: str | None, action: str, late: bool, meeting: Any, *, had_location: bool,
             checked_in_at: datetime | None) -> str:
    if reason is None:
        return OK_MESSAGES[(ScanAction(action), late)]
    reason = Reason(reason)
    text = REASON_MESSAGES[reason]
    if reason == Reason.OUT_OF_RANGE and not had_location:
        return LOCATION_NEEDED_MESSAGE
    if reason == Reason.TOO_EARLY and meeting is not None:
        opens = meeting.starts_at if action == ScanAction.SIGN_OUT else meeting.checkin_opens_at
        return f"{text}（{_hhmm(opens)} 开始）"
    if reason == Reason.ALREADY_CHECKED_IN and checked_in_at is not None:
        return f"你已于 {_hhmm(checked_in_at)} 签到，无需重复扫码"
    return text


def _meeting_brief(m: Any) -> dict[str, Any] | None:
    if m is None or m.id is None:
        return None
    return {"id": m.id, "title": m.title, "location": m.location, "starts_at": m.starts_at, "ends_at": m.ends_at}


_HOT_MEETING = (Meeting.id, Meeting.title, Meeting.location, Meeting.status, Meeting.starts_at, Meeting.ends_at,
                Meeting.checkin_opens_at, Meeting.late_at, Meeting.checkin_closes_at, Meeting.geofence_lat,
                Meeting.geofence_lng, Meeting.geofence_radius_m, Meeting.allow_static_code,
                Meeting.sign_out_enabled,
                func.coalesce(Meeting.audience["all_staff"].as_boolean(), false()).label("all_staff"))
_HOT_KEYS = tuple(c.key for c in _HOT_MEETING)


@dataclass
class _Seen:
    """What the one SELECT of the hot path found."""

    meeting: Any  # a Row of _HOT_MEETING columns, or None
    invitation_id: int | None
    checked_in_at: datetime | None
    signed_out_at: datetime | None
    earlier: Any  # the stored scan of this nonce, or None


def _look_statement(on_meeting) -> Select:
    one = select(literal(1).label("one")).subquery()
    uid = bindparam("user_id", type_=BigInteger)
    return (
        select(*_HOT_MEETING, Invitation.id, Invitation.checked_in_at, Invitation.signed_out_at,
               Scan.id, Scan.meeting_id, Scan.action, Scan.result, Scan.reason, Scan.late, Scan.latitude,
               Scan.created_at)
        .select_from(one)
        .outerjoin(Meeting, on_meeting)
        .outerjoin(Invitation, and_(Invitation.meeting_id == Meeting.id, Invitation.user_id == uid))
        .outerjoin(Scan, and_(Scan.user_id == uid, Scan.nonce == bindparam("nonce", type_=String)))
    )


# Built once (the hot path): by meeting id (a rotating token), by code (a door code), or no meeting.
_LOOK_BY_ID = _look_statement(Meeting.id == bindparam("meeting_id", type_=BigInteger))
_LOOK_BY_CODE = _look_statement(Meeting.code == bindparam("code", type_=String))
_LOOK_NONCE_ONLY = _look_statement(false())
_EARLIER = ("id", "meeting_id", "action", "result", "reason", "late", "latitude", "created_at")


def _look(user_id: int, nonce: str, meeting_id: int | None, code: str | None) -> _Seen:
    """One round trip: the meeting, the person's invitation and this nonce's earlier scan, if any."""
    params: dict[str, Any] = {"user_id": user_id, "nonce": nonce}
    if meeting_id is not None:
        stmt, params["meeting_id"] = _LOOK_BY_ID, meeting_id
    elif code is not None:
        stmt, params["code"] = _LOOK_BY_CODE, code
    else:
        stmt = _LOOK_NONCE_ONLY
    row = db.session.connection().execute(stmt, params).one()
    n = len(_HOT_MEETING)
    meeting = _Row(zip(_HOT_KEYS, row[:n], strict=True)) if row[0] is not None else None
    earlier = _Row(zip(_EARLIER, row[n + 3:], strict=True)) if row[n + 3] is not None else None
    return _Seen(meeting, row[n], row[n + 1], row[n + 2], earlier)


class _Row(dict):
    __getattr__ = dict.__getitem__


def _replay(seen: _Seen, user_id: int) -> Answer:
    """The first answer to this nonce, rebuilt from its stored scan row; nothing is written."""
    e = seen.earlier
    meeting = seen.meeting if seen.meeting is not None and seen.meeting.id == e.meeting_id else None
    if meeting is None and e.meeting_id is not None:
        m = db.session.get(Meeting, e.meeting_id)
        meeting = m
    inv = _invitation(e.meeting_id, user_id) if e.meeting_id is not None else None
    return Answer(
        status=e.result, reason=e.reason, action=e.action, late=bool(e.late),
        message=_message(e.reason, e.action, bool(e.late), meeting, had_location=e.latitude is not None,
                         checked_in_at=inv.checked_in_at if inv else None),
        meeting=_meeting_brief(meeting), checked_in_at=inv.checked_in_at if inv else None,
        signed_out_at=inv.signed_out_at if inv else None, scanned_at=e.created_at, replayed=True)


def _judge(seen: _Seen, actor: Actor, action: ScanAction, via: ScanVia, token_problem: str | None,
           location: dict[str, Any] | None, now: datetime) -> tuple[str | None, bool, float | None]:
    """(reason or None for ok, late, distance) — the rules in order, first refusal wins."""
    m = seen.meeting
    if token_problem == "invalid" or m is None:
        return Reason.INVALID_TOKEN, False, None
    if token_problem == "expired":
        return Reason.EXPIRED_TOKEN, False, None
    if via == ScanVia.STATIC and not m.allow_static_code:
        return Reason.INVALID_TOKEN, False, None
    if action == ScanAction.SIGN_OUT and not m.sign_out_enabled:
        return Reason.INVALID_TOKEN, False, None
    if m.status == MeetingStatus.CANCELLED:
        return Reason.CANCELLED, False, None
    if seen.invitation_id is None and not (m.all_staff and actor.staff_id is not None):
        return Reason.NOT_INVITED, False, None
    if action == ScanAction.CHECK_IN:
        if seen.checked_in_at is not None:
            return Reason.ALREADY_CHECKED_IN, False, None
        if now < m.checkin_opens_at:
            return Reason.TOO_EARLY, False, None
        if now > m.checkin_closes_at:
            return Reason.CLOSED, False, None
    else:
        if seen.checked_in_at is None:
            return Reason.NOT_CHECKED_IN, False, None
        if seen.signed_out_at is not None:
            return Reason.ALREADY_SIGNED_OUT, False, None
        if now < m.starts_at:
            return Reason.TOO_EARLY, False, None
        if now > m.ends_at + timedelta(minutes=SIGN_OUT_GRACE_MINUTES):
            return Reason.CLOSED, False, None
    distance = None
    if m.geofence_radius_m is not None:
        if not location:
            return Reason.OUT_OF_RANGE, False, None
        distance = distance_m(m.geofence_lat, m.geofence_lng, location["latitude"], location["longitude"])
        if distance > m.geofence_radius_m:
            return Reason.OUT_OF_RANGE, False, distance
    late = action == ScanAction.CHECK_IN and now > m.late_at
    return None, late, distance


def scan(*, actor: Actor, nonce: str, token: str | None = None, code: str | None = None,
         location: dict[str, Any] | None = None, device: dict[str, Any] | None = None,
         ip: str | None = None, user_agent: str | None = None) -> Answer:
    """A scan of a rotating token (``token``) or of a static door code (``code``): check in, or sign
    out when the code was shown in sign-out mode. Always answers; every first answer is a scan row."""
    now = clock.now()
    db.session.flush()  # the hot path talks to the connection directly (Core, no ORM overhead)
    if token is not None:
        verified = tokens.verify(_secret(), token, now)
        via, action, problem, meeting_id = ScanVia.ROTATING, verified.purpose or ScanAction.CHECK_IN, \
            verified.problem, verified.meeting_id
        if problem is None and action == ScanAction.CHECK_IN:
            fast = _fast_check_in(actor, nonce, meeting_id, location, device, ip, user_agent, now)
            if fast is not None:
                return fast
        seen = _look(actor.user_id, nonce, meeting_id if problem != "invalid" else None, None)
    else:
        via, action, problem = ScanVia.STATIC, ScanAction.CHECK_IN, None
        seen = _look(actor.user_id, nonce, None, (code or "").strip().upper())
    if seen.earlier is not None:
        return _replay(seen, actor.user_id)

    reason, late, distance = _judge(seen, actor, action, via, problem, location, now)
    m = seen.meeting
    scan_values = {
        "meeting_id": m.id if m is not None else None, "user_id": actor.user_id, "nonce": nonce,
        "action": str(action), "via": str(via), "result": "ok" if reason is None else "error",
        "reason": str(reason) if reason else None, "late": late, "distance_m": distance,
        **_where_from(location, device, user_agent, ip), "created_at": now,
    }
    checked_in_at, signed_out_at = seen.checked_in_at, seen.signed_out_at
    if reason is None and action == ScanAction.CHECK_IN:
        scan_id, won = _check_in_statement(scan_values, m.id, actor, late, via, now, seen.invitation_id is None)
        if scan_id is None:
            return _replay(_look(actor.user_id, nonce, None, None), actor.user_id)
        if won:
            checked_in_at = now
        else:  # a simultaneous scan (or the organiser) checked this person in first; the row says so
            reason, late = Reason.ALREADY_CHECKED_IN, False
            checked_in_at = _checked_in_at(m.id, actor.user_id)
    else:
        scan_id = db.session.connection().execute(_INSERT_SCAN, scan_values).scalar_one_or_none()
        if scan_id is None:
            return _replay(_look(actor.user_id, nonce, None, None), actor.user_id)
        if reason is None:  # sign-out
            done = db.session.execute(
                update(Invitation).where(Invitation.meeting_id == m.id, Invitation.user_id == actor.user_id,
                                         Invitation.checked_in_at.is_not(None), Invitation.signed_out_at.is_(None))
                .values(signed_out_at=now)).rowcount
            if done:
                signed_out_at = now
            else:
                reason = Reason.ALREADY_SIGNED_OUT
                _correct(scan_id, reason)
    return _answer(reason, action, late, m, had_location=bool(location), checked_in_at=checked_in_at,
                   signed_out_at=signed_out_at, now=now)


def _answer(reason: Reason | None, action: ScanAction, late: bool, meeting: Any, *, had_location: bool,
            checked_in_at: datetime | None, signed_out_at: datetime | None, now: datetime) -> Answer:
    """The answer to a scan just judged and written (``_replay`` rebuilds one from its row)."""
    return Answer(
        status="ok" if reason is None else "error", reason=str(reason) if reason else None, action=str(action),
        late=late, message=_message(reason, action, late, meeting, had_location=had_location,
                                    checked_in_at=checked_in_at),
        meeting=_meeting_brief(meeting), checked_in_at=checked_in_at, signed_out_at=signed_out_at, scanned_at=now)


def _checked_in_at(meeting_id: int, user_id: int) -> datetime | None:
    """When the person got in — read after losing a race to a simultaneous scan (the row is committed)."""
    return db.session.scalar(select(Invitation.checked_in_at).where(Invitation.meeting_id == meeting_id,
                                                                      Invitation.user_id == user_id))


_SCAN_COLUMNS = ("meeting_id", "user_id", "nonce", "action", "via", "result", "reason", "late", "latitude",
                 "longitude", "accuracy_m", "distance_m", "device", "ip", "created_at")
_INSERT_SCAN = (insert(Scan).values({c: bindparam(c, type_=Scan.__table__.c[c].type) for c in _SCAN_COLUMNS})
                .on_conflict_do_nothing(index_elements=["user_id", "nonce"]).returning(Scan.id))
"""Every scan row (prebuilt: the hot path)."""


def _build_check_in() -> Select:
    """One atomic statement: check the person in unless they already are (``a``: an upsert whose
    update only happens while ``checked_in_at IS NULL``; the row lock makes a simultaneous second
    scan wait and then find it done), then record the scan with what really happened (``s``: ``ok``
    if ``a`` won, else ``already_checked_in``; a nonce that raced in meanwhile inserts nothing)."""
    inv = Invitation.__table__.c
    fields = ("meeting_id", "user_id", "name", "number", "department_id", "checked_in_at", "late", "check_in_via",
              "created_at")
    ins = insert(Invitation).from_select(
        list(fields), select(*(bindparam(f"inv_{f}", type_=inv[f].type) for f in fields)))
    a = ins.on_conflict_do_update(
        index_elements=["meeting_id", "user_id"],
        set_={"checked_in_at": ins.excluded.checked_in_at, "late": ins.excluded.late,
              "check_in_via": ins.excluded.check_in_via},
        where=Invitation.checked_in_at.is_(None),
    ).returning(Invitation.id).cte("a")
    won = exists(select(a.c.id))
    sc = Scan.__table__.c
    values = {c: bindparam(c, type_=sc[c].type) for c in _SCAN_COLUMNS}
    values["result"] = case((won, literal("ok")), else_=literal("error"))
    values["reason"] = case((won, null()), else_=literal(str(Reason.ALREADY_CHECKED_IN)))
    values["late"] = and_(won, bindparam("late", type_=sc["late"].type))
    s = (insert(Scan).from_select(list(values), select(*values.values()))
         .on_conflict_do_nothing(index_elements=["user_id", "nonce"]).returning(Scan.id).cte("s"))
    return select(select(s.c.id).scalar_subquery(), select(a.c.id).scalar_subquery())


_CHECK_IN = _build_check_in()


def _build_fast_check_in() -> Select:
    """The common scan in one statement (see the module docstring): ``m`` is the meeting only if a
    check-in is open on it now without a geofence, ``inv`` the person's invitation to it, ``fresh``
    whether the nonce is new; ``a`` checks the person in (the row lock serialises simultaneous
    scans as in ``_CHECK_IN``) and ``s`` records the scan, ``ok`` or ``already_checked_in``. With
    any condition unmet nothing is written and no row comes back. Every bind is named ``p_…``: an
    UPDATE would take an execution parameter named like one of its table's columns as a SET value."""
    now = bindparam("p_now", type_=Meeting.__table__.c.starts_at.type)
    uid = bindparam("p_user_id", type_=BigInteger)
    m = (select(Meeting.id, Meeting.title, Meeting.location, Meeting.starts_at, Meeting.ends_at, Meeting.late_at)
         .where(Meeting.id == bindparam("p_meeting_id", type_=BigInteger),
                Meeting.status != str(MeetingStatus.CANCELLED),
                Meeting.checkin_opens_at <= now, Meeting.checkin_closes_at >= now,
                Meeting.geofence_radius_m.is_(None))
         .cte("m"))
    inv = (select(Invitation.id, Invitation.checked_in_at, Invitation.signed_out_at)
           .where(Invitation.meeting_id == m.c.id, Invitation.user_id == uid).cte("inv"))
    fresh = select((~exists().where(Scan.user_id == uid, Scan.nonce == bindparam("p_nonce", type_=String)))
                   .label("ok")).cte("fresh")
    is_fresh = select(fresh.c.ok).scalar_subquery()
    a = (update(Invitation)
         .where(Invitation.meeting_id == m.c.id, Invitation.user_id == uid, Invitation.checked_in_at.is_(None),
                is_fresh)
         .values(checked_in_at=now, late=now > m.c.late_at, check_in_via=str(ScanVia.ROTATING))
         .returning(Invitation.id, Invitation.late).cte("a"))
    won = exists(select(a.c.id))
    sc = Scan.__table__.c
    values = {c: bindparam(f"p_{c}", type_=sc[c].type) for c in _SCAN_COLUMNS}
    values["result"] = case((won, literal("ok")), else_=literal("error"))
    values["reason"] = case((won, null()), else_=literal(str(Reason.ALREADY_CHECKED_IN)))
    values["late"] = func.coalesce(select(a.c.late).scalar_subquery(), false())
    s = (insert(Scan).from_select(list(values), select(*values.values()).where(is_fresh, exists(select(inv.c.id))))
         .on_conflict_do_nothing(index_elements=["user_id", "nonce"])
         .returning(Scan.id, Scan.result, Scan.late).cte("s"))
    return (select(s.c.id, s.c.result, s.c.late, inv.c.checked_in_at, inv.c.signed_out_at,
                   m.c.id, m.c.title, m.c.location, m.c.starts_at, m.c.ends_at)
            .select_from(s).join(inv, true()).join(m, true()))


_FAST_CHECK_IN = _build_fast_check_in()
_BRIEF_KEYS = ("id", "title", "location", "starts_at", "ends_at")


def _fast_check_in(actor: Actor, nonce: str, meeting_id: int, location: dict[str, Any] | None,
                   device: dict[str, Any] | None, ip: str | None, user_agent: str | None,
                   now: datetime) -> Answer | None:
    """``_FAST_CHECK_IN``: the answer, or None when the general path must judge the scan."""
    values = {
        "meeting_id": meeting_id, "user_id": actor.user_id, "nonce": nonce, "now": now,
        "action": str(ScanAction.CHECK_IN), "via": str(ScanVia.ROTATING), "distance_m": None,
        **_where_from(location, device, user_agent, ip), "created_at": now,
    }
    params = {f"p_{key}": value for key, value in values.items()}
    row = db.session.connection().execute(_FAST_CHECK_IN, params).first()
    if row is None:
        return None
    _scan_id, result, late, checked_in_at, signed_out_at, *brief = row
    meeting = _Row(zip(_BRIEF_KEYS, brief, strict=True))
    reason = None if result == "ok" else Reason.ALREADY_CHECKED_IN
    if reason is None:
        checked_in_at = now
    elif checked_in_at is None:  # a simultaneous scan checked this person in after our snapshot
        checked_in_at = _checked_in_at(meeting_id, actor.user_id)
    return _answer(reason, ScanAction.CHECK_IN, bool(late), meeting, had_location=bool(location),
                   checked_in_at=checked_in_at, signed_out_at=signed_out_at, now=now)


def _check_in_statement(scan_values: dict[str, Any], meeting_id: int, actor: Actor, late: bool, via: ScanVia,
                        now: datetime, new_invitee: bool) -> tuple[int | None, bool]:
    """One round trip (``_CHECK_IN``). Returns (scan id, or None when the nonce exists already; whether
    this scan checked the person in)."""
    number = None
    if new_invitee:  # an "all staff" meeting and someone bound after it was created
        person = users_service.people([actor.user_id])
        number = person[0].number if person else None
    params = {**scan_values, "inv_meeting_id": meeting_id, "inv_user_id": actor.user_id,
              "inv_name": actor.name or "-", "inv_number": number, "inv_department_id": actor.department_id,
              "inv_checked_in_at": now, "inv_late": late, "inv_check_in_via": str(via), "inv_created_at": now}
    scan_id, invitation_id = db.session.connection().execute(_CHECK_IN, params).one()
    return scan_id, invitation_id is not None


def _correct(scan_id: int, reason: Reason) -> None:
    """Our own scan row, not yet committed: the race was lost, record what the person was told."""
    db.session.execute(update(Scan).where(Scan.id == scan_id).values(result="error", reason=str(reason), late=False))


# --- organiser tools ------------------------------------------------------------------------------------


def counts(meeting_id: int) -> dict[str, int]:
    row = db.session.execute(select(
        func.count(),
        func.count(Invitation.checked_in_at),
        func.count().filter(and_(Invitation.checked_in_at.is_not(None), Invitation.late)),
        func.count().filter(and_(Invitation.checked_in_at.is_(None), Invitation.excused)),
        func.count(Invitation.signed_out_at),
    ).where(Invitation.meeting_id == meeting_id)).one()
    invited, checked_in, late, excused, signed_out = (int(v or 0) for v in row)
    return {"invited": invited, "checked_in": checked_in, "on_time": checked_in - late, "late": late,
            "excused": excused, "absent": invited - checked_in - excused, "signed_out": signed_out}


def live(*, actor: Actor, meeting_id: int) -> dict[str, Any]:
    """The organiser's live counter, with the last few people in."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    recent = db.session.execute(
        select(Invitation.user_id, Invitation.name, Invitation.checked_in_at, Invitation.late)
        .where(Invitation.meeting_id == meeting.id, Invitation.checked_in_at.is_not(None))
        .order_by(Invitation.checked_in_at.desc()).limit(5)).all()
    return {"meeting_id": meeting.id, "phase": phase(meeting), "server_time": clock.now(),
            "counts": counts(meeting.id),
            "recent": [{"user_id": r.user_id, "name": r.name, "checked_in_at": r.checked_in_at, "late": r.late}
                       for r in recent]}


def _attendee_for_update(meeting: Meeting, user_id: int) -> Invitation:
    inv = db.session.scalar(select(Invitation).where(Invitation.meeting_id == meeting.id,
                                                     Invitation.user_id == user_id).with_for_update())
    if inv is None:
        raise AttendeeNotFound()
    return inv


def _manual_scan(meeting: Meeting, user_id: int, action: ScanAction, actor: Actor, reason: str, late: bool,
                 now: datetime) -> None:
    db.session.add(Scan(meeting_id=meeting.id, user_id=user_id, nonce=f"manual-{secrets.token_hex(12)}",
                        action=str(action), via=str(ScanVia.MANUAL), result="ok", late=late,
                        recorded_by=actor.user_id, note=reason, created_at=now))


def manual_check_in(*, actor: Actor, meeting_id: int, user_id: int, reason: str) -> Invitation:
    """The organiser checks someone in by hand (phone flat, forgot it …); audited with the reason."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("meetings.cancelled", "会议已取消")
    inv = _attendee_for_update(meeting, user_id)
    if inv.checked_in_at is not None:
        raise Conflict("meetings.already_checked_in", "此人已签到")
    now = clock.now()
    late = now > meeting.late_at
    _manual_scan(meeting, user_id, ScanAction.CHECK_IN, actor, reason, late, now)
    inv.checked_in_at, inv.late, inv.check_in_via = now, late, str(ScanVia.MANUAL)
    db.session.flush()
    audit.record("meeting_attendance", inv.id, "manual_check_in", actor_id=actor.user_id,
                 before={"checked_in_at": None}, after={"checked_in_at": now.isoformat(), "late": late},
                 data={"meeting_id": meeting.id, "user_id": user_id, "reason": reason})
    return inv


def undo_check_in(*, actor: Actor, meeting_id: int, user_id: int, reason: str) -> Invitation:
    """Take a check-in back (a colleague scanned for someone absent …); audited with the reason."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    inv = _attendee_for_update(meeting, user_id)
    if inv.checked_in_at is None:
        raise Conflict("meetings.not_checked_in", "此人尚未签到")
    before = {"checked_in_at": inv.checked_in_at.isoformat(), "late": inv.late, "via": inv.check_in_via,
              "signed_out_at": inv.signed_out_at.isoformat() if inv.signed_out_at else None}
    now = clock.now()
    _manual_scan(meeting, user_id, ScanAction.UNDO, actor, reason, False, now)
    inv.checked_in_at, inv.late, inv.check_in_via, inv.signed_out_at = None, False, None, None
    db.session.flush()
    audit.record("meeting_attendance", inv.id, "undo_check_in", actor_id=actor.user_id, before=before,
                 after={"checked_in_at": None}, data={"meeting_id": meeting.id, "user_id": user_id, "reason": reason})
    return inv


def list_scans(*, actor: Actor, meeting_id: int, params: PageParams, result: str | None = None) -> list[Scan]:
    """The meeting's scan log, newest first (refused scans included)."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    stmt = select(Scan).where(Scan.meeting_id == meeting.id).order_by(Scan.id.desc())
    if result:
        stmt = stmt.where(Scan.result == result)
    return paginate(stmt, params)


# --- leave requests ---------------------------------------------------------------------------------------


def request_leave(*, actor: Actor, meeting_id: int, reason: str) -> LeaveRequest:
    meeting = get_visible(actor=actor, meeting_id=meeting_id)
    inv = _invitation(meeting.id, actor.user_id)
    if inv is None:
        raise Forbidden("meetings.not_invited", "你不在本次会议的参会名单中，无需请假")
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("meetings.cancelled", "会议已取消，无需请假")
    if clock.now() > meeting.checkin_closes_at:
        raise MeetingEnded("meetings.ended", "会议已结束，不能再请假")
    if inv.checked_in_at is not None:
        raise Conflict("meetings.already_checked_in", "你已签到，不能再请假")
    if _open_leave(meeting.id, actor.user_id) is not None:
        raise Conflict("meetings.leave_exists", "你已提交过请假申请")
    leave = LeaveRequest(meeting_id=meeting.id, user_id=actor.user_id, reason=reason.strip(),
                         status=str(LeaveStatus.PENDING))
    db.session.add(leave)
    db.session.flush()  # the partial unique index answers a simultaneous second request with 409
    audit.record("meeting_leave", leave.id, "request", actor_id=actor.user_id, after={"status": leave.status},
                 data={"meeting_id": meeting.id, "reason": leave.reason})
    notifications.notify(
        user_id=meeting.organiser_id, event=LEAVE_REQUESTED.event, title=f"请假申请：{inv.name}",
        body=f"{meeting.title}（{_when_text(meeting)}）：{leave.reason}",
        data=_message_data(meeting, requester=inv.name, reason=leave.reason),
        link=LEAVES_LINK.format(id=meeting.id), idempotency_key=f"meetings.leave_requested:{leave.id}")
    return leave


def _leave_for(actor: Actor, leave_id: int) -> tuple[LeaveRequest, Meeting]:
    leave = db.session.get(LeaveRequest, leave_id)
    meeting = db.session.get(Meeting, leave.meeting_id) if leave is not None else None
    if leave is None or meeting is None or not (leave.user_id == actor.user_id or _manages(meeting, actor)):
        raise LeaveNotFound()
    return leave, meeting


def _set_excused(meeting_id: int, user_id: int, excused: bool) -> None:
    db.session.execute(update(Invitation).where(Invitation.meeting_id == meeting_id, Invitation.user_id == user_id)
                       .values(excused=excused))


def decide_leave(*, actor: Actor, leave_id: int, approve: bool, note: str = "") -> LeaveRequest:
    leave, meeting = _leave_for(actor, leave_id)
    if not _manages(meeting, actor):
        raise NotOrganiser("meetings.forbidden", "只有会议组织者或管理员可以审批请假")
    now = clock.now()
    leave_machine.fire(leave, "approve" if approve else "reject", actor_id=actor.user_id, check_roles=False,
                       values={"decided_by": actor.user_id, "decided_at": now, "decision_note": note or None},
                       data={"meeting_id": meeting.id, "note": note})
    _set_excused(meeting.id, leave.user_id, approve)
    state = "已批准" if approve else "已驳回"
    notifications.notify(
        user_id=leave.user_id, event=LEAVE_DECIDED.event, title=f"请假{state}：{meeting.title}",
        body=note or f"{_when_text(meeting)}，{meeting.location}",
        data=_message_data(meeting, state=state, note=note or state), link=DETAIL_LINK.format(id=meeting.id),
        idempotency_key=f"meetings.leave_decided:{leave.id}:{leave.status}")
    return leave


def withdraw_leave(*, actor: Actor, leave_id: int) -> LeaveRequest:
    leave, meeting = _leave_for(actor, leave_id)
    if leave.user_id != actor.user_id:
        raise Forbidden("meetings.forbidden", "只能撤回自己的请假申请")
    leave_machine.fire(leave, "withdraw", actor_id=actor.user_id, check_roles=False,
                       data={"meeting_id": meeting.id})
    _set_excused(meeting.id, leave.user_id, False)
    return leave


def leave_view(leave: LeaveRequest, meeting: Meeting | None = None, name: str | None = None) -> dict[str, Any]:
    meeting = meeting or db.session.get(Meeting, leave.meeting_id)
    if name is None:
        name = db.session.scalar(select(Invitation.name).where(Invitation.meeting_id == leave.meeting_id,
                                                               Invitation.user_id == leave.user_id)) or ""
    return {**_leave_dict(leave), "meeting_id": leave.meeting_id, "meeting_title": meeting.title,
            "meeting_starts_at": meeting.starts_at, "user_id": leave.user_id, "name": name,
            "created_at": leave.created_at, "decided_at": leave.decided_at}


def list_leaves(*, actor: Actor, params: PageParams, meeting_id: int | None = None,
                status: str | None = None) -> list[dict[str, Any]]:
    """Leave requests of one meeting I manage, or of every meeting I organise (admins: all)."""
    stmt = (select(LeaveRequest, Meeting, Invitation.name)
            .join(Meeting, Meeting.id == LeaveRequest.meeting_id)
            .outerjoin(Invitation, and_(Invitation.meeting_id == LeaveRequest.meeting_id,
                                        Invitation.user_id == LeaveRequest.user_id))
            .order_by(LeaveRequest.id.desc()))
    if meeting_id is not None:
        stmt = stmt.where(LeaveRequest.meeting_id == get_managed(actor=actor, meeting_id=meeting_id).id)
    elif not actor.is_admin:
        stmt = stmt.where(Meeting.organiser_id == actor.user_id)
    if status:
        stmt = stmt.where(LeaveRequest.status == status)
    rows = paginate(stmt, params, scalars=False)
    return [leave_view(leave, meeting, name or "") for leave, meeting, name in rows]


# --- attendance --------------------------------------------------------------------------------------------


def attendance_status(inv: Invitation) -> AttendanceStatus:
    if inv.checked_in_at is not None:
        return AttendanceStatus.LATE if inv.late else AttendanceStatus.ON_TIME
    return AttendanceStatus.EXCUSED if inv.excused else AttendanceStatus.ABSENT


def _filter(stmt, status: str):
    if status == "checked_in":
        return stmt.where(Invitation.checked_in_at.is_not(None))
    if status == "on_time":
        return stmt.where(Invitation.checked_in_at.is_not(None), Invitation.late.is_(False))
    if status == "late":
        return stmt.where(Invitation.checked_in_at.is_not(None), Invitation.late.is_(True))
    if status == "excused":
        return stmt.where(Invitation.checked_in_at.is_(None), Invitation.excused.is_(True))
    if status == "absent":
        return stmt.where(Invitation.checked_in_at.is_(None), Invitation.excused.is_(False))
    return stmt


def _department_names() -> dict[int, str]:
    return {d.id: d.name for d in users_service.list_departments()}


def attendance(*, actor: Actor, meeting_id: int) -> dict[str, Any]:
    """invited / checked_in / late / excused / absent, overall and per department."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    names = _department_names()
    rows = db.session.execute(select(
        Invitation.department_id, func.count(), func.count(Invitation.checked_in_at),
        func.count().filter(and_(Invitation.checked_in_at.is_not(None), Invitation.late)),
        func.count().filter(and_(Invitation.checked_in_at.is_(None), Invitation.excused)),
    ).where(Invitation.meeting_id == meeting.id).group_by(Invitation.department_id)).all()
    departments = []
    for dept_id, invited, checked_in, late, excused in rows:
        departments.append({"department_id": dept_id, "department": names.get(dept_id, "未分部门"),
                            "invited": invited, "checked_in": checked_in, "on_time": checked_in - late, "late": late,
                            "excused": excused, "absent": invited - checked_in - excused})
    departments.sort(key=lambda d: (d["department_id"] is None, d["department"]))
    pending = db.session.scalar(select(func.count()).select_from(LeaveRequest).where(
        LeaveRequest.meeting_id == meeting.id, LeaveRequest.status == str(LeaveStatus.PENDING))) or 0
    return {"meeting_id": meeting.id, "title": meeting.title, "phase": phase(meeting), **counts(meeting.id),
            "pending_leaves": pending, "by_department": departments}


def _attendee(inv: Invitation, names: dict[int, str], leave: LeaveRequest | None) -> dict[str, Any]:
    status = attendance_status(inv)
    return {"user_id": inv.user_id, "name": inv.name, "number": inv.number, "department_id": inv.department_id,
            "department": names.get(inv.department_id) if inv.department_id else None,
            "status": str(status), "status_label": ATTENDANCE_LABELS[status], "checked_in_at": inv.checked_in_at,
            "late": inv.late, "check_in_via": inv.check_in_via, "signed_out_at": inv.signed_out_at,
            "excused": inv.excused, "leave": _leave_dict(leave) if leave is not None else None}


def attendee_view(inv: Invitation) -> dict[str, Any]:
    return _attendee(inv, _department_names(), _open_leave(inv.meeting_id, inv.user_id))


def _leave_join(stmt):
    return stmt.outerjoin(LeaveRequest, and_(
        LeaveRequest.meeting_id == Invitation.meeting_id, LeaveRequest.user_id == Invitation.user_id,
        LeaveRequest.status.in_([str(s) for s in OPEN_LEAVE_STATUSES])))


def attendees(*, actor: Actor, meeting_id: int, params: PageParams, status: str = "all",
              department_id: int | None = None) -> list[dict[str, Any]]:
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    stmt = _leave_join(select(Invitation, LeaveRequest).where(Invitation.meeting_id == meeting.id))
    stmt = _filter(stmt, status)
    if department_id is not None:
        stmt = stmt.where(Invitation.department_id == department_id)
    stmt = stmt.order_by(Invitation.checked_in_at.is_(None), Invitation.checked_in_at, Invitation.department_id,
                         Invitation.number, Invitation.id)
    names = _department_names()
    return [_attendee(inv, names, leave) for inv, leave in paginate(stmt, params, scalars=False)]


EXPORT_HEADER = ("姓名", "工号/学号", "部门", "出勤", "签到时间", "签到方式", "签退时间", "请假事由", "请假状态")


def export_attendance(*, actor: Actor, meeting_id: int) -> tuple[bytes, str]:
    """One row per invitee (.xlsx); the export itself is logged (who, what, when)."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    names = _department_names()
    stmt = _leave_join(select(Invitation, LeaveRequest).where(Invitation.meeting_id == meeting.id)).order_by(
        Invitation.department_id.nulls_last(), Invitation.number, Invitation.id)
    rows = []
    for inv, leave in db.session.execute(stmt).all():
        status = attendance_status(inv)
        rows.append((
            inv.name, inv.number or "", names.get(inv.department_id, "") if inv.department_id else "",
            ATTENDANCE_LABELS[status],
            clock.to_local(inv.checked_in_at).strftime("%Y-%m-%d %H:%M:%S") if inv.checked_in_at else "",
            VIA_LABELS[ScanVia(inv.check_in_via)] if inv.check_in_via else "",
            clock.to_local(inv.signed_out_at).strftime("%Y-%m-%d %H:%M:%S") if inv.signed_out_at else "",
            leave.reason if leave else "", LEAVE_LABELS[LeaveStatus(leave.status)] if leave else "",
        ))
    c = counts(meeting.id)
    summary = [("会议", meeting.title), ("时间", _when_text(meeting)), ("地点", meeting.location),
               ("应到", c["invited"]), ("实到", c["checked_in"]), ("迟到", c["late"]), ("请假", c["excused"]),
               ("缺席", c["absent"])]
    data = write_workbook([("签到名单", EXPORT_HEADER, rows), ("汇总", ("项目", "数值"), summary)])
    audit.record("meeting", meeting.id, "export", actor_id=actor.user_id, data={"rows": len(rows)})
    local = clock.to_local(meeting.starts_at)
    return data, f"签到表-{meeting.title}-{local:%Y%m%d}.xlsx"


def current_term(today: date) -> tuple[date, date]:
    """上学期 1 Aug – 31 Jan, 下学期 1 Feb – 31 Jul (school time)."""
    if today.month >= 8:
        return date(today.year, 8, 1), date(today.year + 1, 1, 31)
    if today.month == 1:
        return date(today.year - 1, 8, 1), date(today.year, 1, 31)
    return date(today.year, 2, 1), date(today.year, 7, 31)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.school_zone())


def history(*, actor: Actor, user_id: int | None = None, start: date | None = None,
            end: date | None = None) -> dict[str, Any]:
    """A person's meetings in a term (default: the current one): attendance rate and lates. Yours, or
    anyone's for admins. Rate = checked in / (invited − excused), over meetings whose check-in has
    closed (cancelled ones do not count)."""
    user_id = user_id or actor.user_id
    if user_id != actor.user_id and not actor.is_admin:
        raise NotFound("meetings.person_not_found", "未找到此人")
    default_start, default_end = current_term(clock.local_now().date())
    start, end = start or default_start, end or default_end
    if end < start:
        raise ValidationFailed(errors={"end": ["结束日期不能早于开始日期"]})
    now = clock.now()
    rows = db.session.execute(
        select(Meeting, Invitation).join(Invitation, Invitation.meeting_id == Meeting.id)
        .where(Invitation.user_id == user_id, Meeting.status == str(MeetingStatus.SCHEDULED),
               Meeting.starts_at >= _local_midnight(start),
               Meeting.starts_at < _local_midnight(end + timedelta(days=1)),
               Meeting.checkin_closes_at < now)
        .order_by(Meeting.starts_at.desc())).all()
    person = users_service.people([user_id])
    tally = dict.fromkeys(("invited", "checked_in", "late", "excused", "absent"), 0)
    items = []
    for meeting, inv in rows:
        status = attendance_status(inv)
        tally["invited"] += 1
        tally["checked_in"] += inv.checked_in_at is not None
        tally["late"] += status == AttendanceStatus.LATE
        tally["excused"] += status == AttendanceStatus.EXCUSED
        tally["absent"] += status == AttendanceStatus.ABSENT
        items.append({"meeting_id": meeting.id, "title": meeting.title, "starts_at": meeting.starts_at,
                      "location": meeting.location, "status": str(status), "status_label": ATTENDANCE_LABELS[status],
                      "checked_in_at": inv.checked_in_at})
    expected = tally["invited"] - tally["excused"]
    return {"user_id": user_id, "name": person[0].name if person else "", "start": start, "end": end, **tally,
            "rate": round(tally["checked_in"] / expected, 4) if expected else None, "meetings": items}


# --- timers: reminder, absentees, summary -------------------------------------------------------------------


def _lead() -> timedelta:
    return timedelta(minutes=current_app.config["MEETING_REMINDER_MINUTES"])


_TOLERANCE = timedelta(seconds=5)


def _arm_timers(meeting: Meeting) -> None:
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


def _due_reminders(now: datetime):
    return and_(Meeting.status == str(MeetingStatus.SCHEDULED), Meeting.reminder_sent_at.is_(None),
                Meeting.starts_at <= now + _lead() + _TOLERANCE, Meeting.starts_at > now)


def _due_absentees(now: datetime):
    after = timedelta(minutes=ABSENTEE_REMINDER_MINUTES)
    return and_(Meeting.status == str(MeetingStatus.SCHEDULED), Meeting.absentee_sent_at.is_(None),
                Meeting.starts_at <= now - after + _TOLERANCE, Meeting.checkin_closes_at > now,
                Meeting.starts_at > now - after - timedelta(hours=SWEEP_LOOKBACK_HOURS))


def _due_summaries(now: datetime):
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


def _blocked_by_leave(meeting_id: int):
    return select(LeaveRequest.user_id).where(LeaveRequest.meeting_id == meeting_id,
                                              LeaveRequest.status.in_([str(s) for s in OPEN_LEAVE_STATUSES]))


def send_reminder(meeting_id: int) -> int:
    """Before start: remind invitees who are not in yet and have not asked for leave. Returns how many."""
    meeting = _claim(meeting_id, Meeting.reminder_sent_at, _due_reminders)
    if meeting is None:
        return 0
    user_ids = db.session.scalars(select(Invitation.user_id).where(
        Invitation.meeting_id == meeting.id, Invitation.checked_in_at.is_(None), Invitation.excused.is_(False),
        Invitation.user_id.not_in(_blocked_by_leave(meeting.id)))).all()
    stamp = int(meeting.starts_at.timestamp())
    for uid in user_ids:
        notifications.notify(
            user_id=uid, event=REMINDER.event, title=f"会议即将开始：{meeting.title}",
            body=f"{_when_text(meeting)}，{meeting.location}。到场后请扫码签到",
            data=_message_data(meeting), link=DETAIL_LINK.format(id=meeting.id),
            idempotency_key=f"meetings.reminder:{meeting.id}:{stamp}:{uid}")
    return len(user_ids)


def send_absentee_reminder(meeting_id: int) -> int:
    """At start + 10 min: those not yet in (and not on leave) are told, urgently (no quiet hours)."""
    meeting = _claim(meeting_id, Meeting.absentee_sent_at, _due_absentees)
    if meeting is None:
        return 0
    user_ids = db.session.scalars(select(Invitation.user_id).where(
        Invitation.meeting_id == meeting.id, Invitation.checked_in_at.is_(None), Invitation.excused.is_(False),
        Invitation.user_id.not_in(_blocked_by_leave(meeting.id)))).all()
    stamp = int(meeting.starts_at.timestamp())
    for uid in user_ids:
        notifications.notify(
            user_id=uid, event=ABSENT.event, title=f"你还未签到：{meeting.title}",
            body=f"会议已于 {clock.to_local(meeting.starts_at):%H:%M} 开始（{meeting.location}），请尽快到场扫码签到",
            data=_message_data(meeting, hint="会议已开始，请尽快签到"), link=DETAIL_LINK.format(id=meeting.id),
            urgency="urgent", idempotency_key=f"meetings.absent:{meeting.id}:{stamp}:{uid}")
    return len(user_ids)


def send_summary(meeting_id: int) -> bool:
    """After check-in closes: the organiser gets the figures."""
    meeting = _claim(meeting_id, Meeting.summary_sent_at, _due_summaries)
    if meeting is None:
        return False
    c = counts(meeting.id)
    body = f"应到{c['invited']} 实到{c['checked_in']} 迟到{c['late']} 请假{c['excused']} 缺席{c['absent']}"
    short = f"实到{c['checked_in']}/{c['invited']} 迟到{c['late']} 请假{c['excused']}"  # a `thing` holds 20
    notifications.notify(
        user_id=meeting.organiser_id, event=SUMMARY.event, title=f"签到结果：{meeting.title}", body=body,
        data=_message_data(meeting, figures=short, **c), link=REPORT_LINK.format(id=meeting.id),
        idempotency_key=f"meetings.summary:{meeting.id}:{int(meeting.checkin_closes_at.timestamp())}")
    events.meeting_closed.send(meeting.id, **c)
    return True


def sweep(*, limit: int = 200) -> dict[str, int]:
    """Catch timers that were lost (Redis flushed, a worker down) and extend series horizons."""
    now = clock.now()
    done = {"reminders": 0, "absentees": 0, "summaries": 0, "occurrences": 0}
    for key, due, send in (("reminders", _due_reminders, send_reminder),
                           ("absentees", _due_absentees, send_absentee_reminder),
                           ("summaries", _due_summaries, send_summary)):
        due_ids = db.session.scalars(select(Meeting.id).where(due(now)).order_by(Meeting.id).limit(limit)).all()
        for meeting_id in due_ids:
            done[key] += bool(send(meeting_id))
    horizon = now + timedelta(weeks=SERIES_HORIZON_WEEKS)
    stale = db.session.scalars(select(MeetingSeries).where(
        MeetingSeries.status == str(SeriesStatus.ACTIVE),
        or_(MeetingSeries.generated_until.is_(None), MeetingSeries.generated_until < horizon - timedelta(days=7)))
        .limit(limit)).all()
    for series in stale:
        try:
            with db.session.begin_nested():  # one broken series (its room deleted …) must not stop the sweep
                done["occurrences"] += len(_generate(series))
        except AppError:
            log.exception("meeting series could not be extended", extra={"series": series.id})
    return done


# --- recurring series ------------------------------------------------------------------------------------------


_TEMPLATE_KEYS = ("title", "description", "place_id", "location", "opens_before_minutes", "late_after_minutes",
                  "closes_after_end_minutes", "geofence", "allow_static_code", "sign_out_enabled", "audience")
_WEEKDAYS = "一二三四五六日"


def _series_text(series: MeetingSeries) -> str:
    start = clock.to_local(series.first_starts_at)
    every = "每周" if series.interval_weeks == 1 else f"每{series.interval_weeks}周"
    return f"{every}{_WEEKDAYS[start.weekday()]} {start:%H:%M}，{start.month}月{start.day}日起"


def _occurrence_starts(series: MeetingSeries, upto: datetime) -> list[datetime]:
    first = clock.to_local(series.first_starts_at)
    out = []
    for k in range(MAX_SERIES_OCCURRENCES):
        start = first + timedelta(weeks=k * series.interval_weeks)  # wall-clock arithmetic in the school's zone
        if start > upto or (series.until is not None and start.date() > series.until):
            break
        out.append(start)
    return out


def _occurrence_data(series: MeetingSeries, local_start: datetime) -> dict[str, Any]:
    data = {k: series.template.get(k) for k in _TEMPLATE_KEYS}
    data["starts_at"] = local_start
    data["ends_at"] = local_start + timedelta(minutes=series.duration_minutes)
    return data


def _generate(series: MeetingSeries, *, notify_series: bool = False, actor_id: int | None = None) -> list[Meeting]:
    """Create the occurrences up to the horizon that do not exist yet (idempotent)."""
    now = clock.now()
    horizon = now + timedelta(weeks=SERIES_HORIZON_WEEKS)
    existing = set(db.session.scalars(select(Meeting.occurrence_date).where(Meeting.series_id == series.id)))
    created = []
    for local_start in _occurrence_starts(series, horizon):
        if local_start.date() in existing or local_start + timedelta(minutes=series.duration_minutes) <= now:
            continue
        meeting = Meeting(code=_new_code(), organiser_id=series.organiser_id, series_id=series.id,
                          occurrence_date=local_start.date(), status=str(MeetingStatus.SCHEDULED))
        _apply(meeting, _occurrence_data(series, local_start))
        db.session.add(meeting)
        db.session.flush()
        added, _kept, _removed = _materialise(meeting)
        _arm_timers(meeting)
        created.append((meeting, added))
    series.generated_until = horizon
    if created and notify_series:
        invited = {uid for _m, added in created for uid in added}
        _notify_invited(created[0][0], sorted(invited), series=series)
    if created:
        audit.record("meeting_series", series.id, "generate", actor_id=actor_id,
                     data={"meetings": [m.id for m, _a in created]})
    return [m for m, _a in created]


def _check_series_input(data: dict[str, Any]) -> None:
    if data["ends_at"] <= clock.now():
        raise ValidationFailed("meetings.in_the_past", "会议结束时间已过", errors={"ends_at": ["会议结束时间已过"]})
    repeat = data.get("repeat") or {}
    until = repeat.get("until")
    if until is not None and until < clock.to_local(data["starts_at"]).date():
        raise ValidationFailed(errors={"repeat": {"until": ["结束日期不能早于第一次会议"]}})


def _template(data: dict[str, Any]) -> dict[str, Any]:
    template = {k: data.get(k) for k in _TEMPLATE_KEYS}
    template["audience"] = _normalise_audience(data["audience"])
    return template


def create_series(*, actor: Actor, data: dict[str, Any]) -> MeetingSeries:
    _require_creator(actor)
    _check_series_input(data)
    repeat = data.get("repeat") or {}
    series = MeetingSeries(
        organiser_id=actor.user_id, title=data["title"].strip(), template=_template(data),
        first_starts_at=data["starts_at"], interval_weeks=repeat.get("interval_weeks", 1),
        duration_minutes=int((data["ends_at"] - data["starts_at"]).total_seconds() // 60),
        until=repeat.get("until"), status=str(SeriesStatus.ACTIVE))
    if repeat.get("count"):
        last = clock.to_local(data["starts_at"]) + timedelta(weeks=(repeat["count"] - 1) * series.interval_weeks)
        series.until = min(series.until, last.date()) if series.until else last.date()
    db.session.add(series)
    db.session.flush()
    audit.record("meeting_series", series.id, "create", actor_id=actor.user_id,
                 after={"title": series.title, "first_starts_at": series.first_starts_at.isoformat(),
                        "interval_weeks": series.interval_weeks})
    if not _generate(series, notify_series=True, actor_id=actor.user_id):
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
    """Change the series and its future occurrences that were not edited on their own. The weekday
    stays (a different day is a new series); the time of day and the length may change."""
    series = _managed_series(actor, series_id)
    if series.status != SeriesStatus.ACTIVE:
        raise Conflict("meetings.series_cancelled", "周期会议已停止")
    first = clock.to_local(series.first_starts_at)
    new_start = clock.to_local(data["starts_at"])
    if new_start.weekday() != first.weekday():
        raise ValidationFailed("meetings.series_weekday", "周期会议不能更改星期，请停止后重新创建",
                               errors={"starts_at": ["不能更改星期"]})
    series.template = _template(data)
    series.title = data["title"].strip()
    series.first_starts_at = datetime.combine(first.date(), new_start.timetz())
    series.duration_minutes = int((data["ends_at"] - data["starts_at"]).total_seconds() // 60)
    changed = []
    for meeting in _future_occurrences(series):
        if meeting.detached:
            continue
        local = datetime.combine(meeting.occurrence_date, new_start.timetz())
        _edit(meeting, _occurrence_data(series, local), actor_id=actor.user_id, notify_added=False)
        changed.append(meeting.id)
    audit.record("meeting_series", series.id, "update", actor_id=actor.user_id, data={"meetings": changed})
    _generate(series, actor_id=actor.user_id)
    return series


def cancel_series(*, actor: Actor, series_id: int, reason: str = "") -> MeetingSeries:
    """Stop the series: future occurrences are cancelled (each invitee is told once)."""
    series = _managed_series(actor, series_id)
    if series.status != SeriesStatus.ACTIVE:
        raise Conflict("meetings.series_cancelled", "周期会议已停止")
    series.status = str(SeriesStatus.CANCELLED)
    told: set[int] = set()
    future = _future_occurrences(series)
    for meeting in future:
        _cancel(meeting, actor_id=actor.user_id, reason=reason, notify=False)
        told.update(db.session.scalars(select(Invitation.user_id).where(Invitation.meeting_id == meeting.id)))
    audit.record("meeting_series", series.id, "cancel", actor_id=actor.user_id,
                 data={"reason": reason, "meetings": [m.id for m in future]})
    if future:
        for uid in sorted(told):
            notifications.notify(
                user_id=uid, event=CHANGED.event, title=f"周期会议已停止：{series.title}",
                body=f"{_series_text(series)}" + (f"。{reason}" if reason else ""),
                data=_message_data(future[0], state="已取消"), link=DETAIL_LINK.format(id=future[0].id),
                idempotency_key=f"meetings.series_cancelled:{series.id}:{uid}")
    return series


def series_view(series: MeetingSeries, actor: Actor) -> dict[str, Any]:
    occurrences = db.session.scalars(select(Meeting).where(Meeting.series_id == series.id)
                                     .order_by(Meeting.starts_at)).all()
    return {"id": series.id, "title": series.title, "status": series.status,
            "interval_weeks": series.interval_weeks, "until": series.until,
            "first_starts_at": series.first_starts_at, "duration_minutes": series.duration_minutes,
            "description": _series_text(series), "template": series.template,
            "occurrences": [{"id": m.id, "starts_at": m.starts_at, "ends_at": m.ends_at, "status": m.status,
                             "detached": m.detached, "phase": phase(m)} for m in occurrences]}


def get_series(*, actor: Actor, series_id: int) -> dict[str, Any]:
    series = db.session.get(MeetingSeries, series_id)
    if series is None or not (actor.is_admin or series.organiser_id == actor.user_id):
        raise SeriesNotFound()
    return series_view(series, actor)


# --- demo data -------------------------------------------------------------------------------------------------


def seed_demo() -> None:
    """A staff meeting (all staff, with sign-out, starting within the hour) and the 语文教研组's weekly
    meeting (8 weeks). Demo data sends nothing: no invitations, no timers, reminders marked done, and a
    series that ends with its seeded occurrences — so a running sweep (or another domain's tests, which
    seed this data and move the clock) never turns demo meetings into messages."""
    demo_users = users_seed.demo_user_ids()
    admin, teacher = demo_users.get("admin"), demo_users.get("teacher")
    if admin is None or teacher is None:
        return
    now = clock.now()
    quiet = {"reminder_sent_at": now, "absentee_sent_at": now, "summary_sent_at": now}
    if db.session.scalar(select(Meeting.id).where(Meeting.code == "DEMOALL1")) is None:
        room = places_service.get_by_code("E-ADM-301")
        start = clock.local_now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        meeting = Meeting(code="DEMOALL1", organiser_id=admin, status=str(MeetingStatus.SCHEDULED), **quiet)
        _apply(meeting, {"title": "全体教职工大会", "description": "学期工作部署", "place_id": room.id,
                         "starts_at": start, "ends_at": start + timedelta(hours=1), "sign_out_enabled": True,
                         "audience": {"all_staff": True}})
        db.session.add(meeting)
        db.session.flush()
        _materialise(meeting)
    if db.session.scalar(select(MeetingSeries.id).where(MeetingSeries.organiser_id == teacher)) is None:
        chinese = [d.id for d in users_service.list_departments() if d.name == "语文教研组"]
        start = clock.local_now().replace(hour=16, minute=0, second=0, microsecond=0) + timedelta(days=1)
        series = MeetingSeries(
            organiser_id=teacher, title="语文教研组例会", first_starts_at=start, duration_minutes=60,
            interval_weeks=1, until=(start + timedelta(weeks=SERIES_HORIZON_WEEKS - 1)).date(),
            status=str(SeriesStatus.ACTIVE),
            template={"title": "语文教研组例会", "description": "", "place_id": None, "location": "教学楼A 2F 教研室",
                      "opens_before_minutes": 30, "late_after_minutes": 5, "closes_after_end_minutes": 0,
                      "geofence": None, "allow_static_code": False, "sign_out_enabled": False,
                      "audience": {"all_staff": False, "department_ids": chinese, "class_ids": [],
                                   "class_members": "students", "roles": [], "user_ids": [admin]}})
        db.session.add(series)
        db.session.flush()
        for local_start in _occurrence_starts(series, now + timedelta(weeks=SERIES_HORIZON_WEEKS)):
            meeting = Meeting(code=_new_code(), organiser_id=teacher, series_id=series.id,
                              occurrence_date=local_start.date(), status=str(MeetingStatus.SCHEDULED), **quiet)
            _apply(meeting, _occurrence_data(series, local_start))
            db.session.add(meeting)
            db.session.flush()
            _materialise(meeting)
        series.generated_until = now + timedelta(weeks=SERIES_HORIZON_WEEKS)
