"""The admins' overview of every meeting (the console's 会议 pages): the meetings of a period with their
figures (filtered by the organiser's department), attendance by department over a period, a person's
record (invitations, check-ins, leave requests), and their .xlsx exports (write-only, rows streamed from
the query; each export audited). Admins only.

Rate = checked in / (invited − excused) everywhere, as ``attendance_report.history`` counts it; by
department and in a person's figures only meetings whose check-in has closed count (cancelled ones do
not), the meetings list shows each meeting's figures as they stand.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import ValidationFailed
from app.core.pagination import PageParams, paginate
from app.core.sheets import write_workbook
from app.meetings.models import Invitation, LeaveRequest, Meeting
from app.meetings.service.attendance_report import _local_midnight, attendance_status, history
from app.meetings.states import ATTENDANCE_LABELS, LEAVE_LABELS, MEETING_LABELS, LeaveStatus, MeetingStatus
from app.users import service as users_service

_FORBIDDEN = {"error_code": "meetings.forbidden", "message": "只有管理员可以查看全部会议"}
_STREAM = 500


def _period(start: date, end: date):
    if end < start:
        raise ValidationFailed(message="结束日期不能早于开始日期", errors={"end": ["结束日期不能早于开始日期"]})
    return and_(Meeting.starts_at >= _local_midnight(start),
                Meeting.starts_at < _local_midnight(end + timedelta(days=1)))


def _rate(checked_in: int, invited: int, excused: int) -> float | None:
    expected = invited - excused
    return round(checked_in / expected, 4) if expected > 0 else None


def _figures(invited, checked_in, late, excused) -> dict[str, Any]:
    invited, checked_in, late, excused = (int(v or 0) for v in (invited, checked_in, late, excused))
    return {"invited": invited, "checked_in": checked_in, "late": late, "excused": excused,
            "absent": invited - checked_in - excused, "rate": _rate(checked_in, invited, excused)}


def _tally():
    """invited, checked in, late, excused of the invitations a query groups (as ``counts``)."""
    return (func.count(Invitation.id), func.count(Invitation.checked_in_at),
            func.count(Invitation.id).filter(and_(Invitation.checked_in_at.is_not(None), Invitation.late)),
            func.count(Invitation.id).filter(and_(Invitation.checked_in_at.is_(None), Invitation.excused)))


def _meetings_stmt(start: date, end: date, department_id: int | None):
    figures = (select(Invitation.meeting_id, *(c.label(n) for c, n in zip(
        _tally(), ("invited", "checked_in", "late", "excused"), strict=True)))
        .group_by(Invitation.meeting_id).subquery())
    stmt = (select(Meeting, figures.c.invited, figures.c.checked_in, figures.c.late, figures.c.excused)
            .outerjoin(figures, figures.c.meeting_id == Meeting.id).where(_period(start, end))
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc()))
    if department_id is not None:
        stmt = stmt.where(Meeting.organiser_id.in_(users_service.staff_user_ids(department_ids=[department_id])))
    return stmt


def _meeting_rows(rows) -> list[dict[str, Any]]:
    rows = list(rows)
    organisers = {p.user_id: p for p in users_service.people(sorted({r[0].organiser_id for r in rows}))}
    departments = {d.id: d.name for d in users_service.list_departments()}
    out = []
    for meeting, *tally in rows:
        organiser = organisers.get(meeting.organiser_id)
        out.append({"id": meeting.id, "title": meeting.title, "starts_at": meeting.starts_at,
                    "location": meeting.location, "status": meeting.status,
                    "status_label": MEETING_LABELS.statuses[MeetingStatus(meeting.status)],
                    "organiser": organiser.name if organiser else "",
                    "organiser_department": departments.get(organiser.department_id, "") if organiser else "",
                    **_figures(*tally)})
    return out


def all_meetings(*, actor: Actor, params: PageParams, start: date, end: date,
                 department_id: int | None = None) -> list[dict[str, Any]]:
    """Every meeting that starts between ``start`` and ``end`` (school dates, both included), latest first,
    with its figures; ``department_id``: those whose organiser is of that department."""
    require_roles(actor, "admin", **_FORBIDDEN)
    return _meeting_rows(paginate(_meetings_stmt(start, end, department_id), params, scalars=False))


def _held(start: date, end: date):
    return and_(Meeting.status == str(MeetingStatus.SCHEDULED), _period(start, end),
                Meeting.checkin_closes_at < clock.now())


def by_department(*, actor: Actor, start: date, end: date) -> list[dict[str, Any]]:
    """Attendance per department (the invitee's department on the day) at the meetings held in the period,
    by department name, 未分部门 last."""
    require_roles(actor, "admin", **_FORBIDDEN)
    rows = db.session.execute(select(Invitation.department_id, *_tally())
                              .join(Meeting, Meeting.id == Invitation.meeting_id)
                              .where(_held(start, end)).group_by(Invitation.department_id)).all()
    names = {d.id: d.name for d in users_service.list_departments()}
    out = [{"department_id": dept, "department": names.get(dept, "未分部门"), **_figures(*tally)}
           for dept, *tally in rows]
    out.sort(key=lambda d: (d["department_id"] is None, d["department"]))
    return out


def person(*, actor: Actor, user_id: int, start: date, end: date) -> dict[str, Any]:
    """A person's record in the period: the figures of ``history`` (meetings held) and every invitation
    of the period, upcoming and cancelled ones too, with its attendance and the person's latest leave
    request for it (reason, status, decision)."""
    require_roles(actor, "admin", **_FORBIDDEN)
    record = history(actor=actor, user_id=user_id, start=start, end=end)
    latest_ids = (select(func.max(LeaveRequest.id)).where(LeaveRequest.user_id == user_id)
                  .group_by(LeaveRequest.meeting_id))
    latest = select(LeaveRequest).where(LeaveRequest.id.in_(latest_ids)).subquery()
    rows = db.session.execute(
        select(Meeting, Invitation, latest.c.reason, latest.c.status, latest.c.decision_note)
        .join(Invitation, and_(Invitation.meeting_id == Meeting.id, Invitation.user_id == user_id))
        .outerjoin(latest, latest.c.meeting_id == Meeting.id)
        .where(_period(start, end)).order_by(Meeting.starts_at.desc(), Meeting.id.desc())).all()
    now = clock.now()
    items = []
    for meeting, inv, reason, leave_status, note in rows:
        if meeting.status == MeetingStatus.CANCELLED:
            label = "会议已取消"
        elif inv.checked_in_at is None and meeting.checkin_closes_at >= now:
            label = "请假已批准" if inv.excused else "尚未结束"
        else:
            label = ATTENDANCE_LABELS[attendance_status(inv)]
        items.append({"meeting_id": meeting.id, "title": meeting.title, "starts_at": meeting.starts_at,
                      "location": meeting.location, "attendance": label, "checked_in_at": inv.checked_in_at,
                      "late": inv.late, "signed_out_at": inv.signed_out_at,
                      "leave_reason": reason, "leave_status": LEAVE_LABELS[LeaveStatus(leave_status)] if leave_status
                      else None, "leave_note": note})
    return {**record, "invitations": items}


def _time(value) -> str:
    return clock.to_local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _rate_text(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}%"


MEETINGS_HEADER = ("会议", "开始时间", "地点", "组织者", "组织者部门", "状态", "应到", "实到", "迟到", "请假", "缺席",
                   "出勤率")
DEPARTMENTS_HEADER = ("部门", "应到", "实到", "迟到", "请假", "缺席", "出勤率")
PERSON_HEADER = ("会议", "开始时间", "地点", "出勤", "签到时间", "签退时间", "请假事由", "请假状态", "审批意见")


def _streamed_meetings(start: date, end: date, department_id: int | None) -> Iterator[tuple]:
    result = db.session.execute(_meetings_stmt(start, end, department_id).execution_options(yield_per=_STREAM))
    for chunk in result.partitions():
        for m in _meeting_rows(chunk):
            yield (m["title"], _time(m["starts_at"]), m["location"], m["organiser"], m["organiser_department"],
                   m["status_label"], m["invited"], m["checked_in"], m["late"], m["excused"], m["absent"],
                   _rate_text(m["rate"]))


def export(*, actor: Actor, what: str, start: date, end: date, department_id: int | None = None,
           user_id: int | None = None) -> tuple[bytes, str]:
    """``what``: ``meetings`` (the meetings of the period), ``departments`` (attendance by department) or
    ``person`` (``user_id``'s record) as .xlsx, and its file name; the export is audited."""
    require_roles(actor, "admin", **_FORBIDDEN)
    period = f"{start:%Y%m%d}-{end:%Y%m%d}"
    if what == "meetings":
        _period(start, end)
        sheets = [("会议", MEETINGS_HEADER, _streamed_meetings(start, end, department_id))]
        name = f"会议出勤-{period}.xlsx"
    elif what == "departments":
        rows = [(d["department"], d["invited"], d["checked_in"], d["late"], d["excused"], d["absent"],
                 _rate_text(d["rate"])) for d in by_department(actor=actor, start=start, end=end)]
        sheets = [("按部门", DEPARTMENTS_HEADER, rows)]
        name = f"部门出勤-{period}.xlsx"
    else:
        record = person(actor=actor, user_id=user_id or actor.user_id, start=start, end=end)
        rows = [(i["title"], _time(i["starts_at"]), i["location"], i["attendance"], _time(i["checked_in_at"]),
                 _time(i["signed_out_at"]), i["leave_reason"] or "", i["leave_status"] or "", i["leave_note"] or "")
                for i in record["invitations"]]
        summary = [("姓名", record["name"]), ("应到（已结束的会议）", record["invited"]),
                   ("实到", record["checked_in"]),
                   ("迟到", record["late"]), ("请假", record["excused"]), ("缺席", record["absent"]),
                   ("出勤率", _rate_text(record["rate"]))]
        sheets = [("参会记录", PERSON_HEADER, rows), ("汇总", ("项目", "数值"), summary)]
        name = f"参会记录-{record['name']}-{period}.xlsx"
    data = write_workbook(sheets)
    audit.record("meeting", 0, "export_overview", actor_id=actor.user_id,
                 data={"what": what, "start": start.isoformat(), "end": end.isoformat(),
                       "department_id": department_id, "user_id": user_id})
    return data, name
