"""Demo data for ``flask seed-demo`` (``app.seed``): a staff meeting and a weekly series, idempotent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core import clock
from app.core.db import db
from app.meetings.models import Meeting, MeetingSeries
from app.meetings.service.meetings import apply, materialise, new_code
from app.meetings.service.series import occurrence_data, occurrence_starts
from app.meetings.states import SERIES_HORIZON_WEEKS, MeetingStatus, SeriesStatus
from app.places import service as places_service
from app.users import seed as users_seed
from app.users import service as users_service


def seed_demo() -> None:
    """A staff meeting (all staff, with sign-out, starting within the hour) and the 语文教研组's weekly
    meeting (8 weeks). Demo data sends nothing: no invitations, no timers, reminders marked done, and a
    series that ends with its seeded occurrences — so a running sweep (or another domain's tests, which
    seed this data and move the clock) never turns demo meetings into messages."""
    demo_users = users_seed.demo_user_ids()
    admin, teacher = demo_users.get("admin"), demo_users.get("teacher")
    if admin is None or teacher is None:
        return
    now = clock.now()
    quiet = {"reminder_sent_at": now, "absentee_sent_at": now, "summary_sent_at": now}
    if db.session.scalar(select(Meeting.id).where(Meeting.code == "DEMOALL1")) is None:
        room = places_service.get_by_code("E-ADM-301")
        start = clock.local_now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        meeting = Meeting(code="DEMOALL1", organiser_id=admin, status=str(MeetingStatus.SCHEDULED), **quiet)
        apply(meeting, {"title": "全体教职工大会", "description": "学期工作部署", "place_id": room.id,
                         "starts_at": start, "ends_at": start + timedelta(hours=1), "sign_out_enabled": True,
                         "audience": {"all_staff": True}})
        db.session.add(meeting)
        db.session.flush()
        materialise(meeting)
    if db.session.scalar(select(MeetingSeries.id).where(MeetingSeries.organiser_id == teacher)) is None:
        chinese = [d.id for d in users_service.list_departments() if d.name == "语文教研组"]
        start = clock.local_now().replace(hour=16, minute=0, second=0, microsecond=0) + timedelta(days=1)
        series = MeetingSeries(
            organiser_id=teacher, title="语文教研组例会", first_starts_at=start, duration_minutes=60,
            interval_weeks=1, until=(start + timedelta(weeks=SERIES_HORIZON_WEEKS - 1)).date(),
            status=str(SeriesStatus.ACTIVE),
            template={"title": "语文教研组例会", "description": "", "place_id": None, "location": "教学楼A 2F 教研室",
                      "opens_before_minutes": 30, "late_after_minutes": 5, "closes_after_end_minutes": 0,
                      "geofence": None, "allow_static_code": False, "sign_out_enabled": False,
                      "audience": {"all_staff": False, "department_ids": chinese, "class_ids": [],
                                   "class_members": "students", "roles": [], "user_ids": [admin]}})
        db.session.add(series)
        db.session.flush()
        for local_start in occurrence_starts(series, now + timedelta(weeks=SERIES_HORIZON_WEEKS)):
            meeting = Meeting(code=new_code(), organiser_id=teacher, series_id=series.id,
                              occurrence_date=local_start.date(), status=str(MeetingStatus.SCHEDULED), **quiet)
            apply(meeting, occurrence_data(series, local_start))
            db.session.add(meeting)
            db.session.flush()
            materialise(meeting)
        series.generated_until = now + timedelta(weeks=SERIES_HORIZON_WEEKS)
