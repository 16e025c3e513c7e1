"""会议 in the console: every meeting of a period with its attendance (filtered by the organiser's
department), attendance by department with its chart, a person's record (invitations, check-ins, leave),
the .xlsx exports (audited), all from the meetings service; admins only (the service's 403 for others)."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

from openpyxl import load_workbook

from app.core.audit import AuditEvent
from app.core.db import db
from app.meetings import service
from tests.console.test_finance import count
from tests.meetings.conftest import START, actor, department_id, make_meeting

PERIOD = "start=2027-03-01&end=2027-03-31"


def held_meetings(at, ids):
    """In March 2027 (the meetings tests' day): the 语文教研组's meeting (张老师 checked in by hand, 孙主任 on
    approved leave), 孙主任's 后勤例会 that 张老师 missed, and a cancelled one; then the clock after them."""
    teacher, admin = actor("teacher"), actor("admin")
    group = make_meeting("teacher")
    logistics = make_meeting("admin", title="后勤例会", audience={"user_ids": [ids["teacher"]]})
    cancelled = make_meeting("teacher", title="取消的会")
    service.cancel_meeting(actor=teacher, meeting_id=cancelled.id, reason="改期")
    leave = service.request_leave(actor=admin, meeting_id=group.id, reason="区里开会")
    service.decide_leave(actor=teacher, leave_id=leave.id, approve=True, note="同意")
    db.session.commit()
    at(START + timedelta(minutes=2))
    service.manual_check_in(actor=teacher, meeting_id=group.id, user_id=ids["teacher"], reason="手机没电")
    db.session.commit()
    at(START + timedelta(hours=3))
    return group, logistics, cancelled


def test_all_meetings_of_a_period_with_their_figures(app, at, ids, browser, signed_in):
    group, logistics, cancelled = held_meetings(at, ids)
    signed_in("admin")
    page = browser.get(f"/console/meetings?{PERIOD}").get_data(as_text=True)
    rows = re.findall(r'<tr id="meeting-(\d+)">(.*?)</tr>', page, re.S)
    assert {int(i) for i, _ in rows} == {group.id, logistics.id, cancelled.id}
    row = dict(rows)[str(group.id)]
    assert "语文教研组例会" in row and "张老师（语文教研组）" in row
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells[-6:] == ["2", "1", "0", "1", "0", "100.0%"]  # 应到 实到 迟到 请假 缺席 出勤率
    assert "已取消" in dict(rows)[str(cancelled.id)]
    assert "共 3 条" in page
    only = browser.get(f"/console/meetings?{PERIOD}&department_id={department_id('后勤处')}").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'<tr id="meeting-(\d+)">', only)] == [logistics.id]
    assert f"department_id={department_id('后勤处')}" in re.search(r'href="([^"]+)" id="meetings-export"', only)[1]
    empty = browser.get("/console/meetings?start=2027-04-01&end=2027-04-30").get_data(as_text=True)
    assert 'id="meetings-empty"' in empty
    bad = browser.get("/console/meetings?start=2027-03-31&end=2027-03-01")
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.get_data(as_text=True)
    assert browser.get("/console/meetings?start=2027-13-01").status_code == 422


def test_attendance_by_department_with_its_chart(app, at, ids, browser, signed_in):
    held_meetings(at, ids)
    signed_in("admin")
    page = browser.get(f"/console/meetings/departments?{PERIOD}").get_data(as_text=True)
    chinese = re.search(rf'<tr id="department-{department_id("语文教研组")}">(.*?)</tr>', page).group(1)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", chinese) == ["语文教研组", "2", "1", "0", "0", "1", "50.0%"]
    logistics = re.search(rf'<tr id="department-{department_id("后勤处")}">(.*?)</tr>', page).group(1)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", logistics) == ["后勤处", "1", "0", "0", "1", "0", "—"]
    data = re.search(r'<script id="departments-data" type="application/json">(.*?)</script>', page).group(1)
    chart = json.loads(data)
    assert chart == [{"name": "后勤处", "rate": None}, {"name": "语文教研组", "rate": 50.0}]
    assert "vendor/echarts/echarts.min.js" in page and 'id="chart-departments"' in page


