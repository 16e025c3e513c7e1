"""Delivery through a real RQ worker and the simulator over HTTP: once, retried, skipped, swept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq import Queue
from sqlalchemy import select

from app.core.db import db
from app.core.jobs import arm_periodic_jobs
from app.core.redis import get_redis
from app.notifications import jobs, service
from app.notifications.models import Delivery, SubscriptionGrant
from app.users.models import User
from tests.conftest import drain
from tests.frozen import answered_within
from tests.notifications.conftest import TEMPLATE_ID

# 10:00 in Shanghai, outside quiet hours
DAYTIME = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _notify(user_id, key="k1", urgency="normal", **data):
    n = service.notify(user_id=user_id, event="test.ping", title="报修单已派给李师傅", body="请留意",
                       data={"ref": 7, "at": DAYTIME.isoformat(), "state": "已派单", **data},
                       urgency=urgency, idempotency_key=key)
    db.session.commit()
    return n


def _deliveries():
    db.session.expire_all()
    return db.session.scalars(select(Delivery).order_by(Delivery.id)).all()


def test_one_message_reaches_wechat_exactly_once(app, ping, teacher_id, consent, sim, clock):
    clock.move_to(DAYTIME)
    consent(1)
    _notify(teacher_id)
    _notify(teacher_id)  # the same business event again: same key, nothing new
    drain(app)
    drain(app)  # a second pass finds nothing to do
    [d] = _deliveries()
    assert (d.status, d.attempts, d.channel) == ("sent", 1, "subscribe")
    [msg] = sim.subscribe_messages(openid="demo-openid-teacher")
    assert msg["template_id"] == TEMPLATE_ID
    assert msg["page"] == "pages/index/index?id=7"
    assert msg["data"]["thing1"]["value"] == "报修单已派给李师傅"
    assert msg["data"]["time2"]["value"] == "2026年11月23日 10:00"
    assert msg["data"]["phrase3"]["value"] == "已派单"
    grant = db.session.scalar(select(SubscriptionGrant))
    assert grant.remaining == 0  # the consent was spent


def test_draining_twice_sends_once(app, ping, teacher_id, consent, sim, clock):
    clock.move_to(DAYTIME)
    consent(2)
    _notify(teacher_id)
    assert jobs.drain() == {"sent": 1}
    assert jobs.drain() == {}
    assert len(sim.subscribe_messages()) == 1


def test_a_backlog_recruits_one_more_drain(app, ping, teacher_id, consent, sim, clock):
    clock.move_to(DAYTIME)
    consent(service.BATCH_SIZE)
    for i in range(service.BATCH_SIZE):
        _notify(teacher_id, key=f"backlog-{i}")
    queue = Queue("notifications", connection=get_redis())
    queue.empty()  # only the drains this test starts
    assert jobs.drain() == {"sent": service.BATCH_SIZE}
    assert [j.func_name for j in queue.jobs] == ["app.notifications.jobs.drain"]  # a full batch: one helper
    consent(1)
    _notify(teacher_id, key="one-more")
    queue.empty()
    assert jobs.drain() == {"sent": 1}
    assert queue.count == 0  # less than a batch: it works alone


def test_a_batch_of_skips_does_not_end_the_drain(app, ping, teacher_id, sim, clock):
    """A notice to people who never subscribed fills whole batches with skips; the messages after
    them still go out in the same drain."""
    clock.move_to(DAYTIME)
    for i in range(service.BATCH_SIZE):
        _notify(teacher_id, key=f"unsubscribed-{i}")  # no consent: skipped when claimed
    clock.move_to(DAYTIME + timedelta(seconds=1))
    subscriber = User(openid="o-subscriber")
    db.session.add(subscriber)
    db.session.flush()
    service.add_grants(subscriber.id, TEMPLATE_ID, 1)
    sim.grant_subscription("o-subscriber", TEMPLATE_ID, 1)
    _notify(subscriber.id, key="subscribed")
    assert jobs.drain() == {"skipped": service.BATCH_SIZE, "sent": 1}
    assert [m["touser"] for m in sim.subscribe_messages()] == ["o-subscriber"]


def test_no_consent_is_skipped_not_retried(app, ping, teacher_id, sim, clock):
    clock.move_to(DAYTIME)
    _notify(teacher_id)
    drain(app)
    [d] = _deliveries()
    assert d.status == "skipped" and "未订阅" in d.last_error
    assert sim.subscribe_messages() == []
    assert sim.calls().get("/cgi-bin/message/subscribe/send") is None


def test_43101_from_wechat_is_skipped_and_zeroes_our_count(app, ping, teacher_id, sim, clock):
    clock.move_to(DAYTIME)
    service.add_grants(teacher_id, TEMPLATE_ID, 3)  # we think we have consent, WeChat says no
    db.session.commit()
    _notify(teacher_id)
    drain(app)
    [d] = _deliveries()
    assert d.status == "skipped" and "43101" in d.last_error
    assert db.session.scalar(select(SubscriptionGrant.remaining)) == 0


def test_40001_refreshes_the_token_and_sends(app, ping, teacher_id, consent, sim, clock):
    clock.move_to(DAYTIME)
    consent(1)
    _notify(teacher_id, key="warm")  # gets a token cached
    drain(app)
    consent(1)
    sim.invalidate_tokens("invalid")
    _notify(teacher_id, key="after-invalidation")
    drain(app)
    assert [d.status for d in _deliveries()] == ["sent", "sent"]
    assert sim.calls()["/cgi-bin/token"] == 2


def test_temporary_failure_retries_with_backoff_then_sends(app, ping, teacher_id, consent, sim, clock):
    clock.move_to(DAYTIME)
    consent(1)
    sim.inject_fault("/cgi-bin/message/subscribe/send", errcode=-1, errmsg="system error")
    _notify(teacher_id)
    drain(app)
    [d] = _deliveries()
    assert (d.status, d.attempts) == ("failed", 1)
    assert d.next_attempt_at == DAYTIME + timedelta(seconds=30)
    assert db.session.scalar(select(SubscriptionGrant.remaining)) == 1  # refunded
    clock.move_to(DAYTIME + timedelta(seconds=31))
    drain(app)  # the scheduled retry fires
    [d] = _deliveries()
    assert (d.status, d.attempts) == ("sent", 2)
    assert len(sim.subscribe_messages()) == 1


def test_out_of_attempts_is_dead(app, ping, teacher_id, consent, sim, clock):
    clock.move_to(DAYTIME)
    consent(1)
    sim.inject_fault("/cgi-bin/message/subscribe/send", errcode=-1, count=10)
    _notify(teacher_id)
    for minutes in (0, 1, 3, 13, 43):
        clock.move_to(DAYTIME + timedelta(minutes=minutes, seconds=5))
        jobs.drain()
    [d] = _deliveries()
    assert (d.status, d.attempts) == ("dead", 5)


def test_permanent_error_is_dead_at_once(app, ping, teacher_id, consent, sim, clock):
    clock.move_to(DAYTIME)
    consent(1)
    sim.inject_fault("/cgi-bin/message/subscribe/send", errcode=47003, errmsg="argument invalid!")
    _notify(teacher_id)
    drain(app)
    [d] = _deliveries()
    assert (d.status, d.attempts) == ("dead", 1)


def test_quiet_hours_defer_normal_but_not_urgent(app, ping, teacher_id, consent, sim, clock):
    night = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    clock.move_to(night)
    consent(2)
    _notify(teacher_id, key="normal")
    _notify(teacher_id, key="urgent", urgency="urgent")
    drain(app)
    statuses = {d.notification.idempotency_key: d for d in _deliveries()}
    assert statuses["urgent"].status == "sent"
    assert statuses["normal"].status == "pending"
    morning = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # 07:00 next day in Shanghai
    assert statuses["normal"].next_attempt_at == morning
    clock.move_to(morning + timedelta(seconds=1))
    drain(app)  # RQ's scheduler releases the deferred job
    assert all(d.status == "sent" for d in _deliveries())
    assert len(sim.subscribe_messages()) == 2


def test_sweeper_enqueues_what_was_never_enqueued(app, ping, teacher_id, consent, sim, clock):
    clock.move_to(DAYTIME)
    consent(1)
    _notify(teacher_id)
    Queue("notifications", connection=get_redis()).empty()  # the job is lost
    clock.move_to(DAYTIME + timedelta(minutes=2))
    assert service.sweep()["waiting"] == 1
    db.session.commit()
    drain(app)
    assert [d.status for d in _deliveries()] == ["sent"]


def test_sweeper_takes_back_abandoned_leases(app, ping, teacher_id, consent, sim, clock):
    clock.move_to(DAYTIME)
    consent(1)
    _notify(teacher_id)
    [claimed] = service.claim_batch().push  # a worker took it ...
    db.session.commit()  # ... and died before sending
    Queue("notifications", connection=get_redis()).empty()
    clock.move_to(DAYTIME + timedelta(minutes=5))
    result = service.sweep()
    db.session.commit()
    assert result["reclaimed"] == 1
    drain(app)
    [d] = _deliveries()
    assert (d.status, d.attempts) == ("sent", 2)
    # the dead worker's late answer cannot overwrite the new outcome
    assert service.finish(claimed, service.Outcome("fail", error="late")) is None


def test_periodic_sweep_is_armed_once_and_reschedules_itself(app):
    assert "notifications.sweep" in arm_periodic_jobs()  # with the other domains' sweeps
    assert arm_periodic_jobs() == []  # another worker's heartbeat: already armed
    scheduled = Queue("notifications", connection=get_redis()).scheduled_job_registry
    assert scheduled.count == 1


def test_a_push_that_crashes_fails_the_drain_without_holding_the_others_back(app, ping, teacher_id, consent,
                                                                             monkeypatch, clock):
    """An unexpected error in one call (a bug, not WeChat's answer) fails the job, as before; the other
    outcomes are recorded, no push thread is left waiting, and the crashed message's lease lapses."""
    clock.move_to(DAYTIME)
    consent(3)
    for key in ("a", "b", "c"):
        _notify(teacher_id, key=key)
    Queue("notifications", connection=get_redis()).empty()
    crash_on = _deliveries()[1].id

    def push(claimed, who):
        if claimed.delivery_id == crash_on:
            raise RuntimeError("a bug in a push")
        return service.Outcome("sent", message_id="m")

    monkeypatch.setattr(service, "push", push)
    failure = answered_within(30, lambda: _raised(app, jobs.drain), unstick=lambda: None)
    assert str(failure) == "a bug in a push"
    db.session.rollback()
    assert {d.id: d.status for d in _deliveries()} == {d.id: "sending" if d.id == crash_on else "sent"
                                                        for d in _deliveries()}


def _raised(app, call):
    with app.app_context():
        try:
            call()
        except Exception as exc:
            return exc
    return None
