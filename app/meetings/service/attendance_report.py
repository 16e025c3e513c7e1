"""Who came: the live counter, a meeting's figures (overall and per department), the attendee list
and its .xlsx export, and a person's attendance over a term.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import PageParams, paginate
from app.core.sheets import write_workbook
from app.meetings.models import Invitation, LeaveRequest, Meeting
from app.meetings.service.access import get_managed
from app.meetings.service.leave import leave_dict, open_leave
from app.meetings.service.notices import when_text
from app.meetings.service.timeline import phase
from app.meetings.states import (
    ATTENDANCE_LABELS,
    LEAVE_LABELS,
    OPEN_LEAVE_STATUSES,
    VIA_LABELS,
    AttendanceStatus,
    LeaveStatus,
    MeetingStatus,
    ScanVia,
)
from app.users import service as users_service


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


def attendance_status(inv: Invitation) -> AttendanceStatus:
    if inv.checked_in_at is not None:
        return AttendanceStatus.LATE if inv.late else AttendanceStatus.ON_TIME
    return AttendanceStatus.EXCUSED if inv.excused else AttendanceStatus.ABSENT


def excused(inv: Invitation) -> bool:
    """Excused as the figures count it: approved leave and not checked in. Someone who came anyway
    attended; their leave request stays on record (``leave``)."""
    return attendance_status(inv) == AttendanceStatus.EXCUSED


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
            "excused": excused(inv), "leave": leave_dict(leave) if leave is not None else None}


def attendee_view(inv: Invitation) -> dict[str, Any]:
    return _attendee(inv, _department_names(), open_leave(inv.meeting_id, inv.user_id))


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
    summary = [("会议", meeting.title), ("时间", when_text(meeting)), ("地点", meeting.location),
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


def overall(*, actor: Actor, start: date, end: date) -> dict[str, Any]:
    """Everyone's attendance at the meetings that started between ``start`` and ``end`` (school dates,
    both included) and whose check-in has closed, cancelled ones left out: the console's 本周会议出勤率.
    Admins only. Rate = checked in / (invited − excused), as in ``history``."""
    require_roles(actor, "admin")
    held = and_(Meeting.status == str(MeetingStatus.SCHEDULED), Meeting.starts_at >= _local_midnight(start),
                Meeting.starts_at < _local_midnight(end + timedelta(days=1)), Meeting.checkin_closes_at < clock.now())
    row = db.session.execute(
        select(func.count(func.distinct(Meeting.id)), func.count(Invitation.id),
               func.count(Invitation.checked_in_at),
               func.count().filter(and_(Invitation.checked_in_at.is_not(None), Invitation.late)),
               func.count().filter(and_(Invitation.checked_in_at.is_(None), Invitation.excused)))
        .select_from(Meeting).join(Invitation, Invitation.meeting_id == Meeting.id).where(held)).one()
    meetings, invited, checked_in, late, excused_ = (int(v or 0) for v in row)
    expected = invited - excused_
    return {"start": start, "end": end, "meetings": meetings, "invited": invited, "checked_in": checked_in,
            "late": late, "excused": excused_, "absent": expected - checked_in,
            "rate": round(checked_in / expected, 4) if expected else None}
