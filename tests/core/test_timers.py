"""Timers: a due time, a claim so each fires once, handlers that re-check, one sweep for lost jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Integer, func, select, text

from app.core import audit
from app.core import clock as app_clock
from app.core import timers as timers_module
from app.core.db import db, fetch
from app.core.jobs import forget_claims, get_queue
from app.core.timers import Timer, TimerKind
from tests.conftest import drain
from tests.support import race

KIND = "probe.ring"


class Bell:
    """A probe handler: each ring is an audit row, written in the firing transaction."""

    def __init__(self):
        self.fail = 0

    def __call__(self, subject_id: int) -> str:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("the bell is broken")
        audit.record("probe_bell", subject_id, "ring", actor_id=None)
        return "rang"


def rings(subject_id: int) -> int:
    db.session.expire_all()
    return len([e for e in audit.history("probe_bell", subject_id) if e.action == "ring"])


@pytest.fixture
def bell(app, monkeypatch):
    handler = Bell()
    monkeypatch.setitem(app.extensions["timer_kinds"], KIND, TimerKind(KIND, handler))
    return handler


def _swept(**kw) -> tuple[int, int]:
    result = timers_module.sweep(**kw)
    return result["fired"], result["failed"]


def _schedule(subject_id: int, **delta) -> None:
    timers_module.schedule(KIND, subject_id, app_clock.now() + timedelta(**delta))
    db.session.commit()


def test_a_timer_fires_once_at_its_due_time(app, bell, clock):
    _schedule(7, minutes=10)
    drain(app)
    assert rings(7) == 0  # not yet due: the job waits in RQ's schedule
    clock.shift(minutes=10, seconds=1)
    drain(app)
    drain(app)
    assert rings(7) == 1
    assert timers_module.pending(KIND, 7) is None  # a fired timer is gone


def test_scheduling_again_moves_the_timer(app, bell, clock):
    _schedule(7, minutes=10)
    _schedule(7, minutes=30)  # the meeting moved
    assert db.session.scalar(select(func.count()).select_from(Timer)) == 1
    clock.shift(minutes=11)
    drain(app)  # the job left at the old time finds it not yet due
    assert rings(7) == 0
    clock.shift(minutes=20)
    drain(app)
    assert rings(7) == 1


def test_a_cancelled_timer_never_fires(app, bell, clock):
    _schedule(7, minutes=1)
    assert timers_module.cancel(KIND, 7) is True
    db.session.commit()
    assert timers_module.cancel(KIND, 7) is False
    clock.shift(minutes=2)
    drain(app)
    assert _swept() == (0, 0)
    assert rings(7) == 0


def test_the_sweep_fires_a_timer_whose_job_was_lost(app, bell, clock, redis_conn):
    _schedule(7, minutes=1)
    redis_conn.flushdb()  # Redis lost the scheduled job
    clock.shift(minutes=2)
    drain(app)
    assert rings(7) == 0
    assert _swept() == (1, 0)
    db.session.commit()
    assert rings(7) == 1
    assert _swept() == (0, 0)


def test_a_failing_handler_keeps_its_timer_and_is_retried_with_backoff(app, bell, clock, redis_conn):
    _schedule(7, minutes=1)
    _schedule(8, minutes=1)
    redis_conn.flushdb()
    clock.shift(minutes=2)
    bell.fail = 1  # the first handler call fails; the sweep goes on with the next timer
    assert _swept() == (1, 1)
    db.session.commit()
    [left] = db.session.scalars(select(Timer)).all()
    assert (left.attempts, left.last_error) == (1, "RuntimeError: the bell is broken")
    assert rings(7) + rings(8) == 1
    assert _swept() == (0, 0)  # backing off
    clock.shift(seconds=timers_module.BACKOFF_SECONDS[0] + 1)
    assert _swept() == (1, 0)
    db.session.commit()
    assert (rings(7), rings(8)) == (1, 1)


def test_a_job_that_fails_puts_the_timer_back(app, bell, clock):
    _schedule(7, minutes=1)
    [timer_id] = db.session.scalars(select(Timer.id)).all()
    clock.shift(minutes=2)
    bell.fail = 1
    with pytest.raises(RuntimeError):
        timers_module.fire(timer_id)
    assert timers_module.pending(KIND, 7) is not None  # rolled back with the handler
    assert timers_module.fire(timer_id) == "rang"
    assert rings(7) == 1


def test_two_workers_firing_one_timer_ring_once(app, bell, clock):
    """The RQ job and the sweep (or two workers) fire the same timer at the same moment."""
    _schedule(7, minutes=1)
    [timer_id] = db.session.scalars(select(Timer.id)).all()
    clock.shift(minutes=2)
    db.session.remove()

    def fire():
        return timers_module.fire(timer_id)

    def sweep():
        fired = timers_module.sweep()["fired"]
        db.session.commit()
        return fired

    answers = race([fire, fire, sweep, sweep], app=app, timeout=20)
    assert rings(7) == 1
    assert sorted(answers, key=str).count("rang") + sum(a for a in answers if isinstance(a, int)) == 1


def test_an_unknown_kind_is_refused_when_scheduled(app):
    with pytest.raises(ValueError, match="unknown timer kind"):
        timers_module.schedule("nobody.knows", 1, app_clock.now())


def test_a_domain_sweeps_its_own_kinds_and_counts_what_its_handlers_did(app, bell, clock, redis_conn, monkeypatch):
    monkeypatch.setitem(app.extensions["timer_kinds"], "probe.idle", TimerKind("probe.idle", lambda _subject: False))
    _schedule(7, minutes=1)
    timers_module.schedule("probe.idle", 8, app_clock.now() + timedelta(minutes=1))
    db.session.commit()
    redis_conn.flushdb()
    clock.shift(minutes=2)
    result = timers_module.sweep(kinds=["probe.idle"])
    assert (result["fired"], result["done"]) == (1, {"probe.idle": 0})  # fired, but its handler found nothing to do
    assert timers_module.pending(KIND, 7) is not None  # another kind: not this sweep's
    assert timers_module.sweep(kinds=[KIND])["done"] == {KIND: 1}


def test_timers_due_in_one_second_share_one_tick(app, bell, clock):
    """A rush schedules many timers for the same moment: one RQ job (a tick per second and queue) fires
    them all, however many transactions scheduled them."""
    due = app_clock.now() + timedelta(minutes=10)
    for subject_id in (1, 2, 3):
        timers_module.schedule(KIND, subject_id, due)
        db.session.commit()
    timers_module.schedule(KIND, 4, due + timedelta(seconds=30))
    db.session.commit()
    assert get_queue("default").scheduled_job_registry.count == 2
    clock.shift(minutes=10, seconds=1)
    drain(app)
    assert [rings(s) for s in (1, 2, 3, 4)] == [1, 1, 1, 0]
    clock.shift(seconds=30)
    drain(app)
    assert rings(4) == 1


def test_a_tick_with_more_due_than_its_batch_runs_again_until_all_fired(app, bell, clock, monkeypatch):
    monkeypatch.setattr(timers_module, "TICK_BATCH", 2)
    due = app_clock.now() + timedelta(minutes=10)
    for subject_id in range(1, 6):
        timers_module.schedule(KIND, subject_id, due)
    db.session.commit()
    clock.shift(minutes=10, seconds=1)
    drain(app)
    assert [rings(s) for s in range(1, 6)] == [1, 1, 1, 1, 1]
    assert db.session.scalar(select(func.count()).select_from(Timer)) == 0


_MADE = text("INSERT INTO audit_events (entity_type, entity_id, action, created_at) "
             "SELECT 'thing', n, 'made', now() FROM generate_series(1, :count) AS n "
             "RETURNING entity_id AS id").columns(id=Integer).cte("made")
_MAKE_AND_SCHEDULE = select(_MADE.c.id).add_cte(timers_module.scheduled_for(_MADE, KIND).cte("timed"))


def test_a_statement_that_writes_its_subjects_schedules_their_timers_and_arm_makes_them_ring(app, bell, clock):
    """``scheduled_for``: the timer of each row the statement wrote, as ``schedule`` writes it; ``arm``:
    its tick. Both ring at the due time."""
    due = app_clock.now() + timedelta(minutes=10)
    made = fetch(_MAKE_AND_SCHEDULE, {"count": 2, **timers_module.schedule_params(due)})
    timers_module.arm(KIND, due)
    db.session.commit()
    assert sorted(r.id for r in made) == [1, 2]
    assert [timers_module.pending(KIND, s) for s in (1, 2)] == [due, due]
    clock.shift(minutes=10, seconds=1)
    drain(app)
    assert [rings(s) for s in (1, 2)] == [1, 1]


def test_arm_refuses_an_unknown_kind(app):
    with pytest.raises(ValueError):
        timers_module.arm("probe.unknown", app_clock.now())


def test_a_process_asks_redis_for_a_seconds_tick_once(app, bell, clock, redis_conn):
    """The second transaction of a second knows the tick is armed without asking Redis: with the claim
    key gone meanwhile, it neither claims nor enqueues again. A process that forgets (the control) does."""
    due = app_clock.now() + timedelta(minutes=10)
    ticks = get_queue("default").scheduled_job_registry
    timers_module.schedule(KIND, 1, due)
    db.session.commit()
    (claim,) = redis_conn.keys("timers:tick:*")
    redis_conn.delete(claim)
    timers_module.schedule(KIND, 2, due)
    db.session.commit()
    assert (ticks.count, redis_conn.exists(claim)) == (1, 0)
    forget_claims()
    timers_module.schedule(KIND, 3, due)
    db.session.commit()
    assert (ticks.count, redis_conn.exists(claim)) == (2, 1)
