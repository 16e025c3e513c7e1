"""The transition tables, every status × action, and the machines firing them (audited)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import db
from app.core.statemachine import InvalidTransition
from app.meetings import service
from app.meetings.states import LEAVE_TRANSITIONS, MEETING_TRANSITIONS, LeaveStatus, MeetingStatus
from tests.meetings.conftest import actor, make_meeting

MEETING_ACTIONS = ["cancel"]
LEAVE_ACTIONS = ["approve", "reject", "withdraw"]

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


def test_tables_cover_every_pair():
    assert set(MEETING_TRANSITIONS) <= set(MEETING_TABLE)
    assert set(LEAVE_TRANSITIONS) <= set(LEAVE_TABLE)


def test_cancel_fires_once_and_is_audited(at):
    meeting = make_meeting()
    service.cancel_meeting(actor=actor("teacher"), meeting_id=meeting.id, reason="改期")
    db.session.commit()
    with pytest.raises(InvalidTransition) as err:
        service.cancel_meeting(actor=actor("teacher"), meeting_id=meeting.id)
    assert err.value.error_code == "meetings.invalid_transition"
    db.session.rollback()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "meetings"))
    assert (event.before, event.after, event.data) == ({"status": "scheduled"}, {"status": "cancelled"},
                                                        {"reason": "改期"})
