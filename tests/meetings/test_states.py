"""The transition tables, every status × action, and the machines firing them (audited)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.db import db
from app.meetings import service
from app.meetings.models import Invitation, MeetingSeries
from app.meetings.states import (
    LEAVE_TRANSITIONS,
    MEETING_TRANSITIONS,
    SERIES_TRANSITIONS,
    LeaveStatus,
    MeetingStatus,
    SeriesStatus,
)
from tests.meetings.conftest import API, actor, make_meeting, notes, service_data

MEETING_ACTIONS = ["cancel"]
LEAVE_ACTIONS = ["approve", "reject", "withdraw"]
SERIES_ACTIONS = ["cancel"]

MEETING_TABLE = {
    ("scheduled", "cancel"): "cancelled",
    ("cancelled", "cancel"): None,
}
LEAVE_TABLE = {
    ("pending", "approve"): "approved",
    ("pending", "reject"): "rejected",
    ("pending", "withdraw"): "withdrawn",
    ("approved", "approve"): None,
    ("approved", "reject"): "rejected",
    ("approved", "withdraw"): "withdrawn",
    ("rejected", "approve"): None,
    ("rejected", "reject"): None,
    ("rejected", "withdraw"): None,
    ("withdrawn", "approve"): None,
    ("withdrawn", "reject"): None,
    ("withdrawn", "withdraw"): None,
}


@pytest.mark.parametrize("status", [s.value for s in MeetingStatus])
@pytest.mark.parametrize("action", MEETING_ACTIONS)
def test_meeting_table(status, action):
    transition = MEETING_TRANSITIONS.get((status, action))
    assert (transition.to if transition else None) == MEETING_TABLE[(status, action)]


@pytest.mark.parametrize("status", [s.value for s in LeaveStatus])
@pytest.mark.parametrize("action", LEAVE_ACTIONS)
def test_leave_table(status, action):
    transition = LEAVE_TRANSITIONS.get((status, action))
    assert (transition.to if transition else None) == LEAVE_TABLE[(status, action)]


SERIES_TABLE = {
    ("active", "cancel"): "cancelled",
    ("cancelled", "cancel"): None,
}
WHO = {
    "meeting": {("scheduled", "cancel"): {"organiser", "admin"}},
    "leave": {("pending", "approve"): {"organiser", "admin"}, ("pending", "reject"): {"organiser", "admin"},
              ("approved", "reject"): {"organiser", "admin"}, ("pending", "withdraw"): {"requester"},
              ("approved", "withdraw"): {"requester"}},
    "series": {("active", "cancel"): {"organiser", "admin"}},
}
REPEATABLE = {("meeting", "cancel"), ("leave", "approve"), ("leave", "withdraw")}


@pytest.mark.parametrize("status", [s.value for s in SeriesStatus])
@pytest.mark.parametrize("action", SERIES_ACTIONS)
def test_series_table(status, action):
    transition = SERIES_TRANSITIONS.get((status, action))
    assert (transition.to if transition else None) == SERIES_TABLE[(status, action)]


@pytest.mark.parametrize("name, table", [("meeting", MEETING_TRANSITIONS), ("leave", LEAVE_TRANSITIONS),
                                         ("series", SERIES_TRANSITIONS)])
def test_every_row_names_who_may_fire_it_and_whether_a_repeat_is_ignored(name, table):
    assert {pair: set(tr.roles) for pair, tr in table.items()} == WHO[name]
    assert all(tr.repeatable == ((name, action) in REPEATABLE) for (_s, action), tr in table.items())


def test_tables_cover_every_pair():
    assert set(MEETING_TRANSITIONS) <= set(MEETING_TABLE)
    assert set(LEAVE_TRANSITIONS) <= set(LEAVE_TABLE)
    assert set(SERIES_TRANSITIONS) <= set(SERIES_TABLE)


def test_cancel_fires_once_and_is_audited(at, caplog):
    meeting = make_meeting()
    service.cancel_meeting(actor=actor("teacher"), meeting_id=meeting.id, reason="改期")
    db.session.commit()
    # A second cancel (a double tap) is a success that changes nothing: ignored, not invalid.
    with caplog.at_level(logging.INFO, logger="app.core.statemachine"):
        assert service.cancel_meeting(actor=actor("teacher"), meeting_id=meeting.id).status == "cancelled"
    assert "state event ignored" in caplog.text
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.entity_type == "meetings")) == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "meetings"))
    assert (event.before, event.after, event.data) == ({"status": "scheduled"}, {"status": "cancelled"},
                                                        {"reason": "改期"})


def _audits(entity_type, action):
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == entity_type, AuditEvent.action == action))


def test_a_double_tap_on_cancel_answers_success_and_tells_nobody_twice(at, login, ids):
    meeting = make_meeting()
    for who in ("teacher", "admin"):  # the organiser's double tap, then an admin's late one
        resp = login(who).post(f"{API}/{meeting.id}/cancel", json={"reason": "改期"})
        assert resp.status_code == 200 and resp.json["status"] == "cancelled", resp.json
    assert _audits("meetings", "cancel") == 1
    assert len(notes(ids["admin"], "meetings.changed")) == 1


def test_leave_double_taps_answer_success_other_repeats_name_the_status(at, login, ids):
    meeting = make_meeting(audience={"user_ids": [ids["teacher"], ids["worker"]]})
    worker, teacher = login("worker"), login("teacher")
    leave_id = worker.post(f"{API}/{meeting.id}/leave-requests", json={"reason": "外出维修"}).json["id"]
    mine = worker.post(f"{API}/leave-requests/{leave_id}/approve", json={})
    assert (mine.status_code, mine.json["error_code"]) == (403, "meetings.forbidden")  # a requester does not decide
    for _ in range(2):
        resp = teacher.post(f"{API}/leave-requests/{leave_id}/approve", json={"note": "同意"})
        assert resp.status_code == 200 and resp.json["status"] == "approved", resp.json
    assert _audits("meeting_leave", "approve") == 1
    assert len(notes(ids["worker"], "meetings.leave_decided")) == 1
    other = teacher.post(f"{API}/leave-requests/{leave_id}/approve", json={"note": "再次同意"})
    assert (other.status_code, other.json["error_code"], other.json["message"]) == (
        409, "meeting_leave.invalid_transition", "请假申请已批准，不能批准")
    assert login("admin").post(f"{API}/leave-requests/{leave_id}/approve", json={"note": "同意"}).status_code == 409
    for _ in range(2):
        resp = worker.post(f"{API}/leave-requests/{leave_id}/withdraw")
        assert resp.status_code == 200 and resp.json["status"] == "withdrawn", resp.json
    assert _audits("meeting_leave", "withdraw") == 1
    late = teacher.post(f"{API}/leave-requests/{leave_id}/reject", json={})
    assert (late.status_code, late.json["message"]) == (409, "请假申请已撤回，不能驳回")


def test_withdrawing_an_old_request_again_leaves_a_newer_approval_alone(at, ids):
    meeting = make_meeting()
    first = service.request_leave(actor=actor("admin"), meeting_id=meeting.id, reason="出差")
    service.withdraw_leave(actor=actor("admin"), leave_id=first.id)
    second = service.request_leave(actor=actor("admin"), meeting_id=meeting.id, reason="还是要出差")
    service.decide_leave(actor=actor("teacher"), leave_id=second.id, approve=True)
    db.session.commit()
    assert service.withdraw_leave(actor=actor("admin"), leave_id=first.id).status == "withdrawn"  # a late retry
    db.session.commit()
    assert db.session.scalar(select(Invitation.excused).where(Invitation.meeting_id == meeting.id,
                                                              Invitation.user_id == ids["admin"])) is True


def test_stopping_a_series_goes_through_its_machine(at, login):
    series = service.create_series(actor=actor("teacher"), data=service_data(repeat={"count": 3}))
    db.session.commit()
    assert login("worker").post(f"{API}/series/{series.id}/cancel", json={}).status_code == 404
    resp = login("teacher").post(f"{API}/series/{series.id}/cancel", json={"reason": "停"})
    assert resp.status_code == 200 and resp.json["status"] == "cancelled"
    again = login("admin").post(f"{API}/series/{series.id}/cancel", json={})
    assert (again.status_code, again.json["error_code"], again.json["message"]) == (
        409, "meeting_series.invalid_transition", "周期会议已停止，不能停止")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "meeting_series",
                                                       AuditEvent.action == "cancel"))
    assert (event.before, event.after, event.data["reason"]) == ({"status": "active"}, {"status": "cancelled"}, "停")
    assert len(event.data["meetings"]) == 3
    db.session.expire_all()
    assert db.session.get(MeetingSeries, series.id).status == "cancelled"
