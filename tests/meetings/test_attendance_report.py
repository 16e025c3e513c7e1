"""Attendance by department, the attendee lists, the export, a person's history and the school terms."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from flask_smorest.pagination import PaginationParameters
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.db import db
from app.core.errors import Forbidden
from app.meetings import service
from app.meetings.models import Invitation
from tests.meetings.conftest import API, START, actor, check_in, department_id, invited, make_meeting


def _full_house(app, at, login, ids):
    """All staff invited; the teacher on time, the dispatcher late, the admin on approved leave."""
    meeting = make_meeting("admin", title="全体教职工大会", audience={"all_staff": True})
    admin = login("admin")
    leave_id = admin.post(f"{API}/{meeting.id}/leave-requests", json={"reason": "外出培训"}).json["id"]
    admin.post(f"{API}/leave-requests/{leave_id}/approve", json={})
    at(START)
    check_in(app, login("teacher"), meeting.id)
    at(START + timedelta(minutes=6))
    check_in(app, login("dispatcher"), meeting.id)
    return meeting


def test_attendance_by_department_and_lists(app, at, login, ids):
    meeting = _full_house(app, at, login, ids)
    admin = login("admin")
    a = admin.get(f"{API}/{meeting.id}/attendance").json
    staff = a["invited"]
    assert (a["checked_in"], a["on_time"], a["late"], a["excused"]) == (2, 1, 1, 1)
    assert a["absent"] == staff - 3
    by = {d["department"]: d for d in a["by_department"]}
    assert (by["语文教研组"]["invited"], by["语文教研组"]["on_time"]) == (1, 1)
    assert (by["后勤处"]["late"], by["后勤处"]["excused"]) == (1, 1)
    assert sum(d["invited"] for d in a["by_department"]) == staff
    names = {s: [x["name"] for x in admin.get(f"{API}/{meeting.id}/attendees?status={s}").json]
             for s in ("checked_in", "on_time", "late", "excused", "absent")}
    assert names["checked_in"] == ["张老师", "王调度"] and names["late"] == ["王调度"]
    assert names["on_time"] == ["张老师"] and names["excused"] == ["孙主任"]
    assert "李师傅" in names["absent"] and "张老师" not in names["absent"]
    by_dept = admin.get(f"{API}/{meeting.id}/attendees?department_id={department_id('后勤处')}").json
    assert {x["name"] for x in by_dept} == {"孙主任", "李师傅", "王调度"}
    resp = admin.get(f"{API}/{meeting.id}/attendees?page_size=2")
    assert len(resp.json) == 2 and json.loads(resp.headers["X-Pagination"])["total"] == staff


def test_a_teacher_cannot_read_another_meetings_attendance(app, at, login, ids):
    meeting = _full_house(app, at, login, ids)  # organised by the admin; the teacher is invited
    teacher = login("teacher")
    for path in ("attendance", "attendees", "attendance.xlsx", "live", "scans", "qr"):
        resp = teacher.get(f"{API}/{meeting.id}/{path}")
        assert resp.status_code == 403 and resp.json["error_code"] == "meetings.forbidden", path
    stranger = make_meeting("admin", title="后勤处例会", audience={"department_ids": [department_id("后勤处")]})
    for path in ("attendance", "attendees", "attendance.xlsx"):
        assert teacher.get(f"{API}/{stranger.id}/{path}").status_code == 404, path
    assert login("student").get(f"{API}/{meeting.id}/attendance").status_code == 404
    assert teacher.get(f"{API}/leave-requests?meeting_id={meeting.id}").status_code == 403
    assert login("worker").get(f"{API}/leave-requests").json == []  # organises nothing


def test_export_has_one_row_per_invitee_and_is_logged(app, at, login, ids):
    meeting = _full_house(app, at, login, ids)
    resp = login("admin").get(f"{API}/{meeting.id}/attendance.xlsx")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(resp.data))
    rows = list(book["签到名单"].iter_rows(values_only=True))
    assert rows[0] == ("姓名", "工号/学号", "部门", "出勤", "签到时间", "签到方式", "签退时间", "请假事由", "请假状态")
    invited = db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.meeting_id == meeting.id))
    assert len(rows) - 1 == invited
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["张老师"][1:6] == ("T0001", "语文教研组", "已签到", "2027-03-15 14:00:00", "扫码")
    assert by_name["王调度"][3] == "迟到"
    assert by_name["孙主任"][3] == "请假" and by_name["孙主任"][7:] == ("外出培训", "已批准")
    assert by_name["李师傅"][3] == "缺席" and not by_name["李师傅"][4]
    summary = dict(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert (summary["应到"], summary["实到"], summary["迟到"], summary["请假"]) == (invited, 2, 1, 1)
    logged = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert (logged.actor_id, logged.entity_id, logged.data) == (ids["admin"], meeting.id, {"rows": invited})


def test_history_across_a_term(app, at, login, ids):
    meetings = []
    for day in range(4):
        start = START + timedelta(days=day)
        meetings.append(make_meeting(title=f"例会{day}", starts_at=start.isoformat(),
                                     ends_at=(start + timedelta(hours=1)).isoformat()))
    admin_actor = login("admin")
    leave = admin_actor.post(f"{API}/{meetings[2].id}/leave-requests", json={"reason": "出差"}).json["id"]
    login("teacher").post(f"{API}/leave-requests/{leave}/approve", json={})
    at(START)
    check_in(app, login("admin"), meetings[0].id)
    at(START + timedelta(days=1, minutes=10))
    check_in(app, login("admin"), meetings[1].id)
    at(START + timedelta(days=10))
    admin = login("admin")
    h = admin.get(f"{API}/history").json
    assert (h["start"], h["end"]) == ("2027-02-01", "2027-07-31")
    assert (h["invited"], h["checked_in"], h["late"], h["excused"], h["absent"]) == (4, 2, 1, 1, 1)
    assert h["rate"] == round(2 / 3, 4) and h["name"] == "孙主任"
    assert [m["status"] for m in h["meetings"]] == ["absent", "excused", "late", "on_time"]
    narrow = admin.get(f"{API}/history?start=2027-03-16&end=2027-03-16").json
    assert narrow["invited"] == 1 and narrow["late"] == 1
    assert admin.get(f"{API}/history?user_id={ids['teacher']}").json["name"] == "张老师"  # admins see anyone's
    teacher = login("teacher")
    assert teacher.get(f"{API}/history?user_id={ids['admin']}").status_code == 404
    assert teacher.get(f"{API}/history").json["invited"] == 4
    assert teacher.get(f"{API}/history?start=2027-03-20&end=2027-03-01").status_code == 422


def test_current_term():
    assert service.current_term(date(2027, 3, 15)) == (date(2027, 2, 1), date(2027, 7, 31))
    assert service.current_term(date(2026, 11, 21)) == (date(2026, 8, 1), date(2027, 1, 31))
    assert service.current_term(date(2027, 1, 10)) == (date(2026, 8, 1), date(2027, 1, 31))


def test_who_came_despite_an_approved_leave_attended_and_keeps_the_leave_on_record(app, at, login, ids):
    meeting = make_meeting()
    leave_id = login("admin").post(f"{API}/{meeting.id}/leave-requests", json={"reason": "出差"}).json["id"]
    assert login("teacher").post(f"{API}/leave-requests/{leave_id}/approve", json={}).status_code == 200
    at(START)
    admin, teacher = login("admin"), login("teacher")
    check_in(app, admin, meeting.id)
    [row] = [a for a in teacher.get(f"{API}/{meeting.id}/attendees").json if a["user_id"] == ids["admin"]]
    assert (row["status"], row["excused"], row["leave"]["status"]) == ("on_time", False, "approved")
    figures = teacher.get(f"{API}/{meeting.id}/attendance").json
    assert (figures["checked_in"], figures["excused"], figures["absent"]) == (1, 0, 1)
    assert teacher.get(f"{API}/{meeting.id}/attendees?status=excused").json == []
    mine = admin.get(f"{API}/{meeting.id}").json["mine"]
    assert (mine["status"], mine["excused"], mine["leave"]["status"]) == ("on_time", False, "approved")


def test_overall_attendance_over_a_week_for_admins(app, at, login, ids):
    week = []
    for day in range(3):
        start = START + timedelta(days=day)
        week.append(make_meeting(title=f"例会{day}", starts_at=start.isoformat(),
                                 ends_at=(start + timedelta(hours=1)).isoformat()))
    leave = login("admin").post(f"{API}/{week[1].id}/leave-requests", json={"reason": "出差"}).json["id"]
    login("teacher").post(f"{API}/leave-requests/{leave}/approve", json={})
    at(START)
    check_in(app, login("admin"), week[0].id)
    check_in(app, login("teacher"), week[0].id)
    at(START + timedelta(days=1, minutes=10))
    check_in(app, login("teacher"), week[1].id)
    at(START + timedelta(days=1, hours=3))  # the third meeting has not been held yet
    figures = service.overall(actor=actor("admin"), start=date(2027, 3, 15), end=date(2027, 3, 21))
    invitees = len(invited(week[0]))
    assert figures["meetings"] == 2 and figures["invited"] == 2 * invitees
    assert (figures["checked_in"], figures["late"], figures["excused"]) == (3, 1, 1)
    assert figures["absent"] == 2 * invitees - 1 - 3
    assert figures["rate"] == round(3 / (2 * invitees - 1), 4)
    empty = service.overall(actor=actor("admin"), start=date(2027, 3, 22), end=date(2027, 3, 28))
    assert empty["meetings"] == 0 and empty["rate"] is None
    with pytest.raises(Forbidden):
        service.overall(actor=actor("teacher"), start=date(2027, 3, 15), end=date(2027, 3, 21))


def test_the_admins_overview_of_a_period(app, at, login, ids):
    """``overview``: a period's meetings with their figures (by the organiser's department), the rate by
    department of the meetings held, a person's record with their leave; admins only."""
    meeting = _full_house(app, at, login, ids)  # the admin's (后勤处), all staff
    chinese = make_meeting("teacher", title="语文组会", starts_at=(START + timedelta(days=1)).isoformat(),
                           ends_at=(START + timedelta(days=1, hours=1)).isoformat())
    at(START + timedelta(hours=3))  # the first one held, the second still to come
    admin, march = actor("admin"), {"start": date(2027, 3, 1), "end": date(2027, 3, 31)}
    page = PaginationParameters(1, 20)
    rows = service.all_meetings(actor=admin, params=page, **march)
    assert [r["id"] for r in rows] == [chinese.id, meeting.id] and page.item_count == 2
    first = rows[1]
    assert (first["checked_in"], first["late"], first["excused"], first["organiser_department"]) == (2, 1, 1, "后勤处")
    assert first["rate"] == round(2 / (first["invited"] - 1), 4)
    mine = service.all_meetings(actor=admin, params=PaginationParameters(1, 20),
                                department_id=department_id("语文教研组"), **march)
    assert [r["id"] for r in mine] == [chinese.id]
    by = {d["department"]: d for d in service.by_department(actor=admin, **march)}
    assert (by["语文教研组"]["invited"], by["语文教研组"]["rate"]) == (1, 1.0)  # the coming one does not count
    assert (by["后勤处"]["late"], by["后勤处"]["excused"]) == (1, 1)
    record = service.person(actor=admin, user_id=ids["admin"], **march)
    assert [(i["title"], i["attendance"], i["leave_reason"], i["leave_status"]) for i in record["invitations"]] == [
        ("语文组会", "尚未结束", None, None), ("全体教职工大会", "请假", "外出培训", "已批准")]
    assert (record["invited"], record["excused"], record["rate"]) == (1, 1, None)
    for call in (lambda: service.all_meetings(actor=actor("teacher"), params=PaginationParameters(1, 20), **march),
                 lambda: service.by_department(actor=actor("dispatcher"), **march),
                 lambda: service.person(actor=actor("teacher"), user_id=ids["teacher"], **march),
                 lambda: service.export_overview(actor=actor("teacher"), what="meetings", **march)):
        with pytest.raises(Forbidden):
            call()
