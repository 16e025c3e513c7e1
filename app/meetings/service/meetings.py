"""An organiser creates, edits and cancels a meeting; the people it concerns read it and list theirs.

* **Invitees are materialised** (one ``Invitation`` row per person, at creation and on every edit)
  so attendance is a GROUP BY; "all staff" meetings also accept staff bound after creation (their
  row is added by their first scan).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import Conflict, ValidationFailed
from app.core.pagination import PageParams, paginate
from app.core.statemachine import Fired, StateMachine
from app.meetings import events
from app.meetings.models import Invitation, Meeting
from app.meetings.service.access import (
    get_managed,
    get_visible,
    invitation,
    manages,
    open_to,
    require_creator,
    roles_on,
)
from app.meetings.service.attendance_report import attendance_status, counts, excused
from app.meetings.service.leave import leave_dict, open_leave
from app.meetings.service.notices import CHANGED, DETAIL_LINK, message_data, notify_invited, when_text
from app.meetings.service.timeline import MeetingEnded, phase, require_future_end, window_for
from app.meetings.service.timers import arm_timers, disarm_timers
from app.meetings.states import (
    DEFAULT_CLOSES_AFTER_END_MINUTES,
    DEFAULT_LATE_AFTER_MINUTES,
    DEFAULT_OPENS_BEFORE_MINUTES,
    MAX_INVITEES,
    MEETING_LABELS,
    MEETING_TRANSITIONS,
    AttendanceStatus,
    ClassMembers,
    MeetingStatus,
)
from app.notifications import service as notifications
from app.places import service as places_service
from app.users import service as users_service

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

meeting_machine = StateMachine(Meeting, MEETING_TRANSITIONS, entity="meetings", labels=MEETING_LABELS)


def new_code() -> str:
    for _ in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        if db.session.scalar(select(Meeting.id).where(Meeting.code == code)) is None:
            return code
    raise RuntimeError("could not find a free meeting code")  # 32^8 codes: not in this universe


def normalise_audience(audience: dict[str, Any]) -> dict[str, Any]:
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


def materialise(meeting: Meeting) -> tuple[list[int], list[int], list[int]]:
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


def apply(meeting: Meeting, data: dict[str, Any]) -> None:
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
    meeting.audience = normalise_audience(data["audience"])


def create_meeting(*, actor: Actor, data: dict[str, Any]) -> Meeting:
    require_creator(actor)
    require_future_end(data["ends_at"])
    meeting = Meeting(code=new_code(), organiser_id=actor.user_id, status=str(MeetingStatus.SCHEDULED))
    apply(meeting, data)
    db.session.add(meeting)
    db.session.flush()
    added, _kept, _removed = materialise(meeting)
    audit.record("meeting", meeting.id, "create", actor_id=actor.user_id,
                 after={"title": meeting.title, "starts_at": meeting.starts_at.isoformat(), "invitees": len(added)})
    notify_invited(meeting, added)
    arm_timers(meeting)
    events.meeting_created.send(meeting.id, organiser_id=actor.user_id)
    return meeting


def update_meeting(*, actor: Actor, meeting_id: int, data: dict[str, Any]) -> Meeting:
    meeting = get_managed(actor=actor, meeting_id=meeting_id, lock=True)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise Conflict("meetings.cancelled", "会议已取消，不能修改")
    if meeting.checkin_closes_at <= clock.now():
        raise MeetingEnded()
    require_future_end(data["ends_at"])
    edit(meeting, data, actor_id=actor.user_id)
    if meeting.series_id is not None:
        meeting.detached = True
    return meeting


def edit(meeting: Meeting, data: dict[str, Any], *, actor_id: int | None, notify_added: bool = True) -> None:
    before = {"title": meeting.title, "starts_at": meeting.starts_at.isoformat(),
              "ends_at": meeting.ends_at.isoformat(), "location": meeting.location}
    old_times = (meeting.starts_at, meeting.checkin_closes_at)
    apply(meeting, data)
    db.session.flush()
    added, kept, removed = materialise(meeting)
    after = {"title": meeting.title, "starts_at": meeting.starts_at.isoformat(),
             "ends_at": meeting.ends_at.isoformat(), "location": meeting.location}
    audit.record("meeting", meeting.id, "update", actor_id=actor_id, before=before, after=after,
                 data={"added": len(added), "removed": len(removed)})
    if notify_added:
        notify_invited(meeting, added)
    if (before["starts_at"], before["ends_at"], before["location"]) != (after["starts_at"], after["ends_at"],
                                                                       after["location"]):
        stamp = int(clock.now().timestamp())
        notifications.notify_many(
            user_ids=kept, event=CHANGED.event, title=f"会议变更：{meeting.title}",
            body=f"新的时间地点：{when_text(meeting)}，{meeting.location}",
            data=message_data(meeting, state="已变更"), link=DETAIL_LINK.format(id=meeting.id),
            idempotency_key=f"meetings.changed:{meeting.id}:{stamp}")
    if (meeting.starts_at, meeting.checkin_closes_at) != old_times:
        meeting.reminder_sent_at = meeting.absentee_sent_at = meeting.summary_sent_at = None
        arm_timers(meeting)


def cancel_meeting(*, actor: Actor, meeting_id: int, reason: str = "") -> Meeting:
    """Cancel a meeting; its people are told. Cancelling it again (a double tap) is a success that
    changes nothing."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    if meeting.checkin_closes_at <= clock.now():
        raise MeetingEnded("meetings.ended", "会议已结束，不能取消")
    cancel(meeting, actor=actor, reason=reason)
    if meeting.series_id is not None:
        meeting.detached = True
    return meeting


