"""The organiser's live counter, checking someone in by hand and taking it back (audited)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import db
from app.meetings.models import Scan
from tests.meetings.conftest import API, START, check_in, make_meeting


def test_live_counter_and_manual_check_in_and_undo_are_audited(app, at, login, ids):
    meeting = make_meeting()
    at(START + timedelta(minutes=7))
    teacher = login("teacher")
    check_in(app, teacher, meeting.id)
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
