"""Meetings through the API: create/edit/cancel, visibility and cross-user access, QR codes, the
organiser's tools, leave requests, attendance, the export and the per-person history."""

from __future__ import annotations

import base64
import io
import json
import threading
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.audit import AuditEvent
from app.core.db import db
from app.core.errors import AppError
from app.meetings import service, tokens
from app.meetings.models import Invitation, LeaveRequest, Meeting, Scan
from app.notifications.models import Notification
from tests.meetings.conftest import END, NOW, START, actor, body, department_id, make_meeting, nonce, token_for

API = "/api/v1/meetings"
HALL = {"latitude": 31.2304, "longitude": 121.4737}


def _notes(user_id, event):
    return db.session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                         Notification.event == event)).all()


def _check_in(app, session, meeting_id):
    answer = session.post(f"{API}/check-ins", json={"token": token_for(app, meeting_id), "nonce": nonce()}).json
    assert answer["status"] == "ok", answer
    return answer


# --- creating, reading, editing ---------------------------------------------------------------------------


def test_teacher_creates_a_meeting_invitees_are_materialised_and_told(at, login, ids):
    teacher = login("teacher")
    resp = teacher.post(API, json=body(description="期中教研安排"))
    assert resp.status_code == 201, resp.json
    m = resp.json
    assert (m["title"], m["status"], m["phase"], m["can_manage"]) == ("语文教研组例会", "scheduled", "upcoming", True)
    assert m["organiser"] == {"id": ids["teacher"], "name": "张老师"}
    assert m["checkin_opens_at"] == (START - timedelta(minutes=30)).isoformat()
    assert m["late_at"] == (START + timedelta(minutes=5)).isoformat()
    assert m["checkin_closes_at"] == END.isoformat()
    assert m["counts"] == {"invited": 2, "checked_in": 0, "on_time": 0, "late": 0, "excused": 0, "absent": 2,
                           "signed_out": 0}
    invited = set(db.session.scalars(select(Invitation.user_id).where(Invitation.meeting_id == m["id"])))
    assert invited == {ids["teacher"], ids["admin"]}
    [note] = _notes(ids["admin"], "meetings.invited")
    assert note.title == "会议通知：语文教研组例会"
    assert note.link == f"/packageMeetings/pages/detail/detail?id={m['id']}"
    assert "3月15日 14:00-15:00" in note.body
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.entity_type == "meeting")) == "create"


def test_a_room_from_the_places_tree(at, login):
    room = login("teacher").get("/api/v1/places/by-code/E-ADM-301").json
    resp = login("teacher").post(API, json=body(place_id=room["id"], location="靠窗"))
    assert resp.status_code == 201
    assert resp.json["location"] == "东校区 › 行政楼 › 3F › 301（靠窗）" and resp.json["place_id"] == room["id"]


