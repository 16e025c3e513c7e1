"""Leave requests: asked, approved (counts as excused), rejected, withdrawn, refused; two at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.db import db
from app.core.errors import AppError
from app.meetings import service
from app.meetings.models import Invitation, LeaveRequest
from tests.meetings.conftest import API, END, START, actor, check_in, make_meeting, notes
from tests.support import race


def test_leave_flow_request_approve_counts_as_excused(app, at, login, ids):
    meeting = make_meeting()
    admin = login("admin")
    resp = admin.post(f"{API}/{meeting.id}/leave-requests", json={"reason": "区里开会"})
    assert resp.status_code == 201 and resp.json["status"] == "pending" and resp.json["name"] == "孙主任"
    leave_id = resp.json["id"]
    assert admin.post(f"{API}/{meeting.id}/leave-requests", json={"reason": "再请一次"}).json["error_code"] == \
        "meetings.leave_exists"
    [asked] = notes(ids["teacher"], "meetings.leave_requested")
    assert "区里开会" in asked.body and asked.link == f"/packageMeetings/pages/leaves/leaves?meeting={meeting.id}"
    teacher = login("teacher")
    pending = teacher.get(f"{API}/leave-requests?status=pending").json
    assert [(p["id"], p["meeting_title"]) for p in pending] == [(leave_id, "语文教研组例会")]
    assert login("worker").post(f"{API}/leave-requests/{leave_id}/approve", json={}).status_code == 404
    resp = teacher.post(f"{API}/leave-requests/{leave_id}/approve", json={"note": "同意"})
    assert resp.status_code == 200 and resp.json["status"] == "approved" and resp.json["decision_note"] == "同意"
    assert teacher.post(f"{API}/leave-requests/{leave_id}/approve", json={}).status_code == 409
    [decided] = notes(ids["admin"], "meetings.leave_decided")
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
    check_in(app, login("teacher"), meeting.id)
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

    def ask():
        try:
            service.request_leave(actor=who, meeting_id=meeting_id, reason="同时提交")
            db.session.commit()
            return "ok"
        except (AppError, IntegrityError):  # the loser: the check's 409, or the unique index at flush
            db.session.rollback()
            return "conflict"

    outcomes = race([ask, ask], app=app)
    assert sorted(outcomes) == ["conflict", "ok"]
    assert db.session.scalar(select(func.count()).select_from(LeaveRequest)) == 1


def test_staff_bound_after_an_all_staff_meeting_was_made_can_ask_for_leave(app, at, login, ids):
    """Like a scan: the all-staff meeting they can see admits them, their invitation row is added."""
    meeting = make_meeting("admin", title="全体教职工大会", audience={"all_staff": True})
    db.session.execute(Invitation.__table__.delete().where(Invitation.meeting_id == meeting.id,
                                                           Invitation.user_id == ids["teacher"]))
    db.session.commit()  # demo users are all bound already: the teacher plays "bound later"
    teacher = login("teacher")
    assert teacher.get(f"{API}/{meeting.id}").json["mine"]["invited"] is True
    resp = teacher.post(f"{API}/{meeting.id}/leave-requests", json={"reason": "带学生参赛"})
    assert resp.status_code == 201, resp.json
    assert (resp.json["name"], resp.json["status"]) == ("张老师", "pending")
    inv = db.session.scalar(select(Invitation).where(Invitation.meeting_id == meeting.id,
                                                     Invitation.user_id == ids["teacher"]))
    assert (inv.name, inv.number, inv.checked_in_at) == ("张老师", "T0001", None)
    assert login("admin").post(f"{API}/leave-requests/{resp.json['id']}/approve", json={}).status_code == 200
    assert login("admin").get(f"{API}/{meeting.id}/attendance").json["excused"] == 1
    assert login("student").post(f"{API}/{meeting.id}/leave-requests", json={"reason": "x x"}).status_code == 404
