"""Redis goes away under a running app (docs/architecture.md, "When Redis is down"): login, check-in and
photo upload go on — their rate limits fall back to a limit held in the process — and the business writes
commit; nothing answers 500. Never the machine's Redis: an embedded one of the test's own is stopped."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.config import limits_storage_uri
from app.core.db import db
from app.embedded import EmbeddedRedis
from app.extensions import limiter
from app.meetings.models import Invitation
from app.repairs.models import RepairPhoto
from app.users import seed as users_seed
from tests.conftest import probe_app
from tests.meetings.conftest import NOW, START, make_meeting, nonce, token_for
from tests.repairs.conftest import category_id, jpeg, place_id

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_going_away(app, demo, service_urls, tmp_path):
    """A separate app whose Redis (queues and rate limits) is an embedded server the test can stop."""
    redis = EmbeddedRedis(tmp_path / "redis")
    url = redis.start()
    web = probe_app(service_urls, tmp_path, REDIS_URL=url, RATELIMIT_STORAGE_URI=limits_storage_uri(url),
                    PROPAGATE_EXCEPTIONS=False)  # a 500 is an answer to assert on, as in production
    try:
        yield web, redis
    finally:
        redis.stop()
        # Flask-Limiter is one object per process: point it back at the suite's Redis and forget the outage
        # (its own recovery check runs on a timer the tests' fixed clock would keep from firing).
        limiter.init_app(app)
        limiter._storage_dead = False


def _login(client, code: str):
    return client.post("/api/v1/auth/wechat-login", json={"code": code})


def test_login_checkin_upload_and_report_go_on_without_redis(redis_going_away, clock, sim):
    web, redis = redis_going_away
    clock.move_to(NOW)
    with web.app_context():
        meeting_id = make_meeting().id
    client = web.test_client()
    assert _login(client, "demo-teacher").status_code == 200  # Redis up: as always

    clock.move_to(START - timedelta(minutes=10))  # check-in is open
    redis.stop()  # Redis goes away

    resp = _login(client, "demo-teacher")
    assert resp.status_code == 200, resp.get_json()
    auth = {"Authorization": f"Bearer {resp.get_json()['access_token']}"}

    scan = client.post("/api/v1/meetings/check-ins", headers=auth,
                       json={"token": token_for(web, meeting_id), "nonce": nonce()})
    assert scan.status_code == 200, scan.get_json()
    assert scan.get_json()["status"] == "ok"

    with web.app_context():
        photo = client.post("/api/v1/repairs/photos", headers=auth, content_type="multipart/form-data",
                            data={"file": (io.BytesIO(jpeg()), "photo.jpg")})
        assert photo.status_code == 201, photo.get_json()
        report = client.post("/api/v1/repairs", headers=auth, json={
            "description": "灯不亮了", "contact_phone": "13800000001", "photo_ids": [photo.get_json()["id"]],
            "category_id": category_id(), "place_id": place_id()})
        assert report.status_code == 201, report.get_json()

        db.session.expire_all()
        teacher = users_seed.demo_user_ids()["teacher"]
        invitation = db.session.scalar(select(Invitation).where(Invitation.meeting_id == meeting_id,
                                                                Invitation.user_id == teacher))
        assert invitation.checked_in_at is not None  # the check-in committed
        assert db.session.scalar(select(func.count()).select_from(RepairPhoto)
                                 .where(RepairPhoto.repair_id.is_not(None))) == 1
        db.session.remove()


def test_rate_limits_still_count_in_the_process_while_redis_is_down(redis_going_away, sim):
    """The per-code login limit (5 a minute) holds without Redis: the sixth try is a 429, not a 500 and
    not an open door."""
    web, redis = redis_going_away
    client = web.test_client()
    redis.stop()
    answers = [_login(client, "not-a-real-code-0001").status_code for _ in range(6)]
    assert answers == [401] * 5 + [429], answers
