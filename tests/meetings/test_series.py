"""The series of a weekly meeting: generated ahead, bounded, edited, detached, stopped, swept."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.core.clock import to_local
from app.core.db import db
from app.core.errors import ValidationFailed
from app.meetings import service
from app.meetings.models import Meeting, MeetingSeries
from app.notifications.models import Notification
from tests.meetings.conftest import END, START, actor, invited, service_data


def _series(**repeat):
    data = service_data(title="教研组周例会", repeat=repeat or {"interval_weeks": 1})
    series = service.create_series(actor=actor("teacher"), data=data)
    db.session.commit()
    return series


def _occurrences(series):
    return db.session.scalars(select(Meeting).where(Meeting.series_id == series.id).order_by(Meeting.starts_at)).all()


def test_a_weekly_series_is_generated_eight_weeks_ahead_and_invites_once(at, ids):
    series = _series()
    meetings = _occurrences(series)
    assert len(meetings) == 8  # eight weeks ahead: today's and the next seven Mondays
    assert all(to_local(m.starts_at).strftime("%a %H:%M") == "Mon 14:00" for m in meetings)
    assert [m.occurrence_date for m in meetings][:2] == [date(2027, 3, 15), date(2027, 3, 22)]
    assert all(set(invited(m)) == {ids["teacher"], ids["admin"]} for m in meetings)
    notes = db.session.scalars(select(Notification).where(Notification.event == "meetings.invited",
                                                          Notification.user_id == ids["admin"])).all()
    assert len(notes) == 1 and notes[0].body.startswith("每周一 14:00，3月15日起")


def test_the_sweep_extends_the_horizon_without_duplicates(at):
    series = _series()
    at(START + timedelta(weeks=2))
    service.sweep()  # (the demo seed's own series is extended too)
    db.session.commit()
    assert len(_occurrences(series)) == 11  # up to 24 May 14:00, the new horizon
    assert service.sweep()["occurrences"] == 0
    assert len(_occurrences(series)) == 11


def test_until_and_count_bound_the_series(at):
    assert len(_occurrences(_series(count=3))) == 3
    assert len(_occurrences(_series(interval_weeks=2, until=date(2027, 4, 12)))) == 3  # 15.3, 29.3, 12.4


def test_editing_one_occurrence_detaches_it_from_series_edits(at, ids):
    series = _series()
    first, second, *_ = _occurrences(series)
    moved = service_data(title="教研组周例会（改三点）", starts_at=(START + timedelta(weeks=1, hours=1)).isoformat(),
                         ends_at=(END + timedelta(weeks=1, hours=1)).isoformat())
    service.update_meeting(actor=actor("teacher"), meeting_id=second.id, data=moved)
    db.session.commit()
    later = service_data(title="教研组周例会", starts_at=(START + timedelta(minutes=30)).isoformat(),
                         ends_at=(END + timedelta(minutes=30)).isoformat(), location="行政楼 301")
    service.update_series(actor=actor("teacher"), series_id=series.id, data=later)
    db.session.commit()
    db.session.expire_all()
    meetings = _occurrences(series)
    times = [to_local(m.starts_at).strftime("%H:%M") for m in meetings]
    assert times[1] == "15:00" and meetings[1].detached  # kept its own edit
    assert set(times[2:]) == {"14:30"} and {m.location for m in meetings[2:]} == {"行政楼 301"}
    assert times[0] == "14:30"  # today's has not opened yet (opens 13:30... it is 10:00)


def test_a_series_keeps_its_weekday(at):
    series = _series()
    tuesday = service_data(starts_at=(START + timedelta(days=1)).isoformat(),
                           ends_at=(END + timedelta(days=1)).isoformat())
    with pytest.raises(ValidationFailed) as err:
        service.update_series(actor=actor("teacher"), series_id=series.id, data=tuesday)
    assert err.value.error_code == "meetings.series_weekday"


def test_cancelling_a_series_cancels_the_future_and_tells_each_invitee_once(at, ids):
    series = _series()
    at(START + timedelta(minutes=10))  # today's is under way: it stays
    service.cancel_series(actor=actor("teacher"), series_id=series.id, reason="学期结束")
    db.session.commit()
    statuses = [m.status for m in _occurrences(series)]
    assert statuses[0] == "scheduled" and set(statuses[1:]) == {"cancelled"}
    changed = db.session.scalars(select(Notification).where(Notification.event == "meetings.changed",
                                                            Notification.user_id == ids["admin"])).all()
    assert len(changed) == 1 and "学期结束" in changed[0].body
    assert db.session.get(MeetingSeries, series.id).status == "cancelled"
    at(START + timedelta(weeks=3))
    service.sweep()
    assert len(_occurrences(series)) == len(statuses)  # a stopped series grows no more


def test_series_are_the_organisers(at, login):
    series = _series()
    assert login("admin").get(f"/api/v1/meetings/series/{series.id}").status_code == 200
    assert login("worker").get(f"/api/v1/meetings/series/{series.id}").status_code == 404
    resp = login("teacher").get(f"/api/v1/meetings/series/{series.id}")
    assert resp.json["description"] == "每周一 14:00，3月15日起", resp.json["description"]
    assert len(resp.json["occurrences"]) == 8


def test_series_through_the_api(at, login):
    teacher = login("teacher")
    body = {**{k: v for k, v in service_data().items() if k not in ("starts_at", "ends_at")},
            "starts_at": START.isoformat(), "ends_at": END.isoformat(), "repeat": {"interval_weeks": 1, "count": 4}}
    resp = teacher.post("/api/v1/meetings/series", json=body)
    assert resp.status_code == 201, resp.json
    series_id = resp.json["id"]
    assert len(resp.json["occurrences"]) == 4
    resp = teacher.put(f"/api/v1/meetings/series/{series_id}", json={**body, "title": "周例会"})
    assert resp.status_code == 200 and resp.json["title"] == "周例会"
    resp = teacher.post(f"/api/v1/meetings/series/{series_id}/cancel", json={"reason": "停"})
    assert resp.status_code == 200 and resp.json["status"] == "cancelled"
    assert teacher.post(f"/api/v1/meetings/series/{series_id}/cancel", json={}).status_code == 409
    total = db.session.scalar(select(func.count()).select_from(Meeting).where(Meeting.series_id == series_id))
    assert total == 4


def test_a_broken_series_does_not_stop_the_sweep(at, caplog):
    broken = _series()
    db.session.execute(MeetingSeries.__table__.update().where(MeetingSeries.id == broken.id).values(
        template={**broken.template, "place_id": 999999}))
    db.session.commit()
    healthy = _series()
    at(START + timedelta(weeks=2))
    service.sweep()
    db.session.commit()
    assert len(_occurrences(healthy)) == 11 and len(_occurrences(broken)) == 8
    assert "could not be extended" in caplog.text


def _scheduled(series):
    db.session.expire_all()
    return [m.occurrence_date for m in _occurrences(series) if m.status == "scheduled"]


@pytest.mark.parametrize("use_case", ["create_meeting", "update_meeting", "create_series", "update_series"])
def test_a_meeting_that_ends_in_the_past_is_refused_by_one_rule(at, use_case):
    """Last Monday's times: the same refusal whichever way they come in (editing a series included)."""
    past = service_data(starts_at=(START - timedelta(weeks=1)).isoformat(),
                        ends_at=(END - timedelta(weeks=1)).isoformat())
    calls = {
        "create_meeting": lambda: service.create_meeting(actor=actor("teacher"), data=past),
        "update_meeting": lambda: service.update_meeting(
            actor=actor("teacher"), meeting_id=service.create_meeting(actor=actor("teacher"), data=service_data()).id,
            data=past),
        "create_series": lambda: service.create_series(actor=actor("teacher"), data=past),
        "update_series": lambda: service.update_series(actor=actor("teacher"), series_id=_series().id, data=past),
    }
    with pytest.raises(ValidationFailed) as err:
        calls[use_case]()
    assert (err.value.error_code, err.value.errors) == ("meetings.in_the_past", {"ends_at": ["会议结束时间已过"]})


