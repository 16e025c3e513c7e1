"""The inbox, consents, notices and the admin dead-letter view, through the API."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core import clock as app_clock
from app.core.audit import AuditEvent
from app.core.db import db
from app.core.errors import Forbidden
from app.notifications import service
from app.notifications.models import Delivery, SubscriptionGrant
from app.users import service as users_service
from app.users.models import User
from tests.conftest import drain
from tests.notifications.conftest import NOTICE_TEMPLATE_ID


def _user_id(role: str) -> int:
    return db.session.scalar(select(User.id).where(User.openid == f"demo-openid-{role}"))


def _message(role: str, key: str, title: str = "停水通知") -> int:
    n = service.notify(user_id=_user_id(role), event="notifications.notice", title=title, body="明天 8:00-12:00 停水",
                       link="/pages/messages/messages", idempotency_key=key)
    db.session.commit()
    return n.id


def test_inbox_lists_mine_newest_first_with_unread_count(login):
    teacher = login("teacher")
    _message("teacher", "a", "第一条")
    _message("teacher", "b", "第二条")
    _message("worker", "c", "别人的")
    resp = teacher.get("/api/v1/notifications")
    assert [n["title"] for n in resp.json] == ["第二条", "第一条"]
    assert resp.json[0]["read"] is False and resp.json[0]["link"] == "/pages/messages/messages"
    assert json.loads(resp.headers["X-Pagination"])["total"] == 2
    assert teacher.get("/api/v1/notifications/unread-count").json == {"unread": 2}


def test_mark_one_and_all_read(login):
    teacher = login("teacher")
    first = _message("teacher", "a")
    _message("teacher", "b")
    resp = teacher.post(f"/api/v1/notifications/{first}/read")
    assert resp.status_code == 200 and resp.json["read"] is True
    assert teacher.post(f"/api/v1/notifications/{first}/read").status_code == 200  # idempotent
    assert teacher.get("/api/v1/notifications/unread-count").json == {"unread": 1}
    assert [n["title"] for n in teacher.get("/api/v1/notifications?unread=true").json] == ["停水通知"]
    assert teacher.post("/api/v1/notifications/read-all").json == {"marked": 1}
    assert teacher.get("/api/v1/notifications/unread-count").json == {"unread": 0}


def test_someone_elses_message_is_404(login):
    theirs = _message("worker", "w")
    resp = login("teacher").post(f"/api/v1/notifications/{theirs}/read")
    assert resp.status_code == 404 and resp.json["error_code"] == "notifications.not_found"


def test_consents_are_recorded_per_accept(login):
    teacher = login("teacher")
    templates = teacher.get("/api/v1/notifications/templates").json
    assert {"event": "notifications.notice", "template_id": NOTICE_TEMPLATE_ID, "title": "后勤通知"} in templates
    resp = teacher.post("/api/v1/notifications/subscriptions", json={"results": {NOTICE_TEMPLATE_ID: "accept"}})
    assert resp.status_code == 200 and resp.json == {"remaining": {NOTICE_TEMPLATE_ID: 1}}
    teacher.post("/api/v1/notifications/subscriptions", json={"results": {NOTICE_TEMPLATE_ID: "accept"}})
    resp = teacher.post("/api/v1/notifications/subscriptions", json={"results": {NOTICE_TEMPLATE_ID: "reject"}})
    assert resp.json == {"remaining": {NOTICE_TEMPLATE_ID: 2}}


def test_a_consent_through_the_api_is_mirrored_to_the_simulator_and_the_notice_arrives(app, login, sim,
                                                                                      monkeypatch):
    monkeypatch.setitem(app.config, "QUIET_HOURS", "")  # about delivery, whatever the time of day
    monkeypatch.setitem(app.config, "WECHAT_SIMULATOR_MIRROR_CONSENTS", True)  # what `make run` does
    teacher = login("teacher")
    resp = teacher.post("/api/v1/notifications/subscriptions", json={"results": {NOTICE_TEMPLATE_ID: "accept"}})
    assert resp.status_code == 200 and resp.json == {"remaining": {NOTICE_TEMPLATE_ID: 1}}
    teacher.post("/api/v1/notifications/subscriptions", json={"results": {NOTICE_TEMPLATE_ID: "reject"}})
    granted = {"openid": "demo-openid-teacher", "template_id": NOTICE_TEMPLATE_ID, "remaining": 1}
    assert sim.subscriptions("demo-openid-teacher") == [granted]  # what 允许 gives at WeChat's side

    _message("teacher", "mirrored")
    drain(app)
    db.session.expire_all()
    assert db.session.scalar(select(Delivery.status).where(Delivery.channel == "subscribe")) == "sent"
    [sent] = sim.subscribe_messages(openid="demo-openid-teacher", template_id=NOTICE_TEMPLATE_ID)
    assert sent["data"]["thing1"]["value"] == "停水通知"
    assert sim.subscriptions("demo-openid-teacher") == [{**granted, "remaining": 0}]


@pytest.mark.parametrize("settings", [
    {},  # the suite's default (APP_ENV=test): consents stay ours, as a test that grants at WeChat expects
    {"WECHAT_SIMULATOR": False, "WECHAT_SIMULATOR_MIRROR_CONSENTS": True,
     "WECHAT_TEMPLATE_IDS": json.dumps({"notifications.notice": NOTICE_TEMPLATE_ID})},  # not simulator mode
])
def test_consents_are_mirrored_only_when_turned_on_in_simulator_mode(app, login, sim, monkeypatch, settings):
    teacher = login("teacher")
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    resp = teacher.post("/api/v1/notifications/subscriptions", json={"results": {NOTICE_TEMPLATE_ID: "accept"}})
    assert resp.status_code == 200 and resp.json == {"remaining": {NOTICE_TEMPLATE_ID: 1}}
    assert sim.subscriptions() == []


def test_an_unreachable_simulator_does_not_fail_the_consent(app, login, sim, monkeypatch, caplog,
                                                            closed_port_url):
    teacher = login("teacher")
    monkeypatch.setitem(app.config, "WECHAT_SIMULATOR_MIRROR_CONSENTS", True)
    monkeypatch.setitem(app.config, "WECHAT_API_BASE_URL", closed_port_url)
    app.extensions.pop("wechat", None)  # clients built for the real simulator's URL
    with caplog.at_level(logging.WARNING, logger="app.wechat.gateway"):
        resp = teacher.post("/api/v1/notifications/subscriptions",
                            json={"results": {NOTICE_TEMPLATE_ID: "accept"}})
    assert resp.status_code == 200 and resp.json == {"remaining": {NOTICE_TEMPLATE_ID: 1}}
    assert any("consent not mirrored" in r.getMessage() for r in caplog.records)
    assert sim.subscriptions() == []


@pytest.mark.parametrize("body", [{"results": {"unknown-template": "accept"}}, {"results": {}},
                                  {"results": {NOTICE_TEMPLATE_ID: "maybe"}}, {}])
def test_bad_consent_reports_are_422(login, body):
    resp = login("teacher").post("/api/v1/notifications/subscriptions", json=body)
    assert resp.status_code == 422
    assert db.session.query(SubscriptionGrant).count() == 0


def test_admin_notice_reaches_the_roles_and_is_audited(app, login, sim):
    admin = login("admin")
    notice = {"title": "周六全校停电", "body": "配电房检修", "roles": ["worker", "student"]}
    resp = admin.post("/api/v1/admin/notices", json=notice)
    assert resp.status_code == 201 and resp.json == {"recipients": 2}
    assert login("worker").get("/api/v1/notifications").json[0]["title"] == "周六全校停电"
    assert login("student").get("/api/v1/notifications/unread-count").json == {"unread": 1}
    assert login("teacher").get("/api/v1/notifications/unread-count").json == {"unread": 0}
    assert db.session.scalar(select(AuditEvent.after).where(AuditEvent.entity_type == "notice"))["audience"] == 2


def test_only_admins_send_notices(login):
    resp = login("teacher").post("/api/v1/admin/notices", json={"title": "x", "body": "y", "roles": ["student"]})
    assert resp.status_code == 403


def test_admin_sees_dead_deliveries_and_retries_them(app, login, sim, consent, monkeypatch):
    monkeypatch.setitem(app.config, "QUIET_HOURS", "")  # about dead letters, whatever the time of day
    consent(1, NOTICE_TEMPLATE_ID)
    sim.inject_fault("/cgi-bin/message/subscribe/send", errcode=47003, errmsg="argument invalid!")
    _message("teacher", "dead-one")
    drain(app)
    admin = login("admin")
    dead = admin.get("/api/v1/admin/notifications?status=dead").json
    assert len(dead) == 1 and dead[0]["channel"] == "subscribe" and dead[0]["title"] == "停水通知"
    resp = admin.post(f"/api/v1/admin/notifications/{dead[0]['id']}/retry")
    assert resp.status_code == 200 and resp.json["status"] == "pending" and resp.json["attempts"] == 0
    again = admin.post(f"/api/v1/admin/notifications/{dead[0]['id']}/retry")  # a double tap: ignored, not a 409
    assert again.status_code == 200 and again.json["status"] == "pending"
    drain(app)
    db.session.expire_all()
    assert db.session.scalar(select(Delivery.status)) == "sent"
    [retry] = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "notification_delivery"))
    assert (retry.before, retry.after) == ({"status": "dead"}, {"status": "pending"})
    sent = admin.post(f"/api/v1/admin/notifications/{dead[0]['id']}/retry")
    assert sent.status_code == 409 and sent.json["message"] == "该消息已发送，不能重试"


def test_dead_letter_view_is_admin_only(login):
    assert login("worker").get("/api/v1/admin/notifications?status=dead").status_code == 403


def test_wecom_channel_for_staff_when_configured(app, login, sim, monkeypatch):
    monkeypatch.setitem(app.config, "QUIET_HOURS", "")  # about the channel, whatever the time of day
    monkeypatch.setitem(app.config, "WECOM_CORP_ID", "ww-sim-corp")
    monkeypatch.setitem(app.config, "WECOM_SECRET", "sim-corp-secret")
    monkeypatch.setitem(app.config, "WECOM_AGENT_ID", "1000002")
    app.extensions.pop("wechat", None)
    try:
        _message("teacher", "wecom-1", "会议室变更")
        drain(app)
    finally:
        app.extensions.pop("wechat", None)
    db.session.expire_all()
    channels = {d.channel: d.status for d in db.session.scalars(select(Delivery))}
    assert channels == {"subscribe": "skipped", "wecom": "sent"}  # no consent for the subscribe message
    [msg] = sim.wecom_messages(touser="T0001")
    assert "会议室变更" in json.dumps(msg, ensure_ascii=False)


def test_delivery_counts_per_status_for_admins(app, login, sim, consent, monkeypatch):
    monkeypatch.setitem(app.config, "QUIET_HOURS", "")  # about the figures, whatever the time of day
    consent(1, NOTICE_TEMPLATE_ID)
    sim.inject_fault("/cgi-bin/message/subscribe/send", errcode=47003, errmsg="argument invalid!")
    _message("teacher", "dead-one")
    _message("worker", "skipped-one")  # no consent: skipped
    drain(app)
    admin = users_service.load_actor(_user_id("admin"))
    counts = service.delivery_counts(actor=admin)
    assert counts == {"pending": 0, "sending": 0, "sent": 0, "skipped": 1, "failed": 0, "dead": 1}
    later = app_clock.now() + timedelta(minutes=1)
    assert sum(service.delivery_counts(actor=admin, since=later).values()) == 0
    earlier = app_clock.now() - timedelta(minutes=1)
    assert sum(service.delivery_counts(actor=admin, until=earlier).values()) == 0  # made after it
    assert service.delivery_counts(actor=admin, since=earlier, until=later)["dead"] == 1
    assert service.delivery_counts(actor=admin, statuses=("failed", "dead")) == {"failed": 0, "dead": 1}
    with pytest.raises(Forbidden):
        service.delivery_counts(actor=users_service.load_actor(_user_id("teacher")))


def test_deliveries_by_day_count_on_the_schools_day(login, clock):
    """``delivery_counts_by_day``: each day of the period listed, every status; a delivery made at 23:30
    school time (15:30 UTC) counts on that school day, one made at 00:30 (16:30 UTC the day before) on the next."""
    login("teacher")
    clock.move_to("2026-10-12T23:30:00+08:00")
    _message("teacher", "late-evening")
    clock.move_to("2026-10-13T00:30:00+08:00")
    _message("teacher", "after-midnight")
    _message("teacher", "after-midnight-2")
    admin = users_service.load_actor(_user_id("admin"))
    days = service.delivery_counts_by_day(actor=admin, start=app_clock.local_now().date() - timedelta(days=2),
                                          end=app_clock.local_now().date())
    assert [str(d["day"]) for d in days] == ["2026-10-11", "2026-10-12", "2026-10-13"]
    per_message = sum(n for k, n in days[1].items() if k != "day")
    assert per_message >= 1 and days[0]["pending"] == 0
    assert sum(n for k, n in days[2].items() if k != "day") == 2 * per_message
    assert set(days[0]) == {"day", "pending", "sending", "sent", "skipped", "failed", "dead"}
    with pytest.raises(Forbidden):
        service.delivery_counts_by_day(actor=users_service.load_actor(_user_id("teacher")),
                                       start=days[0]["day"], end=days[2]["day"])