def test_a_persons_record_with_their_leave(app, at, ids, browser, signed_in):
    group, logistics, cancelled = held_meetings(at, ids)
    signed_in("admin")
    found = browser.get(f"/console/meetings/people?q=孙主任&{PERIOD}").get_data(as_text=True)
    assert re.findall(r'data-user="(\d+)">([^<]+)</a>', found) == [(str(ids["admin"]), "孙主任（A0001）")]
    assert 'id="person-none"' in browser.get("/console/meetings/people?q=无此人").get_data(as_text=True)
    page = browser.get(f"/console/meetings/people?user_id={ids['admin']}&{PERIOD}").get_data(as_text=True)
    assert '<h3 id="person-name">孙主任</h3>' in page
    leave = re.search(rf'<tr id="invitation-{group.id}">.*?<td class="attendance">([^<]*)</td>.*?'
                      r'<td class="leave">([^<]*)</td>', page, re.S)
    assert leave.groups() == ("请假", "已批准：区里开会（同意）")
    assert f'id="invitation-{logistics.id}"' not in page  # not invited
    teacher = browser.get(f"/console/meetings/people?user_id={ids['teacher']}&{PERIOD}").get_data(as_text=True)
    states = dict(re.findall(r'<tr id="invitation-(\d+)">.*?<td class="attendance">([^<]*)</td>', teacher, re.S))
    assert states == {str(group.id): "已签到", str(logistics.id): "缺席", str(cancelled.id): "会议已取消"}
    assert re.search(r'id="person-rate"><div class="label">出勤率</div><div class="figure">50.0%</div>', teacher)


def test_the_exports_stream_xlsx_and_are_audited(app, at, ids, browser, signed_in):
    group, _logistics, _cancelled = held_meetings(at, ids)
    signed_in("admin")
    resp = browser.get(f"/console/meetings/export/meetings?{PERIOD}")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("会议", "开始时间") and len(rows) == 4
    assert next(r for r in rows if r[0] == "语文教研组例会")[-6:] == (2, 1, 0, 1, 0, "100.0%")
    book = load_workbook(io.BytesIO(browser.get(f"/console/meetings/export/departments?{PERIOD}").data))
    assert [r[0] for r in book.active.iter_rows(values_only=True)] == ["部门", "后勤处", "语文教研组"]
    person = browser.get(f"/console/meetings/export/person?user_id={ids['admin']}&{PERIOD}")
    book = load_workbook(io.BytesIO(person.data))
    assert book.sheetnames == ["参会记录", "汇总"]
    rows = {r[0]: r for r in book["参会记录"].iter_rows(values_only=True)}
    assert rows["语文教研组例会"][3] == "请假" and rows["语文教研组例会"][6:] == ("区里开会", "已批准", "同意")
    assert rows["取消的会"][3] == "会议已取消" and "后勤例会" not in rows
    assert count(AuditEvent, AuditEvent.entity_type == "meeting", AuditEvent.action == "export_overview") == 3
    assert browser.get(f"/console/meetings/export/person?{PERIOD}").status_code == 422
    assert browser.get(f"/console/meetings/export/everything?{PERIOD}").status_code == 422


def test_only_admins_see_the_meetings_pages(app, at, ids, browser, signed_in):
    held_meetings(at, ids)
    signed_in("dispatcher")
    assert 'id="nav-meetings"' not in browser.get("/console/").get_data(as_text=True)
    for url in ["/console/meetings", "/console/meetings/departments", "/console/meetings/people?q=孙主任",
                f"/console/meetings/people?user_id={ids['admin']}", "/console/meetings/export/meetings"]:
        resp = browser.get(url)
        assert resp.status_code == 403 and "只有管理员可以查看全部会议" in resp.get_data(as_text=True), url
    assert count(AuditEvent, AuditEvent.action == "export_overview") == 0


def test_the_meetings_pages_need_a_sign_in(browser, app):
    for url in ["/console/meetings", "/console/meetings/departments", "/console/meetings/people",
                "/console/meetings/export/meetings"]:
        assert browser.get(url).headers["Location"] == "/console/login"
