"""``notify_many``: one message to thousands in a few statements, once per recipient."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.core.db import db
from app.notifications import service
from app.notifications.models import Delivery, Notification
from app.users.models import User
from tests.conftest import drain
from tests.notifications.conftest import TEMPLATE_ID
from tests.support import race

DAYTIME = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NIGHT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai


def _users(n: int) -> list[int]:
    ids = db.session.scalars(
        User.__table__.insert().returning(User.id),
        [{"openid": f"bulk-openid-{i}"} for i in range(n)],
    ).all()
    db.session.commit()
    return list(ids)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _send(user_ids, key="order-ready:42", **kw) -> int:
    created = service.notify_many(user_ids=user_ids, event="test.ping", title="午餐已可取餐",
                                  body="请到二食堂 3 号窗口",
                                  data={"ref": 42, "at": DAYTIME.isoformat(), "state": "可取餐"},
                                  idempotency_key=key, **kw)
    db.session.commit()
    return created


def test_every_recipient_gets_one_message_and_one_delivery(app, ping, clock):
    clock.move_to(DAYTIME)
    people = _users(service.BULK_CHUNK + 200)  # more than one chunk
    assert _send(people + people[:5]) == len(people)  # a repeated id is one recipient
    assert _count(Notification) == len(people)
    keys = set(db.session.scalars(select(Notification.idempotency_key)))
    assert keys == {f"order-ready:42:{uid}" for uid in people}
    statuses = Counter(db.session.scalars(select(Delivery.status)))
    assert statuses == Counter({"pending": len(people)})
    [due] = set(db.session.scalars(select(Delivery.next_attempt_at)))
    assert due == DAYTIME  # daytime: at once
    first = db.session.scalars(select(Notification).order_by(Notification.id)).first()
    assert (first.title, first.body, first.data["ref"], first.urgency) == (
        "午餐已可取餐", "请到二食堂 3 号窗口", 42, "normal")


def test_a_retried_call_adds_only_what_is_missing(app, ping, clock):
    clock.move_to(DAYTIME)
    people = _users(30)
    assert _send(people[:20]) == 20
    assert _send(people) == 10  # the retry covers everyone; only the 10 new ones are written
    assert _send(people) == 0
    assert _count(Notification) == 30 and _count(Delivery) == 30


def test_two_calls_racing_write_each_message_once(app, ping, clock):
    clock.move_to(DAYTIME)
    people = _users(500)
    db.session.remove()
    created = race([lambda: _send(people)] * 2, app=app, timeout=30)
    assert sum(created) == 500  # whichever call came second found every message written
    assert _count(Notification) == 500 and _count(Delivery) == 500


def test_the_messages_are_delivered_to_wechat(app, ping, sim, clock):
    clock.move_to(DAYTIME)
    people = _users(12)
    for i, uid in enumerate(people):
        service.add_grants(uid, TEMPLATE_ID, 1)
        sim.grant_subscription(f"bulk-openid-{i}", TEMPLATE_ID, 1)
    db.session.commit()
    _send(people)
    drain(app)
    db.session.expire_all()
    assert Counter(db.session.scalars(select(Delivery.status))) == Counter({"sent": 12})
    assert len(sim.subscribe_messages(template_id=TEMPLATE_ID)) == 12


def test_quiet_hours_hold_non_urgent_pushes_but_not_the_inbox(app, ping, clock):
    clock.move_to(NIGHT)
    people = _users(3)
    _send(people)
    _send(people, key="urgent:1", urgency="urgent")
    dues = Counter((n.urgency, d.next_attempt_at) for d in db.session.scalars(select(Delivery))
                   for n in [d.notification])
    morning = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # 07:00 the next day in Shanghai
    assert dues == Counter({("normal", morning): 3, ("urgent", NIGHT): 3})
    assert _count(Notification, Notification.read_at.is_(None)) == 6  # the inbox has them all at once


def test_wecom_reaches_staff_only(app, ping, demo, monkeypatch, clock):
    clock.move_to(DAYTIME)
    monkeypatch.setitem(app.config, "WECOM_CORP_ID", "ww-sim-corp")
    monkeypatch.setitem(app.config, "WECOM_SECRET", "sim-corp-secret")
    monkeypatch.setitem(app.config, "WECOM_AGENT_ID", "1000002")
    app.extensions.pop("wechat", None)
    try:
        teacher, student = (db.session.scalar(select(User.id).where(User.openid == f"demo-openid-{role}"))
                            for role in ("teacher", "student"))
        _send([teacher, student])
    finally:
        app.extensions.pop("wechat", None)
    channels = Counter((n.user_id, d.channel) for d in db.session.scalars(select(Delivery)) for n in [d.notification])
    assert channels == Counter({(teacher, "subscribe"): 1, (teacher, "wecom"): 1, (student, "subscribe"): 1})
