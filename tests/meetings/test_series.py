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
