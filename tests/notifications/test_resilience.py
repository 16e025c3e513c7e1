"""Nothing is lost when Redis goes away or a worker is killed in the middle of sending."""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app.core.db import db
from app.embedded import EmbeddedRedis
from app.notifications import service
from app.notifications.jobs import PUSH_THREADS
from app.notifications.models import Delivery, Notification
from app.notifications.service import NOTICE
from app.notifications.states import MAX_SUBSCRIBE_GRANTS
from app.users.models import User
from tests.conftest import drain, probe_app, stop_worker
from tests.notifications.conftest import NOTICE_TEMPLATE_ID

pytestmark = pytest.mark.slow


def _statuses() -> Counter:
    db.session.expire_all()
    return Counter(db.session.scalars(select(Delivery.status)))


def test_redis_down_while_business_commits_then_everything_is_delivered(
        _app, service_urls, ping, teacher_id, consent, sim, tmp_path, clock):
    clock.move_to(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    consent(5, NOTICE_TEMPLATE_ID)
    redis = EmbeddedRedis(tmp_path / "redis")
    url = redis.start()
    app = probe_app(service_urls, tmp_path, REDIS_URL=url)
    with app.app_context():
        redis.stop()  # Redis goes away
        for i in range(5):
            service.notify(user_id=teacher_id, event=NOTICE.event, title=f"通知{i}", body="明天停水",
                           idempotency_key=f"down-{i}")
            db.session.commit()  # the business write commits anyway
        assert db.session.query(Notification).count() == 5
        assert _statuses() == Counter({"pending": 5})

        redis.start()  # Redis is back (empty: the jobs were never enqueued)
        app.extensions.pop("wechat", None)
        clock.move_to(datetime(2026, 11, 23, 2, 5, tzinfo=UTC))
        assert service.sweep()["waiting"] == 5
        db.session.commit()
        drain(app)
        assert _statuses() == Counter({"sent": 5})
        db.session.remove()
    redis.stop()
    assert len(sim.subscribe_messages()) == 5


def test_worker_killed_mid_send_strands_nothing(app, teacher_id, consent, sim, clock, monkeypatch, worker_process):
    monkeypatch.setitem(app.config, "QUIET_HOURS", "")  # about sending, whatever the time of day
    total = 20
    consent(total, NOTICE_TEMPLATE_ID)
    sim.configure(lenient_quota=True)  # messages in flight at the kill reach WeChat twice: no 43101 for them
    sim.inject_fault("/cgi-bin/message/subscribe/send", delay_seconds=0.15, count=total)  # slow WeChat
    for i in range(total):
        service.notify(user_id=teacher_id, event=NOTICE.event, title=f"通知{i}", body="明天停水",
                       idempotency_key=f"kill-{i}")
    db.session.commit()

    worker = worker_process("notifications")
    try:
        deadline = time.monotonic() + 30
        while len(sim.subscribe_messages()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:  # the kill is the test; it also means no worker outlives a failing test
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    before_kill = _statuses()
    assert before_kill["sent"] < total, before_kill  # killed mid-way: work was left in the middle
    assert before_kill["sending"] + before_kill["pending"] > 0, before_kill

    # a later sweep (after the lease) takes the abandoned message back; a new worker finishes the rest
    clock.move_to(datetime.now(UTC) + timedelta(minutes=3))
    service.sweep()
    db.session.commit()
    drain(app)

    final = _statuses()
    assert final == Counter({"sent": total}), final
    sends = Counter(m["data"]["thing1"]["value"] for m in sim.subscribe_messages())
    assert set(sends) == {f"通知{i}" for i in range(total)}
    duplicated = [title for title, n in sends.items() if n > 1]
    # only the calls in flight at the kill (one per push thread at most: a thread records each outcome
    # before it takes the next message) may go twice; everything recorded before the kill went once
    assert len(duplicated) <= PUSH_THREADS, duplicated
    assert sum(sends.values()) - len(sends) == len(duplicated)


def _settled(count, *, quiet: float = 2.0, deadline: float = 30.0) -> int:
    """Wait until ``count()`` stops growing for ``quiet`` seconds; its last value."""
    last, since, end = count(), time.monotonic(), time.monotonic() + deadline
    while time.monotonic() - since < quiet and time.monotonic() < end:
        time.sleep(0.05)
        now = count()
        if now != last:
            last, since = now, time.monotonic()
    return last


def test_a_slow_database_while_sending_holds_back_more_sends(app, teacher_id, consent, sim, clock, monkeypatch,
                                                             worker_process):
    """WeChat answers but the database is slow to take the outcomes (a lock, a busy server). A worker
    that went on sending while its outcomes waited would have many sent-but-unrecorded messages, and
    a kill then sends every one of them again. Each push thread records its outcome before it takes
    the next message, so at most PUSH_THREADS are ever at stake."""
    monkeypatch.setitem(app.config, "QUIET_HOURS", "")
    total = 20
    consent(total, NOTICE_TEMPLATE_ID)
    sim.configure(lenient_quota=True)
    sim.inject_fault("/cgi-bin/message/subscribe/send", delay_seconds=0.15, count=total)
    for i in range(total):
        service.notify(user_id=teacher_id, event=NOTICE.event, title=f"通知{i}", body="明天停水",
                       idempotency_key=f"slow-{i}")
    db.session.commit()

    blocker = db.engine.connect()
    worker = worker_process("notifications")
    try:
        deadline = time.monotonic() + 30
        while _statuses()["sending"] < total and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _statuses()["sending"] == total, _statuses()  # one batch claimed, the calls under way
        # outcomes now wait for these row locks, as they would for a stuck database
        blocker.execute(text("SELECT id FROM notification_deliveries FOR UPDATE"))
        reached_wechat = _settled(lambda: len(sim.subscribe_messages()))
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        blocker.rollback()
        blocker.close()
    assert 0 < reached_wechat <= PUSH_THREADS, reached_wechat

    clock.move_to(datetime.now(UTC) + timedelta(minutes=3))
    service.sweep()
    db.session.commit()
    drain(app)
    assert _statuses() == Counter({"sent": total})
    sends = Counter(m["data"]["thing1"]["value"] for m in sim.subscribe_messages())
    assert set(sends) == {f"通知{i}" for i in range(total)}
    assert sum(sends.values()) - total <= PUSH_THREADS  # each went once, but for those at stake at the kill


def test_two_workers_share_a_backlog(app, sim, monkeypatch, worker_process):
    """One commit of many messages asks for one drain; its first full batch recruits the second
    worker, so WeChat sees more sends at once than one worker's PUSH_THREADS can make."""
    monkeypatch.setitem(app.config, "QUIET_HOURS", "")  # about sending, whatever the time of day
    people = 6
    total = people * MAX_SUBSCRIBE_GRANTS
    sim.configure(lenient_quota=True)
    sim.inject_fault("/cgi-bin/message/subscribe/send", delay_seconds=0.2, count=total)  # slow WeChat
    for n in range(people):
        user = User(openid=f"share-openid-{n}")
        db.session.add(user)
        db.session.flush()
        service.add_grants(user.id, NOTICE_TEMPLATE_ID, MAX_SUBSCRIBE_GRANTS)
        for i in range(MAX_SUBSCRIBE_GRANTS):
            service.notify(user_id=user.id, event=NOTICE.event, title=f"通知{n}-{i}", body="明天停水",
                           idempotency_key=f"share-{n}-{i}")
    db.session.commit()  # one drain job on the queue

    workers = [worker_process("notifications") for _ in range(2)]
    deadline = time.monotonic() + 60
    while _statuses()["sent"] < total and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [stop_worker(w, 30) for w in workers] == [0, 0]  # a warm shutdown lets a drain finish its batch
    assert _statuses() == Counter({"sent": total})
    assert len(sim.subscribe_messages()) == total  # nothing went twice
    assert sim.peak_in_flight() > PUSH_THREADS  # both workers were sending at the same time
