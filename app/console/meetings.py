"""The console's meeting pages (会议): every meeting of a period with its attendance (filtered by the
organiser's department), attendance by department over a term with a chart, a person's record (their
invitations, check-ins and leave requests) and the .xlsx export of each. Every figure is the meetings
service's (``meetings.all_meetings``, ``by_department``, ``person``, ``export_overview``; the person's
figures are ``history``'s, as ``GET /api/v1/history``), with the signed-in person as actor: admins (the
service's 403 for anyone else). Registered on the console's Blueprint (``views.bp``)."""

from __future__ import annotations

import io

from flask import g, render_template, request, send_file, url_for

from app.console.canteen import _day
from app.console.finance import XLSX, _int_arg
from app.console.views import _Page, _page_number, bp
from app.core import clock
from app.core.auth import require_roles
from app.core.errors import ValidationFailed
from app.meetings import service as meetings
from app.users import service as users

EXPORTS = ("meetings", "departments", "person")


def _period() -> dict:
    """``start`` / ``end`` (YYYY-MM-DD, school dates), the current term by default."""
    term_start, term_end = meetings.current_term(clock.local_now().date())
    start, end = _day("start", term_start), _day("end", term_end)
    if end < start:
        raise ValidationFailed(message="结束日期不能早于开始日期", errors={"end": ["结束日期不能早于开始日期"]})
    return {"start": start, "end": end}


def _args(period: dict, **more) -> dict:
    return {"start": period["start"].isoformat(), "end": period["end"].isoformat(),
            **{k: v for k, v in more.items() if v is not None}}


@bp.get("/meetings")
def meeting_list():
    """会议: every meeting that starts in the period (the current term by default), latest first, with
    应到 / 实到 / 迟到 / 请假 / 缺席 and the rate, filterable by the organiser's department."""
    period = _period()
    department_id = _int_arg("department_id")
    params = _Page(_page_number())
    rows = meetings.all_meetings(actor=g.console_actor, params=params, department_id=department_id, **period)
    query = _args(period, department_id=department_id)
    return render_template("console/meetings.html", rows=rows, params=params, period=period, query=query,
                           department_id=department_id, departments=users.list_departments(),
                           export_url=url_for("console.meeting_export", what="meetings", **query))


@bp.get("/meetings/departments")
def meeting_departments():
    """按部门: the attendance rate of each department at the meetings held in the period, table and chart."""
    period = _period()
    rows = meetings.by_department(actor=g.console_actor, **period)
    chart = [{"name": d["department"], "rate": None if d["rate"] is None else round(d["rate"] * 100, 1)}
             for d in rows]
    return render_template("console/meetings_departments.html", rows=rows, period=period, chart=chart,
                           export_url=url_for("console.meeting_export", what="departments", **_args(period)))


@bp.get("/meetings/people")
def meeting_person():
    """个人参会记录: find a person by name, 工号 or 学号, then their invitations of the period with the
    attendance, check-in and leave of each, and their figures."""
    actor = g.console_actor
    period = _period()
    q = (request.args.get("q") or "").strip()[:50]
    user_id = _int_arg("user_id")
    record = meetings.person(actor=actor, user_id=user_id, **period) if user_id is not None else None
    found = []
    if q and record is None:
        require_roles(actor, "admin", error_code="meetings.forbidden", message="只有管理员可以查看全部会议")
        found = users.people(users.find_user_ids(number=q, name=q))
    export_url = (url_for("console.meeting_export", what="person", **_args(period, user_id=user_id))
                  if record is not None else None)
    return render_template("console/meetings_person.html", record=record, found=found, q=q, period=period,
                           query=_args(period), export_url=export_url)


@bp.get("/meetings/export/<string:what>")
def meeting_export(what: str):
    """导出 Excel: ``meetings``, ``departments`` or ``person`` (``meetings.export_overview``: audited)."""
    if what not in EXPORTS:
        raise ValidationFailed(message="未知的导出类型", errors={"what": ["未知的导出类型"]})
    if what == "person" and _int_arg("user_id") is None:
        raise ValidationFailed(message="请先选择一个人", errors={"user_id": ["缺少 user_id"]})
    data, name = meetings.export_overview(actor=g.console_actor, what=what, department_id=_int_arg("department_id"),
                                          user_id=_int_arg("user_id"), **_period())
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)