@pytest.mark.parametrize("change, field", [
    ({"ends_at": START.isoformat()}, "ends_at"),
    ({"ends_at": (START + timedelta(hours=25)).isoformat()}, "ends_at"),
    ({"location": ""}, "location"),
    ({"audience": {}}, "audience"),
    ({"audience": {"department_ids": [9999]}}, "audience"),
    ({"audience": {"user_ids": [9999]}}, "audience"),
    ({"audience": {"roles": ["student"]}}, "audience"),
    ({"allow_static_code": True}, "geofence"),
    ({"geofence": {"latitude": 91, "longitude": 0, "radius_m": 100}}, "geofence"),
    ({"late_after_minutes": 90}, "late_after_minutes"),
    ({"title": ""}, "title"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_meetings_are_422_with_the_field(at, login, change, field):
    resp = login("teacher").post(API, json=body(**change))
    assert resp.status_code == 422, resp.json
    assert field in json.dumps(resp.json["errors"]), resp.json
    assert resp.json["message"]  # Chinese, for the form
    assert db.session.scalar(select(func.count()).select_from(Meeting).where(Meeting.series_id.is_(None),
                                                                             Meeting.code != "DEMOALL1")) == 0


def test_a_meeting_that_already_ended_is_refused(at, login):
    resp = login("teacher").post(API, json=body(starts_at=(NOW - timedelta(hours=2)).isoformat(),
                                                ends_at=(NOW - timedelta(hours=1)).isoformat()))
    assert resp.status_code == 422 and resp.json["error_code"] == "meetings.in_the_past"


def test_times_without_an_offset_are_school_time(at, login):
    resp = login("teacher").post(API, json=body(starts_at="2027-03-15T14:00:00", ends_at="2027-03-15 15:00"))
    assert resp.status_code == 201 and resp.json["starts_at"] == START.isoformat()


@pytest.mark.parametrize("role", ["student", "parent"])
def test_students_and_parents_cannot_organise(at, login, role):
    resp = login(role).post(API, json=body())
    assert resp.status_code == 403 and resp.json["error_code"] == "meetings.forbidden"


def test_invitees_see_the_meeting_others_get_404(at, login, ids):
    meeting = make_meeting()
    mine = login("admin").get(f"{API}/{meeting.id}").json
    assert mine["mine"]["invited"] is True and mine["can_manage"] is True  # invited, and an admin
    teacher_view = login("teacher").get(f"{API}/{meeting.id}").json
    assert teacher_view["audience"]["department_ids"] == [department_id("语文教研组")]
    for role in ("worker", "student", "parent"):
        resp = login(role).get(f"{API}/{meeting.id}")
        assert resp.status_code == 404 and resp.json["error_code"] == "meetings.not_found", role
    assert login("worker").get(f"{API}/999999").status_code == 404


def test_an_invitee_sees_no_audience_and_no_counts(at, login):
    meeting = make_meeting("admin")
    view = login("teacher").get(f"{API}/{meeting.id}").json
    assert (view["can_manage"], view["audience"], view["counts"]) == (False, None, None)
    assert view["mine"]["status"] == "absent" and view["mine"]["leave"] is None


def test_my_meetings_invited_organised_upcoming_past(at, login, ids):
    first = make_meeting()
    second = make_meeting("admin", title="后勤处例会", starts_at=(START + timedelta(days=1)).isoformat(),
                          ends_at=(END + timedelta(days=1)).isoformat(),
                          audience={"department_ids": [department_id("后勤处")], "user_ids": [ids["teacher"]]})
    teacher = login("teacher")
    upcoming = teacher.get(API).json
    assert [m["id"] for m in upcoming if m["id"] in (first.id, second.id)] == [first.id, second.id]
    organised = teacher.get(f"{API}?scope=organised").json
    assert [m["id"] for m in organised] == [first.id]
    at(END + timedelta(days=2))
    teacher = login("teacher")
    past = [m["id"] for m in teacher.get(f"{API}?when=past").json]
    assert past.index(second.id) < past.index(first.id)  # latest first
    assert teacher.get(f"{API}?scope=all").status_code == 403
    assert login("admin").get(f"{API}?scope=all&when=past").status_code == 200


def test_edit_rematerialises_and_announces(at, login, ids):
    meeting = make_meeting()
    teacher = login("teacher")
    new_body = body(starts_at=(START + timedelta(hours=1)).isoformat(), ends_at=(END + timedelta(hours=1)).isoformat(),
                    audience={"department_ids": [department_id("语文教研组")], "user_ids": [ids["worker"]]})
    resp = teacher.put(f"{API}/{meeting.id}", json=new_body)
    assert resp.status_code == 200, resp.json
    invited = set(db.session.scalars(select(Invitation.user_id).where(Invitation.meeting_id == meeting.id)))
    assert invited == {ids["teacher"], ids["worker"]}
    assert _notes(ids["worker"], "meetings.invited")  # the newcomer is invited
    [changed] = _notes(ids["teacher"], "meetings.changed")  # the one who stays hears about the new time
    assert "15:00-16:00" in changed.body
    assert _notes(ids["admin"], "meetings.changed") == []  # dropped, not told about the change
    assert resp.json["late_at"] == (START + timedelta(hours=1, minutes=5)).isoformat()


def test_people_who_checked_in_stay_when_the_audience_shrinks(app, at, login, ids):
    meeting = make_meeting()
    at(START)
    _check_in(app, login("admin"), meeting.id)
    resp = login("teacher").put(f"{API}/{meeting.id}", json=body(audience={"department_ids": [
        department_id("语文教研组")]}))
    assert resp.status_code == 200
    assert resp.json["counts"]["invited"] == 2 and resp.json["counts"]["checked_in"] == 1


def test_only_the_organiser_or_an_admin_edits_or_cancels(at, login, ids):
    meeting = make_meeting("admin", audience={"department_ids": [department_id("语文教研组")]})
    teacher = login("teacher")  # invited, not the organiser
    assert teacher.put(f"{API}/{meeting.id}", json=body()).status_code == 403
    assert teacher.post(f"{API}/{meeting.id}/cancel", json={}).json["error_code"] == "meetings.forbidden"
    assert login("worker").post(f"{API}/{meeting.id}/cancel", json={}).status_code == 404
    own = make_meeting()
    resp = login("admin").post(f"{API}/{own.id}/cancel", json={"reason": "与区教研活动冲突"})
    assert resp.status_code == 200 and resp.json["status"] == "cancelled" and resp.json["phase"] == "cancelled"
    assert "与区教研活动冲突" in _notes(ids["teacher"], "meetings.changed")[0].body
    assert login("teacher").put(f"{API}/{own.id}", json=body()).json["error_code"] == "meetings.cancelled"


def test_an_ended_meeting_cannot_be_edited_or_cancelled(at, login):
    meeting = make_meeting()
    at(END + timedelta(minutes=1))
    teacher = login("teacher")
    assert teacher.put(f"{API}/{meeting.id}", json=body()).json["error_code"] == "meetings.ended"
    assert teacher.post(f"{API}/{meeting.id}/cancel", json={}).json["error_code"] == "meetings.ended"


# --- QR codes ---------------------------------------------------------------------------------------------


def test_rotating_qr_for_the_organiser(app, at, login):
    meeting = make_meeting()
    at(START - timedelta(minutes=5))
    resp = login("teacher").get(f"{API}/{meeting.id}/qr")
    assert resp.status_code == 200
    q = resp.json
    assert tokens.verify(app.config["SECRET_KEY"], q["token"], START - timedelta(minutes=5)).meeting_id == meeting.id
    assert q["link"] == f"{app.config['WECHAT_QR_LINK_BASE']}checkin?t={q['token']}"
    png = base64.b64decode(q["image"].removeprefix("data:image/png;base64,"))
    assert Image.open(io.BytesIO(png)).format == "PNG"
    assert q["slot_seconds"] == 15 and 0 < q["refresh_in_ms"] <= 5000
    assert q["counts"]["invited"] == 2 and q["phase"] == "open"
    # what the QR shows checks people in
    answer = login("admin").post(f"{API}/check-ins", json={"token": q["token"], "nonce": nonce()}).json
    assert answer["status"] == "ok"


def test_qr_is_for_organisers_only(at, login):
    meeting = make_meeting()
    assert login("admin").get(f"{API}/{meeting.id}/qr").status_code == 200  # admins too
    other = make_meeting("admin", audience={"department_ids": [department_id("语文教研组")]})
    assert login("teacher").get(f"{API}/{other.id}/qr").status_code == 403  # invited only
    assert login("worker").get(f"{API}/{meeting.id}/qr").status_code == 404


def test_a_geofenced_meetings_qr_link_asks_for_the_location(app, at, login):
    meeting = make_meeting(geofence={**HALL, "radius_m": 100})
    link = login("teacher").get(f"{API}/{meeting.id}/qr").json["link"]
    assert link.endswith("&g=1") and "checkin?t=" in link


def test_sign_out_qr_needs_sign_out_enabled(app, at, login):
    meeting = make_meeting()
    resp = login("teacher").get(f"{API}/{meeting.id}/qr?purpose=sign_out")
    assert resp.status_code == 409 and resp.json["error_code"] == "meetings.sign_out_disabled"
    with_sign_out = make_meeting(sign_out_enabled=True)
    q = login("teacher").get(f"{API}/{with_sign_out.id}/qr?purpose=sign_out").json
    assert q["purpose"] == "sign_out" and ".o." in q["token"]


def test_projector_link_and_page(at, login, client):
    meeting = make_meeting()
    resp = login("teacher").post(f"{API}/{meeting.id}/projector-link")
    assert resp.status_code == 201
    link = resp.json
    assert link["expires_at"] == (END + timedelta(minutes=60)).isoformat()
    page = client.get(link["path"])
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert "会议签到" in html and "http" not in html.split("<script>")[1]  # no CDN, same-origin polling
    q = client.get(link["path"] + "/qr").json
    assert q["meeting_id"] == meeting.id and q["image"].startswith("data:image/png;base64,")
    assert set(q) == {"meeting_id", "title", "purpose", "token", "link", "image", "slot", "slot_seconds",
                      "changes_at", "valid_until", "refresh_in_ms", "server_time", "phase", "status", "counts"}
    assert client.get(f"{API}/projector/forged-key").status_code == 404
    assert client.get(f"{API}/projector/{link['key']}x/qr").status_code == 404
    at(END + timedelta(minutes=61))
    assert client.get(link["path"] + "/qr").json["error_code"] == "meetings.projector_expired"


def test_static_door_code_requires_the_geofence(at, login, sim):
    plain = make_meeting()
    resp = login("teacher").get(f"{API}/{plain.id}/static-code")
    assert resp.status_code == 409 and resp.json["error_code"] == "meetings.static_code_disabled"
    fenced = make_meeting(geofence={**HALL, "radius_m": 150}, allow_static_code=True)
    resp = login("teacher").get(f"{API}/{fenced.id}/static-code")
    assert resp.status_code == 200 and resp.headers["X-Code-Source"] == "wechat"
    assert Image.open(io.BytesIO(resp.data)).format == "PNG"
    assert sim.calls().get("/wxa/getwxacodeunlimit") == 1
    sim.inject_fault("/wxa/getwxacodeunlimit", errcode=45009, errmsg="reach max api daily quota limit")
    resp = login("teacher").get(f"{API}/{fenced.id}/static-code")
    assert resp.status_code == 200 and resp.headers["X-Code-Source"] == "qr"  # plain QR fallback


# --- organiser tools --------------------------------------------------------------------------------------


def test_live_counter_and_manual_check_in_and_undo_are_audited(app, at, login, ids):
    meeting = make_meeting()
    at(START + timedelta(minutes=7))
    teacher = login("teacher")
    _check_in(app, teacher, meeting.id)
    live = teacher.get(f"{API}/{meeting.id}/live").json
    assert live["counts"]["checked_in"] == 1 and live["recent"][0]["name"] == "张老师" and live["recent"][0]["late"]
    url = f"{API}/{meeting.id}/attendees/{ids['admin']}"
    assert teacher.post(f"{url}/check-in", json={}).status_code == 422  # a reason is required
    resp = teacher.post(f"{url}/check-in", json={"reason": "手机没电，本人在场"})
    assert resp.status_code == 200 and resp.json["check_in_via"] == "manual" and resp.json["status"] == "late"
    assert teacher.post(f"{url}/check-in", json={"reason": "再来一次"}).json["error_code"] == \
        "meetings.already_checked_in"
    resp = teacher.post(f"{url}/undo-check-in", json={"reason": "代签，本人不在"})
    assert resp.status_code == 200 and resp.json["status"] == "absent" and resp.json["checked_in_at"] is None
    assert teacher.post(f"{url}/undo-check-in", json={"reason": "再来"}).json["error_code"] == \
        "meetings.not_checked_in"
    audits = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "meeting_attendance")
                                .order_by(AuditEvent.id)).all()
    assert [(a.action, a.data["reason"], a.actor_id) for a in audits] == [
        ("manual_check_in", "手机没电，本人在场", ids["teacher"]), ("undo_check_in", "代签，本人不在", ids["teacher"])]
    manual = db.session.scalars(select(Scan).where(Scan.via == "manual").order_by(Scan.id)).all()
    assert [(s.action, s.note, s.recorded_by) for s in manual] == [
        ("check_in", "手机没电，本人在场", ids["teacher"]), ("undo", "代签，本人不在", ids["teacher"])]
    assert teacher.post(f"{API}/{meeting.id}/attendees/{ids['worker']}/check-in",
                        json={"reason": "不在名单"}).json["error_code"] == "meetings.attendee_not_found"
    assert login("admin").post(f"{API}/{meeting.id}/attendees/{ids['teacher']}/undo-check-in",
                               json={"reason": "管理员纠正"}).status_code == 200


def test_scan_log_shows_refusals_too(app, at, login):
    meeting = make_meeting()
    at(START - timedelta(hours=1))
    login("teacher").post(f"{API}/check-ins", json={"token": token_for(app, meeting.id), "nonce": nonce()})
    at(START)
    _check_in(app, login("teacher"), meeting.id)
    log = login("teacher").get(f"{API}/{meeting.id}/scans").json
    assert [(s["result"], s["reason"]) for s in log] == [("ok", None), ("error", "too_early")]
    assert [s["reason"] for s in login("teacher").get(f"{API}/{meeting.id}/scans?result=error").json] == ["too_early"]
    assert login("worker").get(f"{API}/{meeting.id}/scans").status_code == 404


# --- leave requests ---------------------------------------------------------------------------------------


def test_leave_flow_request_approve_counts_as_excused(app, at, login, ids):
    meeting = make_meeting()
    admin = login("admin")
    resp = admin.post(f"{API}/{meeting.id}/leave-requests", json={"reason": "区里开会"})
    assert resp.status_code == 201 and resp.json["status"] == "pending" and resp.json["name"] == "孙主任"
    leave_id = resp.json["id"]
    assert admin.post(f"{API}/{meeting.id}/leave-requests", json={"reason": "再请一次"}).json["error_code"] == \
        "meetings.leave_exists"
    [asked] = _notes(ids["teacher"], "meetings.leave_requested")
    assert "区里开会" in asked.body and asked.link == f"/packageMeetings/pages/leaves/leaves?meeting={meeting.id}"
    teacher = login("teacher")
    pending = teacher.get(f"{API}/leave-requests?status=pending").json
    assert [(p["id"], p["meeting_title"]) for p in pending] == [(leave_id, "语文教研组例会")]
    assert login("worker").post(f"{API}/leave-requests/{leave_id}/approve", json={}).status_code == 404
    resp = teacher.post(f"{API}/leave-requests/{leave_id}/approve", json={"note": "同意"})
    assert resp.status_code == 200 and resp.json["status"] == "approved" and resp.json["decision_note"] == "同意"
    assert teacher.post(f"{API}/leave-requests/{leave_id}/approve", json={}).status_code == 409
    [decided] = _notes(ids["admin"], "meetings.leave_decided")
    assert decided.title == "请假已批准：语文教研组例会"
    summary = teacher.get(f"{API}/{meeting.id}/attendance").json
    assert (summary["excused"], summary["absent"], summary["pending_leaves"]) == (1, 1, 0)
    excused = teacher.get(f"{API}/{meeting.id}/attendees?status=excused").json
    assert [(a["name"], a["leave"]["reason"]) for a in excused] == [("孙主任", "区里开会")]
    assert login("admin").get(f"{API}/{meeting.id}").json["mine"]["leave"]["status"] == "approved"


def test_leave_rejected_withdrawn_and_refused_cases(app, at, login, ids):
    meeting = make_meeting()
    admin, teacher = login("admin"), login("teacher")
    leave_id = admin.post(f"{API}/{meeting.id}/leave-requests", json={"reason": "孩子生病"}).json["id"]
    assert teacher.post(f"{API}/leave-requests/{leave_id}/withdraw").status_code == 403  # not theirs
    assert teacher.post(f"{API}/leave-requests/{leave_id}/reject", json={"note": "本次会议很重要"}).json["status"] \
        == "rejected"
    assert teacher.get(f"{API}/{meeting.id}/attendance").json["excused"] == 0
    second = admin.post(f"{API}/{meeting.id}/leave-requests", json={"reason": "孩子仍在生病"}).json["id"]
    teacher.post(f"{API}/leave-requests/{second}/approve", json={})
    resp = admin.post(f"{API}/leave-requests/{second}/withdraw")
    assert resp.status_code == 200 and resp.json["status"] == "withdrawn"
    assert teacher.get(f"{API}/{meeting.id}/attendance").json["excused"] == 0
    assert login("worker").post(f"{API}/{meeting.id}/leave-requests", json={"reason": "x x"}).status_code == 404
    at(START)
    _check_in(app, login("teacher"), meeting.id)
    resp = login("teacher").post(f"{API}/{meeting.id}/leave-requests", json={"reason": "已经来了"})
    assert resp.json["error_code"] == "meetings.already_checked_in"
    at(END + timedelta(minutes=1))
    resp = login("admin").post(f"{API}/{meeting.id}/leave-requests", json={"reason": "太晚了"})
    assert resp.json["error_code"] == "meetings.ended"
    assert db.session.scalar(select(func.count()).select_from(LeaveRequest)) == 2


def test_two_simultaneous_leave_requests_make_one(app, at, ids):
    meeting_id = make_meeting().id
    who = actor("admin")
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes = []

    def ask():
        with app.app_context():
            try:
                barrier.wait()
                service.request_leave(actor=who, meeting_id=meeting_id, reason="同时提交")
                db.session.commit()
                outcomes.append("ok")
            except (AppError, IntegrityError):  # the loser: the check's 409, or the unique index at flush
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert sorted(outcomes) == ["conflict", "ok"]
    assert db.session.scalar(select(func.count()).select_from(LeaveRequest)) == 1


# --- attendance, lists, export, history ----------------------------------------------------------------------


def _full_house(app, at, login, ids):
    """All staff invited; the teacher on time, the dispatcher late, the admin on approved leave."""
    meeting = make_meeting("admin", title="全体教职工大会", audience={"all_staff": True})
    admin = login("admin")
    leave_id = admin.post(f"{API}/{meeting.id}/leave-requests", json={"reason": "外出培训"}).json["id"]
    admin.post(f"{API}/leave-requests/{leave_id}/approve", json={})
    at(START)
    _check_in(app, login("teacher"), meeting.id)
    at(START + timedelta(minutes=6))
    _check_in(app, login("dispatcher"), meeting.id)
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
    _check_in(app, login("admin"), meetings[0].id)
    at(START + timedelta(days=1, minutes=10))
    _check_in(app, login("admin"), meetings[1].id)
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