def cancel(meeting: Meeting, *, actor: Actor, reason: str, notify: bool = True) -> Fired:
    fired = meeting_machine.fire(meeting, "cancel", actor_id=actor.user_id, roles=roles_on(actor, meeting),
                                 data={"reason": reason}, repeat=True)
    if fired.ignored:
        return fired
    disarm_timers(meeting)
    if not notify:
        return fired
    user_ids = db.session.scalars(select(Invitation.user_id).where(Invitation.meeting_id == meeting.id)).all()
    notifications.notify_many(
        user_ids=user_ids, event=CHANGED.event, title=f"会议已取消：{meeting.title}",
        body=f"原定 {when_text(meeting)}，{meeting.location}" + (f"。{reason}" if reason else ""),
        data=message_data(meeting, state="已取消"), link=DETAIL_LINK.format(id=meeting.id),
        idempotency_key=f"meetings.cancelled:{meeting.id}")
    events.meeting_cancelled.send(meeting.id)
    return fired


def _organiser_names(meetings: Iterable[Meeting]) -> dict[int, str]:
    return {p.user_id: p.name for p in users_service.people(sorted({m.organiser_id for m in meetings}))}


def _mine(meeting: Meeting, actor: Actor) -> dict[str, Any] | None:
    inv = invitation(meeting.id, actor.user_id)
    if inv is None and not open_to(meeting, actor):
        return None
    leave = open_leave(meeting.id, actor.user_id)
    return {
        "invited": inv is not None or open_to(meeting, actor),
        "status": str(attendance_status(inv)) if inv is not None else str(AttendanceStatus.ABSENT),
        "checked_in_at": inv.checked_in_at if inv else None,
        "late": inv.late if inv else False,
        "signed_out_at": inv.signed_out_at if inv else None,
        "excused": excused(inv) if inv else False,
        "leave": leave_dict(leave) if leave is not None else None,
    }


def meeting_view(meeting: Meeting, actor: Actor, *, organiser_name: str | None = None,
                 with_mine: bool = True) -> dict[str, Any]:
    can_manage = manages(meeting, actor)
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
        "can_manage": can_manage,
        "audience": meeting.audience if can_manage else None,
        "mine": _mine(meeting, actor) if with_mine else None,
        "counts": counts(meeting.id) if can_manage else None,
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
