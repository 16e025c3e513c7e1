"""Every status × every action, through the real endpoints: allowed moves land in the table's status
with an audit row; a repeat of what already happened (a double tap) answers 200 and changes nothing;
everything else is a 409 that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.core import audit, clock
from app.core.db import db
from app.repairs.models import Repair
from app.repairs.service import available_actions
from app.repairs.states import ACTION_ENDPOINTS, ASSIGNEE, GROUP_MEMBER, REPORTER, TRANSITIONS, Status
from tests.repairs.conftest import repair, report, user_id

WHO = {  # who tries each action, and with what
    "assign": ("dispatcher", lambda ids: {"worker_id": ids["worker"]}),
    "transfer": ("dispatcher", lambda ids: {"worker_id": ids["worker2"]}),
    "accept": ("worker", None),
    "decline": ("worker", lambda ids: {"reason": "不是我的专业"}),
    "start": ("worker", None),
    "hold": ("worker", lambda ids: {"reason": "等配件"}),
    "resume": ("worker", None),
    "complete": ("worker", lambda ids: {"labour_minutes": 20}),
    "confirm": ("teacher", lambda ids: {"rating": 4, "tags": ["响应及时"]}),
    "cancel": ("dispatcher", lambda ids: {"reason": "重复报修"}),
    "reopen": ("teacher", lambda ids: {"reason": "又坏了"}),
}
AFTER = {"reopen": Status.ASSIGNED}
"""Where an allowed action ends when it is followed by automatic dispatch (a reopen goes back to the
queue and is dispatched to the previous worker at once)."""
IGNORED = {
    (Status.ACCEPTED, "accept"), (Status.IN_PROGRESS, "start"), (Status.IN_PROGRESS, "resume"),
    (Status.ON_HOLD, "hold"), (Status.COMPLETED, "complete"), (Status.CONFIRMED, "confirm"),
    (Status.CANCELLED, "cancel"),
}
"""Pairs outside the table that repeat what already happened, by whom ``WHO`` sends (the assigned worker,
the reporter who rated, a dispatcher): success, nothing changes."""


def _force(repair_id: int, status: Status, worker_id: int) -> None:
    now = clock.now()
    values = {"status": str(status), "assignee_id": None if status == Status.SUBMITTED else worker_id}
    if status in (Status.COMPLETED, Status.CONFIRMED):
        values["completed_at"] = now
    if status == Status.CONFIRMED:
        values |= {"closed_at": now, "rating": 5}
    if status == Status.ON_HOLD:
        values["held_at"] = now
    db.session.execute(update(Repair).where(Repair.id == repair_id).values(**values))
    db.session.commit()


def test_every_action_has_an_endpoint_and_a_tester():
    assert set(ACTION_ENDPOINTS) == set(WHO)


def _try(sessions, ids, status: Status, action: str) -> list[str]:
    """Put a fresh repair in ``status``, try ``action``; return what went wrong (nothing: [])."""
    repair_id = report(sessions["teacher"], insist=True)["repair"]["id"]  # insist: never linked to the last one
    _force(repair_id, status, ids["worker"])
    events_before = len(audit.history("repairs", repair_id))
    role, payload = WHO[action]
    resp = sessions[role].post(f"/api/v1/repairs/{repair_id}/{action}", json=payload(ids) if payload else None)
    transition = TRANSITIONS.get((status, action))
    after = repair(repair_id)
    new_events = audit.history("repairs", repair_id)[events_before:]
    if transition is None and (status, action) in IGNORED:
        if resp.status_code != 200 or resp.json["status"] != status:
            return [f"expected 200 as it is (a repeat), got {resp.status_code} {resp.json}"]
        if after.status != status or new_events:
            return [f"an ignored repeat changed something: {after.status}, {[e.action for e in new_events]}"]
        return []
    if transition is None:
        if resp.status_code != 409 or resp.json["error_code"] != "repairs.invalid_transition":
            return [f"expected 409 invalid_transition, got {resp.status_code} {resp.json}"]
        if after.status != status or new_events:
            return [f"a refused action changed something: {after.status}, {[e.action for e in new_events]}"]
        return []
    problems = []
    if resp.status_code != 200:
        return [f"expected 200, got {resp.status_code} {resp.json}"]
    if after.status != AFTER.get(action, transition.to) or resp.json["status"] != after.status:
        problems.append(f"ended in {after.status} (answered {resp.json['status']})")
    entry = next((e for e in new_events if e.action == action), None)
    if entry is None or entry.actor_id != sessions[role].user["id"] or \
            (entry.before, entry.after) != ({"status": str(status)}, {"status": transition.to}):
        problems.append("no audit row with actor, before and after")
    if action not in [t["action"] for t in resp.json["timeline"][events_before:]]:
        problems.append("not on the timeline")
    return problems


@pytest.mark.parametrize("status", list(Status))
def test_every_action_in_status(login, second_worker, status):
    """One test per status (each action on a fresh repair of its own), so the table costs seconds."""
    sessions = {role: login(role) for role in ("teacher", "worker", "dispatcher")}
    ids = {"worker": user_id("worker"), "worker2": second_worker.user["id"]}
    failures = {action: problems for action in ACTION_ENDPOINTS if (problems := _try(sessions, ids, status, action))}
    assert failures == {}


@pytest.mark.parametrize(("status", "roles", "expected"), [
    (Status.SUBMITTED, {"teacher", REPORTER}, ["add_photos", "cancel"]),
    (Status.SUBMITTED, {"worker", GROUP_MEMBER}, ["accept"]),
    (Status.SUBMITTED, {"dispatcher"}, ["assign", "cancel", "reprioritise"]),
    (Status.ASSIGNED, {"worker", ASSIGNEE}, ["accept", "decline"]),
    (Status.ASSIGNED, {"teacher", REPORTER}, ["add_photos", "cancel"]),
    (Status.IN_PROGRESS, {"teacher", REPORTER}, ["add_photos"]),
    (Status.IN_PROGRESS, {"worker", ASSIGNEE}, ["add_photos", "complete", "hold"]),
    (Status.ON_HOLD, {"worker", ASSIGNEE}, ["add_photos", "resume"]),
    (Status.COMPLETED, {"teacher", REPORTER}, ["confirm", "reopen"]),
    (Status.COMPLETED, {"worker", ASSIGNEE}, []),
    (Status.CONFIRMED, {"teacher", REPORTER}, ["reopen"]),
    (Status.CANCELLED, {"teacher", REPORTER, "dispatcher"}, []),
])
def test_available_actions(app, status, roles, expected):
    now = clock.now()
    sample = Repair(status=str(status), closed_at=now if status == Status.CONFIRMED else None)
    assert available_actions(sample, roles) == expected


def test_reopen_is_offered_only_within_seven_days_of_closing(app):
    old = Repair(status=str(Status.CONFIRMED), closed_at=clock.now() - timedelta(days=8))
    assert available_actions(old, {REPORTER}) == []
