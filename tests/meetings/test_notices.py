"""What meetings tell many people at once (invitations, changes, reminders, cancellations): one
``notify_many`` each, a few statements whatever the audience, with each person's key as before."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from app.core.db import db
from app.meetings import jobs, service
from app.meetings.service.timers import still_expected
from app.notifications.models import Notification
from app.users.models import User
from tests.meetings.conftest import START, actor, make_meeting, service_data

CROWD = 300


def _crowd() -> list[int]:
    ids = db.session.scalars(User.__table__.insert().returning(User.id),
                             [{"openid": f"crowd-openid-{i}"} for i in range(CROWD)]).all()
    db.session.commit()
    return sorted(ids)


@contextmanager
def _inserts():
    """Counts the INSERT statements into the inbox while the block runs."""
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _keys(event_name: str) -> set[str]:
    return set(db.session.scalars(select(Notification.idempotency_key).where(Notification.event == event_name)))


def test_a_crowd_is_told_in_one_statement_per_message_with_the_same_keys(app, at):
    people = _crowd()
    with _inserts() as seen:
        meeting = make_meeting(audience={"user_ids": people})
    assert len(seen) == 1
    assert _keys("meetings.invited") == {f"meetings.invited:meeting:{meeting.id}:{uid}" for uid in people}

    with _inserts() as seen:
        service.update_meeting(actor=actor("teacher"), meeting_id=meeting.id,
                               data=service_data(location="行政楼 301", audience={"user_ids": people}))
        db.session.commit()
    assert len(seen) == 1
    [stamp] = {key.split(":")[2] for key in _keys("meetings.changed")}
    assert _keys("meetings.changed") == {f"meetings.changed:{meeting.id}:{stamp}:{uid}" for uid in people}

    stamp = int(START.timestamp())
    at(START - timedelta(minutes=30))
    with _inserts() as seen:
        assert jobs.sweep()["reminders"] == 1
        db.session.commit()
    assert len(seen) == 1
    assert _keys("meetings.reminder") == {f"meetings.reminder:{meeting.id}:{stamp}:{uid}" for uid in people}

    at(START + timedelta(minutes=10))
    with _inserts() as seen:
        assert jobs.sweep()["absentees"] == 1
        db.session.commit()
    assert len(seen) == 1
    assert _keys("meetings.absent") == {f"meetings.absent:{meeting.id}:{stamp}:{uid}" for uid in people}

    with _inserts() as seen:
        service.cancel_meeting(actor=actor("teacher"), meeting_id=meeting.id)
        db.session.commit()
    assert len(seen) == 1
    assert _keys("meetings.changed") >= {f"meetings.cancelled:{meeting.id}:{uid}" for uid in people}


def test_reminders_are_for_those_still_expected(app, at, ids):
    """Both reminders go to the same people: not in, not excused, no open leave request."""
    meeting = make_meeting(audience={"user_ids": [ids["teacher"], ids["admin"], ids["worker"]]})
    service.request_leave(actor=actor("worker"), meeting_id=meeting.id, reason="外出维修")  # pending: not expected
    db.session.commit()
    assert sorted(still_expected(meeting.id)) == sorted([ids["teacher"], ids["admin"]])
    at(START)
    service.manual_check_in(actor=actor("teacher"), meeting_id=meeting.id, user_id=ids["admin"], reason="手机没电")
    db.session.commit()
    assert still_expected(meeting.id) == [ids["teacher"]]
