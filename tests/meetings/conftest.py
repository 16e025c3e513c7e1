from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.db import db
from app.meetings import service, tokens
from app.meetings.models import Invitation
from app.notifications.models import Notification
from app.users import seed as users_seed
from app.users import service as users_service
from app.users.models import Department

# Monday 15 March 2027, 10:00 in Shanghai: far from the demo seed's own meetings (made at the real time).
NOW = datetime(2027, 3, 15, 2, 0, tzinfo=UTC)
START = datetime(2027, 3, 15, 6, 0, tzinfo=UTC)  # 14:00 school time
END = START + timedelta(hours=1)
API = "/api/v1/meetings"
HALL = {"latitude": 31.2304, "longitude": 121.4737}


@pytest.fixture
def at(clock, demo):
    """``at(when)`` moves the clock; the tests start at NOW."""
    clock.move_to(NOW)
    return clock.move_to


@pytest.fixture
def ids(demo) -> dict[str, int]:
    """role -> user id of the demo users."""
    return users_seed.demo_user_ids()


def actor(role_or_id) -> object:
    uid = role_or_id if isinstance(role_or_id, int) else users_seed.demo_user_ids()[role_or_id]
    return users_service.load_actor(uid)


def department_id(name: str) -> int:
    return db.session.scalar(select(Department.id).where(Department.name == name))


def body(**overrides) -> dict:
    """A meeting as the API takes it: 14:00-15:00 on NOW's day, for the 语文教研组 (the demo teacher)
    and the admin."""
    data = {
        "title": "语文教研组例会",
        "location": "教学楼A 2F 教研室",
        "starts_at": START.isoformat(),
        "ends_at": END.isoformat(),
        "audience": {"department_ids": [department_id("语文教研组")],
                     "user_ids": [users_seed.demo_user_ids()["admin"]]},
    }
    data.update(overrides)
    return data


def service_data(**overrides) -> dict:
    """``body()`` as the service takes it (after the schema)."""
    data = body(**overrides)
    for key in ("starts_at", "ends_at"):
        if isinstance(data[key], str):
            data[key] = datetime.fromisoformat(data[key])
    return data


def make_meeting(organiser: str = "teacher", **overrides):
    meeting = service.create_meeting(actor=actor(organiser), data=service_data(**overrides))
    db.session.commit()
    return meeting


def token_for(app, meeting_id: int, when: datetime | None = None, purpose: str = "check_in") -> str:
    when = when or datetime.now(UTC)
    return tokens.make_token(app.config["SECRET_KEY"], meeting_id, tokens.slot_of(when), purpose)


def nonce() -> str:
    return uuid.uuid4().hex


def notes(user_id, event):
    return db.session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                         Notification.event == event)).all()


def check_in(app, session, meeting_id):
    answer = session.post(f"{API}/check-ins", json={"token": token_for(app, meeting_id), "nonce": nonce()}).json
    assert answer["status"] == "ok", answer
    return answer


def invited(meeting) -> dict[int, str]:
    """user id -> name of the meeting's invitees."""
    return dict(db.session.execute(select(Invitation.user_id, Invitation.name)
                                   .where(Invitation.meeting_id == meeting.id)).all())
