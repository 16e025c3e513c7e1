"""Timers through a real RQ worker (reminder, absentees, summary), called twice, moved, cancelled,
lost and swept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.db import db
from app.core.jobs import arm_periodic_jobs
from app.meetings import jobs, service
from app.meetings.models import Meeting
from app.notifications.models import Notification
from app.notifications.service import add_grants
from tests.conftest import drain
from tests.meetings.conftest import END, START, actor, make_meeting, nonce, service_data, token_for


def _notes(event, user_id=None):
    db.session.expire_all()
    stmt = select(Notification).where(Notification.event == event).order_by(Notification.id)
    if user_id is not None:
        stmt = stmt.where(Notification.user_id == user_id)
    return db.session.scalars(stmt).all()


def _check_in(app, role, meeting_id):
    answer = service.scan(actor=actor(role), nonce=nonce(), token=token_for(app, meeting_id))
    db.session.commit()
    assert answer.status == "ok", answer


def test_reminder_half_an_hour_before_to_those_expected(app, at, ids):
    meeting = make_meeting()
    leave = service.request_leave(actor=actor("admin"), meeting_id=meeting.id, reason="出差")
    service.decide_leave(actor=actor("teacher"), leave_id=leave.id, approve=True)
    db.session.commit()
    at(START - timedelta(minutes=31))
    drain(app)
    assert _notes("meetings.reminder") == []  # not yet
    at(START - timedelta(minutes=30))
    drain(app)
    [note] = _notes("meetings.reminder")
    assert note.user_id == ids["teacher"]  # the admin is excused
    assert note.title == "会议即将开始：语文教研组例会" and note.urgency == "normal"
    assert jobs.remind(meeting.id) == 0  # again: nothing
    assert len(_notes("meetings.reminder")) == 1


def test_absentee_reminder_at_start_plus_ten_to_those_not_in(app, at, ids):
    meeting = make_meeting()
    at(START)
    _check_in(app, "teacher", meeting.id)
    at(START + timedelta(minutes=10))
    drain(app)
    [note] = _notes("meetings.absent")
    assert (note.user_id, note.urgency) == (ids["admin"], "urgent")
    assert "14:00" in note.body
    assert jobs.remind_absentees(meeting.id) == 0
    assert len(_notes("meetings.absent")) == 1


def test_summary_to_the_organiser_after_check_in_closes(app, at, ids):
    meeting = make_meeting()
    at(START + timedelta(minutes=6))
    _check_in(app, "teacher", meeting.id)
    at(END + timedelta(minutes=1))
    drain(app)
    [note] = _notes("meetings.summary")
    assert note.user_id == ids["teacher"]
    assert note.body == "应到2 实到1 迟到1 请假0 缺席1"
    assert note.link == f"/packageMeetings/pages/report/report?id={meeting.id}"
    assert note.data["invited"] == 2
    assert jobs.summarise(meeting.id) is False
    assert len(_notes("meetings.summary")) == 1


def test_a_moved_meeting_old_timers_do_nothing_new_ones_fire(app, at, ids):
    meeting = make_meeting()
    later = service_data(starts_at=(START + timedelta(hours=2)).isoformat(),
                         ends_at=(END + timedelta(hours=2)).isoformat())
    service.update_meeting(actor=actor("teacher"), meeting_id=meeting.id, data=later)
    db.session.commit()
    at(START - timedelta(minutes=30))  # the old reminder time
    drain(app)
    assert _notes("meetings.reminder") == []
    at(START + timedelta(minutes=10))  # the old absentee time
    drain(app)
    assert _notes("meetings.absent") == []
    at(START + timedelta(hours=2) - timedelta(minutes=30))
    drain(app)
    assert {n.user_id for n in _notes("meetings.reminder")} == {ids["teacher"], ids["admin"]}


def test_a_cancelled_meeting_reminds_nobody(app, at):
    meeting = make_meeting()
    service.cancel_meeting(actor=actor("teacher"), meeting_id=meeting.id)
    db.session.commit()
    for moment in (START - timedelta(minutes=30), START + timedelta(minutes=10), END + timedelta(minutes=1)):
        at(moment)
        drain(app)
    assert _notes("meetings.reminder") == _notes("meetings.absent") == _notes("meetings.summary") == []


def test_no_reminder_for_a_meeting_created_inside_the_lead_time(app, at):
    at(START - timedelta(minutes=20))
    meeting = make_meeting()
    assert meeting.reminder_sent_at is not None  # the invitation has just said it all
    drain(app)
    assert _notes("meetings.reminder") == []


def test_the_sweep_sends_what_lost_timers_missed(app, at, redis_conn, ids):
    meeting = make_meeting()
    redis_conn.flushdb()  # every scheduled timer is gone
    at(START - timedelta(minutes=20))
    done = jobs.sweep()
    db.session.commit()
    assert done["reminders"] == 1 and len(_notes("meetings.reminder")) == 2
    at(START + timedelta(minutes=15))
    assert jobs.sweep()["absentees"] == 1
    db.session.commit()
    at(END + timedelta(minutes=5))
    assert jobs.sweep()["summaries"] == 1
    db.session.commit()
    assert jobs.sweep() == {"reminders": 0, "absentees": 0, "summaries": 0, "occurrences": 0}
    [summary] = _notes("meetings.summary")
    assert summary.data["meeting_id"] == meeting.id


def test_the_sweep_does_not_send_stale_timers_after_a_long_outage(app, at, redis_conn):
    make_meeting()
    redis_conn.flushdb()
    at(END + timedelta(hours=7))  # beyond SWEEP_LOOKBACK_HOURS
    jobs.sweep()
    db.session.commit()
    assert _notes("meetings.reminder") == _notes("meetings.absent") == _notes("meetings.summary") == []


def test_the_sweep_is_a_periodic_job(app):
    assert "meetings.sweep" in arm_periodic_jobs()


def test_the_timers_are_idempotent_against_the_sweep(app, at):
    meeting = make_meeting()
    at(START - timedelta(minutes=30))
    jobs.sweep()
    db.session.commit()
    drain(app)  # the scheduled timer fires too
    assert len(_notes("meetings.reminder")) == 2
    assert db.session.get(Meeting, meeting.id).reminder_sent_at is not None


def test_demo_meetings_never_send_anything(app, demo, clock):
    """Every test of every domain seeds them at the real time; a sweep must not turn them into messages."""
    demo_meeting = db.session.scalar(select(Meeting).where(Meeting.code == "DEMOALL1"))
    for moment in (demo_meeting.starts_at - timedelta(minutes=20), demo_meeting.starts_at + timedelta(minutes=15),
                   demo_meeting.checkin_closes_at + timedelta(minutes=5), demo_meeting.starts_at + timedelta(weeks=20)):
        clock.move_to(moment)
        assert jobs.sweep() == {"reminders": 0, "absentees": 0, "summaries": 0, "occurrences": 0}
        db.session.commit()
    assert db.session.scalar(select(Notification.id)) is None


def test_the_summary_reaches_wechat_within_the_templates_rules(app, at, ids, sim):
    """Through the outbox, a worker and the simulator, which refuses values that break WeChat's rules."""
    add_grants(ids["teacher"], "sim-meetings.summary", 1)
    db.session.commit()
    sim.grant_subscription("demo-openid-teacher", "sim-meetings.summary", 1)
    meeting = make_meeting(title="一个名字相当长的语文教研组期中质量分析专题会议")
    at(END + timedelta(minutes=1))
    drain(app)
    [msg] = sim.subscribe_messages(openid="demo-openid-teacher")
    assert msg["page"] == f"packageMeetings/pages/report/report?id={meeting.id}"
    assert msg["data"]["thing2"]["value"] == "实到0/2 迟到0 请假0"
    assert len(msg["data"]["thing1"]["value"]) <= 20
    assert msg["data"]["time3"]["value"] == "2027年3月15日 14:00"
