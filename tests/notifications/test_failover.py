"""Real ``flask worker`` processes against a worker killed with SIGKILL, Redis losing everything, and
Redis frozen or restarted under them: a due timer and the periodic sweeps go on within a lease,
workers reconnect instead of quitting, and readiness tells what is running.

What is watched is what a user or an operator sees: a push that only the notifications sweep can find
(its drain job was lost) reaching WeChat, a job scheduled for a due time (``enqueue_at``) having run,
and ``/api/v1/health/ready``. The settings are shortened so that each test takes seconds — the
mechanisms scale with them: a scheduler lock lease of 5 s (``SCHEDULER_LOCK_SECONDS``, 30 by default),
5 s between idle heartbeats (``WORKER_TTL`` 20; 15 s by default) and a sweep every 3 s.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import timedelta

import psutil
import pytest
from redis import Redis
from rq import Worker

from app.core import audit, clock
from app.core.db import db
from app.core.jobs import enqueue
from app.embedded import EmbeddedRedis
from app.notifications import service
from app.notifications.service import NOTICE
from tests.conftest import probe_app
from tests.core import jobs_probe
from tests.notifications.conftest import NOTICE_TEMPLATE_ID

pytestmark = pytest.mark.slow

FAST = {"WORKER_TTL": 20, "SCHEDULER_LOCK_SECONDS": 5, "NOTIFY_SWEEP_SECONDS": 3}
QUEUE_NAMES = ("notifications", "payments", "default")


def eventually(what: str, check: Callable[[], object], seconds: float) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {seconds:.0f} s")


def _lock_holders(conn: Redis) -> set[bytes | None]:
    return {conn.get(f"rq:scheduler-lock:{q}") for q in QUEUE_NAMES}


def _idle(conn: Redis, proc) -> bool:
    return any(w.pid == proc.pid and w.get_state() == "idle" for w in Worker.all(connection=conn))


def _ran(subject_id: int) -> bool:
    db.session.rollback()
    return any(e.action == "ran" for e in audit.history("job_probe", subject_id))


def _strand_a_push(monkeypatch, teacher_id: int, title: str) -> None:
    """A pending push whose drain job was lost (as if Redis was down at commit): only the sweep finds it."""
    with monkeypatch.context() as m:
        m.setattr(service, "request_drain", lambda due, now: None)
        service.notify(user_id=teacher_id, event=NOTICE.event, title=title, body="明天停水",
                       idempotency_key=title)
        db.session.commit()


def _delivered(sim, title: str) -> bool:
    return any(m["data"]["thing1"]["value"] == title for m in sim.subscribe_messages())


def _timer(subject_id: int, seconds: float = 1) -> None:
    """A job due in ``seconds``: it runs only if some scheduler moves it to its queue."""
    enqueue(jobs_probe.record_event, subject_id, _at=clock.now() + timedelta(seconds=seconds), retry=None)


@pytest.fixture
def staged(app, monkeypatch, consent):
    monkeypatch.setitem(app.config, "QUIET_HOURS", "")
    monkeypatch.setitem(app.config, "NOTIFY_SWEEP_SECONDS", FAST["NOTIFY_SWEEP_SECONDS"])
    consent(5, NOTICE_TEMPLATE_ID)


def test_the_scheduler_of_a_killed_worker_is_taken_over_within_the_lease(
        staged, app, client, redis_conn, sim, teacher_id, monkeypatch, worker_process):
    first = worker_process(**FAST)
    eventually("the first worker holds the scheduler", lambda: None not in _lock_holders(redis_conn), 60)
    second = worker_process(**FAST)
    eventually("the second worker listens", lambda: _idle(redis_conn, second), 60)

    # kill -9 of the holder and of its scheduler process: the locks stay held by the dead
    scheduler_processes = psutil.Process(first.pid).children()
    assert scheduler_processes, "the first worker runs RQ's scheduler in a child process"
    for proc in scheduler_processes:
        proc.kill()
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert None not in _lock_holders(redis_conn)

    _timer(41)
    _strand_a_push(monkeypatch, teacher_id, "停水通知")
    # lease 5 s + a heartbeat (5 s) + the sweep's period and grace (3 + 3 s), with room for a busy machine
    eventually("the due timer ran", lambda: _ran(41), 45)
    eventually("the sweep found the stranded push", lambda: _delivered(sim, "停水通知"), 45)

    # readiness counts the living worker only, and says who runs the scheduler
    monkeypatch.setitem(app.config, "WORKER_HEARTBEAT_MAX_AGE", 12)
    answer = eventually("readiness forgets the dead worker", lambda: (
        (r := client.get("/api/v1/health/ready")).status_code == 200
        and r.json["checks"]["worker"]["detail"] == "1 个后台任务进程在线，1 个负责定时调度" and r), 45)
    assert answer.json["status"] == "ok"


def test_workers_carry_on_after_redis_lost_everything(
        staged, app, client, redis_conn, sim, teacher_id, monkeypatch, worker_process):
    worker = worker_process(**FAST)
    eventually("the worker listens", lambda: _idle(redis_conn, worker), 60)
    eventually("the worker holds the scheduler", lambda: None not in _lock_holders(redis_conn), 60)

    redis_conn.flushdb()  # Redis restarted empty: registrations, locks, chains and timers are gone

    _timer(42)
    _strand_a_push(monkeypatch, teacher_id, "停电通知")
    eventually("the due timer ran", lambda: _ran(42), 45)
    eventually("the periodic sweep runs again", lambda: _delivered(sim, "停电通知"), 45)
    answer = eventually("readiness sees the worker again", lambda: (
        (r := client.get("/api/v1/health/ready")).status_code == 200 and r), 45)
    assert answer.json["checks"]["worker"]["detail"] == "1 个后台任务进程在线，1 个负责定时调度"
    assert worker.poll() is None


@pytest.mark.parametrize("outage", ["frozen", "restarted"])
def test_a_worker_reconnects_when_redis_freezes_or_restarts(
        outage, app, service_urls, tmp_path, worker_process):
    """Frozen for longer than the worker's socket timeout (15 s with these settings), or killed and
    started again empty: the worker waits and reconnects (logging each attempt) instead of exiting,
    and its scheduler comes back with it."""
    redis = EmbeddedRedis(tmp_path / "redis")
    url = redis.start()
    try:
        own = probe_app(service_urls, tmp_path, REDIS_URL=url)
        conn = Redis.from_url(url)
        worker = worker_process(REDIS_URL=url, **FAST)
        eventually("the worker listens", lambda: _idle(conn, worker), 60)
        if outage == "frozen":
            redis.proc.send_signal(signal.SIGSTOP)
            time.sleep(20)
            redis.proc.send_signal(signal.SIGCONT)
        else:
            redis.proc.kill()
            redis.proc.wait(10)
            (tmp_path / "redis" / "dump.rdb").unlink(missing_ok=True)
            time.sleep(3)
            redis.start()
        with own.app_context():
            enqueue(jobs_probe.record_event, 43, retry=None)
            _timer(44, seconds=2)
        eventually("a job runs after the outage", lambda: _ran(43), 60)
        eventually("a timer fires after the outage", lambda: _ran(44), 60)
        assert worker.poll() is None, f"the worker exited with {worker.returncode}"
        assert eventually("the worker is registered", lambda: _idle(conn, worker), 60)
    finally:
        if redis.proc is not None:
            redis.proc.send_signal(signal.SIGCONT)
        redis.stop()