def test_an_edit_changes_the_interval_and_the_end_and_tells_who_loses_a_date(at, ids):
    series = _series()
    assert len(_scheduled(series)) == 8
    every_other = service_data(title="教研组周例会", repeat={"interval_weeks": 2, "count": 3})
    service.update_series(actor=actor("teacher"), series_id=series.id, data=every_other)
    db.session.commit()
    assert _scheduled(series) == [date(2027, 3, 15), date(2027, 3, 29), date(2027, 4, 12)]
    stored = db.session.get(MeetingSeries, series.id)
    assert (stored.interval_weeks, stored.until) == (2, date(2027, 4, 12))
    [note] = db.session.scalars(select(Notification).where(Notification.event == "meetings.changed",
                                                           Notification.user_id == ids["admin"])).all()
    assert note.title == "周期会议已调整：教研组周例会"
    assert note.body == "每2周一 14:00，3月15日起。不再举行：3月22日、4月5日、4月19日、4月26日、5月3日"
    at(START + timedelta(weeks=4))
    service.sweep()
    db.session.commit()
    assert len(_scheduled(series)) == 3  # the new end holds


def test_an_edit_without_repeat_keeps_the_recurrence(at):
    series = _series(interval_weeks=2, count=3)
    service.update_series(actor=actor("teacher"), series_id=series.id, data=service_data(title="双周例会"))
    db.session.commit()
    assert _scheduled(series) == [date(2027, 3, 15), date(2027, 3, 29), date(2027, 4, 12)]
    assert db.session.get(MeetingSeries, series.id).title == "双周例会"


def test_an_edit_applies_from_the_occurrence_it_names(at):
    """Two weeks in, the organiser moves the meeting to 15:00 from the next one on."""
    series = _series()
    at(START + timedelta(weeks=1, hours=2))
    later = service_data(starts_at=(START + timedelta(weeks=2, hours=1)).isoformat(),
                         ends_at=(END + timedelta(weeks=2, hours=1)).isoformat())
    service.update_series(actor=actor("teacher"), series_id=series.id, data=later)
    db.session.commit()
    db.session.expire_all()
    times = {m.occurrence_date: to_local(m.starts_at).strftime("%H:%M") for m in _occurrences(series)}
    assert times[date(2027, 3, 15)] == times[date(2027, 3, 22)] == "14:00"  # held already
    assert {times[d] for d in times if d >= date(2027, 3, 29)} == {"15:00"}
    assert service.get_series(actor=actor("teacher"), series_id=series.id)["description"] == "每周一 15:00，3月29日起"
