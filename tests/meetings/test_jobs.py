"""Timers through a real RQ worker (reminder, absentees, summary), called twice, moved, cancelled,
lost and swept; the ``app.core.timers`` rows behind them, the jobs of the release before and the
migration that gave existing meetings their timers."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update

from app.config import ROOT_DIR
from app.core import timers
from app.core.db import db
from app.core.jobs import arm_periodic_jobs, get_queue
from app.core.timers import Timer
from app.meetings import jobs, service
from app.meetings.models import Meeting
from app.meetings.states import TIMER_KINDS
from app.notifications.models import Notification
from app.notifications.service import add_grants
from tests.conftest import drain
from tests.meetings.conftest import END, NOW, START, actor, make_meeting, nonce, service_data, token_for


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


def _pending(meeting_id):
    return {kind: timers.pending(kind, meeting_id) for kind in TIMER_KINDS}


def test_the_timers_are_core_timers_moved_with_the_meeting_and_dropped_with_it(app, at):
    kinds = app.extensions["timer_kinds"]
    assert {kind: kinds[kind].handler for kind in TIMER_KINDS} == {
        "meetings.reminder": jobs.reminder, "meetings.absentees": jobs.absentees, "meetings.summary": jobs.summary}
    meeting = make_meeting()
    assert _pending(meeting.id) == {"meetings.reminder": START - timedelta(minutes=30),
                                    "meetings.absentees": START + timedelta(minutes=10),
                                    "meetings.summary": END + timedelta(minutes=1)}
    later = service_data(starts_at=(START + timedelta(hours=2)).isoformat(),
                         ends_at=(END + timedelta(hours=2)).isoformat())
    service.update_meeting(actor=actor("teacher"), meeting_id=meeting.id, data=later)
    db.session.commit()
    assert _pending(meeting.id) == {"meetings.reminder": START + timedelta(hours=2) - timedelta(minutes=30),
                                    "meetings.absentees": START + timedelta(hours=2, minutes=10),
                                    "meetings.summary": END + timedelta(hours=2, minutes=1)}
    assert db.session.scalar(select(func.count()).select_from(Timer)
                             .where(Timer.kind.like("meetings.%"))) == 3  # moved, not added
    service.cancel_meeting(actor=actor("teacher"), meeting_id=meeting.id)
    db.session.commit()
    assert _pending(meeting.id) == dict.fromkeys(TIMER_KINDS)


def test_no_reminder_timer_inside_the_lead_time(app, at):
    at(START - timedelta(minutes=20))
    meeting = make_meeting()
    assert timers.pending("meetings.reminder", meeting.id) is None
    assert timers.pending("meetings.absentees", meeting.id) == START + timedelta(minutes=10)


def test_the_timers_own_sweep_fires_a_lost_job(app, at, redis_conn, ids):
    """The periodic ``timers.sweep`` of every kind (not only the meetings sweep) sends what a lost job missed."""
    meeting = make_meeting()
    redis_conn.flushdb()
    at(START - timedelta(minutes=25))
    result = timers.sweep()
    db.session.commit()
    assert result["done"]["meetings.reminder"] == 1
    assert {n.user_id for n in _notes("meetings.reminder")} == {ids["teacher"], ids["admin"]}
    assert db.session.get(Meeting, meeting.id).reminder_sent_at is not None


def test_jobs_scheduled_by_the_previous_release_do_no_harm(app, at, ids):
    """RQ jobs at the old dotted paths, left in a running system's schedule: at their time a message still
    due goes out once; a meeting moved since gets nothing from them."""
    kept, moved = make_meeting(), make_meeting(title="要改期的会")
    queue = get_queue()
    for meeting in (kept, moved):
        queue.enqueue_at(START - timedelta(minutes=30), "app.meetings.jobs.remind", meeting.id)
        queue.enqueue_at(START + timedelta(minutes=10), "app.meetings.jobs.remind_absentees", meeting.id)
        queue.enqueue_at(END + timedelta(minutes=1), "app.meetings.jobs.summarise", meeting.id)
    tomorrow = service_data(title="要改期的会", starts_at=(START + timedelta(days=1)).isoformat(),
                            ends_at=(END + timedelta(days=1)).isoformat())
    service.update_meeting(actor=actor("teacher"), meeting_id=moved.id, data=tomorrow)
    db.session.commit()
    for moment in (START - timedelta(minutes=30), START + timedelta(minutes=10), END + timedelta(minutes=1)):
        at(moment)
        drain(app)
    reminded = {(n.data["meeting_id"], n.user_id) for n in _notes("meetings.reminder")}
    assert reminded == {(kept.id, ids["teacher"]), (kept.id, ids["admin"])}
    assert len(_notes("meetings.reminder")) == 2 and len(_notes("meetings.absent")) == 2
    assert [n.data["meeting_id"] for n in _notes("meetings.summary")] == [kept.id]


def _migration():
    [path] = (Path(ROOT_DIR) / "migrations" / "versions").glob("*_meetings_timers.py")
    spec = importlib.util.spec_from_file_location("meetings_timers_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_gives_existing_meetings_their_pending_timers(app, at):
    fresh = make_meeting()
    reminded = make_meeting(title="已提醒")
    cancelled = make_meeting(title="已取消")
    service.cancel_meeting(actor=actor("teacher"), meeting_id=cancelled.id)
    under_way = make_meeting(title="进行中", starts_at=(NOW - timedelta(minutes=5)).isoformat(),
                             ends_at=(NOW + timedelta(hours=1)).isoformat())
    db.session.execute(update(Meeting).where(Meeting.id == reminded.id).values(reminder_sent_at=NOW))
    db.session.execute(update(Meeting).where(Meeting.id == under_way.id).values(absentee_sent_at=None))
    moved_by_hand = START + timedelta(minutes=1)
    db.session.execute(delete(Timer))  # as before this release: no timers rows
    timers.schedule("meetings.summary", fresh.id, moved_by_hand)  # one exists already: kept as it is
    db.session.commit()
    written = _migration().backfill(db.session.connection(), now=NOW, lead_minutes=30)
    db.session.commit()
    assert written == 6  # fresh: 2 (its summary exists), reminded: 2, under way: 2
    assert _pending(fresh.id) == {"meetings.reminder": START - timedelta(minutes=30),
                                  "meetings.absentees": START + timedelta(minutes=10),
                                  "meetings.summary": moved_by_hand}
    assert _pending(reminded.id) == {"meetings.reminder": None, "meetings.absentees": START + timedelta(minutes=10),
                                     "meetings.summary": END + timedelta(minutes=1)}
    assert _pending(cancelled.id) == dict.fromkeys(TIMER_KINDS)
    assert _pending(under_way.id) == {"meetings.reminder": None,  # its time has passed
                                      "meetings.absentees": NOW + timedelta(minutes=5),
                                      "meetings.summary": NOW + timedelta(hours=1, minutes=1)}
    assert _migration().backfill(db.session.connection(), now=NOW, lead_minutes=30) == 0  # idempotent
