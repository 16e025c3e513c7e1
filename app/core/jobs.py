"""Background jobs on RQ: named queues, ``enqueue_after_commit`` and the job wrapper.

* ``enqueue_after_commit(func, *ids, queue=...)`` remembers the job on the current DB session and
  enqueues it only once the transaction commits; a rollback forgets it. If Redis is down at that
  moment the error is logged and the business write stands: outbox sweepers re-enqueue what is
  still pending (docs/architecture.md).
* ``@job`` wraps an RQ entry point: app context, request id from the enqueuing request, one commit
  at the end (rollback on error).
* Timers: ``schedule_after_commit(when, func, *ids)`` uses RQ's scheduler (``enqueue_at``), which
  every ``flask worker`` runs. A timer job re-checks state when it fires; each domain also has a
  periodic sweep that catches a lost timer.
* Periodic jobs (the sweeps) use the same scheduler: ``Periodic`` entries listed in ``create_app``;
  a run first schedules the next one, and workers re-arm any chain that was lost (Redis flushed,
  a worker killed) from their heartbeat, guarded by a Redis key so that many workers arm it once.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from rq import Queue, Retry, get_current_job
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core import clock
from app.core.db import commit_scope, db
from app.core.logging import request_id_var
from app.core.redis import get_redis

log = logging.getLogger(__name__)

QUEUES = ("notifications", "payments", "default")
_PENDING_KEY = "app_pending_jobs"


@dataclass
class PendingJob:
    func: Callable[..., Any]
    args: tuple[Any, ...]
    queue: str = "default"
    options: dict[str, Any] = field(default_factory=dict)


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(
        name,
        connection=get_redis(),
        default_timeout=current_app.config.get("JOB_TIMEOUT", 120),
    )


def enqueue(func: Callable[..., Any], *args: Any, queue: str = "default", _at: datetime | None = None,
            **options: Any):
    """Enqueue now, or at ``_at`` (use ``enqueue_after_commit`` from a transaction)."""
    meta = dict(options.pop("meta", {}) or {})
    rid = request_id_var.get()
    if rid:
        meta.setdefault("request_id", rid)
    options.setdefault("retry", Retry(max=3, interval=[5, 30, 120]))
    q = get_queue(queue)
    if _at is not None:
        return q.enqueue_at(_at, func, *args, meta=meta, **options)
    return q.enqueue(func, *args, meta=meta, **options)


def recruit(func: Callable[..., Any], *args: Any, queue: str, **options: Any) -> bool:
    """Ask an idle worker to join in on a backlog: enqueue ``func`` unless a job already waits on
    ``queue``. At most one such job waits at a time; the worker that takes it recruits the next one
    if the backlog is still there, so as many workers as are free end up helping and no pile of jobs
    is left behind. Best effort: with Redis unreachable the caller simply works alone."""
    try:
        q = get_queue(queue)
        if q.count:
            return False
        enqueue(func, *args, queue=queue, **options)
        return True
    except RedisError:
        log.warning("could not recruit a helper", extra={"job": getattr(func, "__name__", "?"), "queue": queue})
        return False


def schedule_after_commit(when: datetime, func: Callable[..., Any], *args: Any, queue: str = "default",
                          **options: Any) -> None:
    """Run ``func(*args)`` at ``when`` (UTC-aware), once the transaction commits."""
    enqueue_after_commit(func, *args, queue=queue, _at=when, **options)


def schedule_once_after_commit(when: datetime, func: Callable[..., Any], *args: Any, queue: str, claim: str) -> None:
    """Like ``schedule_after_commit``, but one job per ``claim`` however many transactions ask: after
    commit the first claims it in Redis (``SET NX``, kept an hour past ``when``) and enqueues, the others
    find the claim and stop there — a key instead of a job each (the timers' tick: a lunch rush opens
    hundreds of payments due in the same second). The process remembers the claims it made or found
    taken, so the next transactions of that second ask Redis nothing."""
    enqueue_after_commit(func, *args, queue=queue, _at=when, _claim=claim, once=True)


def enqueue_after_commit(func: Callable[..., Any], *args: Any, queue: str = "default", **options: Any) -> None:
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still discards the job
    pending = session.info.setdefault(_PENDING_KEY, [])
    if options.pop("once", False) and any(
        (p.func, p.args, p.queue, p.options.get("_at")) == (func, args, queue, options.get("_at")) for p in pending
    ):
        return  # one "drain the outbox" per transaction is enough, however many rows it wrote
    pending.append(PendingJob(func, args, queue, options))


def _flush_pending(session: Session) -> None:
    pending: list[PendingJob] = session.info.pop(_PENDING_KEY, [])
    for item in pending:
        try:
            options = dict(item.options)
            claim = options.pop("_claim", None)
            if claim is not None and not _claim_first(claim, options["_at"]):
                continue  # claimed by another transaction: its job does the work
            enqueue(item.func, *item.args, queue=item.queue, **options)
        except Exception:  # Redis down: the business write stands, the sweeper catches up
            log.exception("enqueue after commit failed", extra={"job": getattr(item.func, "__name__", "?")})


_CLAIMED: dict[tuple[Any, str], datetime] = {}
"""Claims this process made or found taken, per Redis server and database, with their ``when``: asked
again (the next order of the same second), the answer is known without a round trip."""
_CLAIMS_KEPT = 1024


def _claim_first(key: str, when: datetime) -> bool:
    """Whether this call claimed ``key`` (kept until an hour after ``when``) before anyone else."""
    redis = get_redis()
    memo = (_where(redis), key)
    if memo in _CLAIMED:
        return False
    keep = int((when - clock.now()).total_seconds()) + 3600
    won = bool(redis.set(key, "1", nx=True, ex=max(keep, 60)))
    if len(_CLAIMED) >= _CLAIMS_KEPT:
        now = clock.now()
        for old in [m for m, at in _CLAIMED.items() if at < now] or list(_CLAIMED):
            _CLAIMED.pop(old, None)  # (another thread may have dropped it)
    _CLAIMED[memo] = when
    return won


def _where(redis: Any) -> tuple:
    kwargs = redis.connection_pool.connection_kwargs
    return kwargs.get("host"), kwargs.get("port"), kwargs.get("path"), kwargs.get("db")


def forget_claims() -> None:
    """Forget the claims this process knows of (a test that empties Redis)."""
    _CLAIMED.clear()


def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)


def init_jobs(app: Flask) -> None:
    # The listeners are global to Session, registered once.
    if not event.contains(Session, "after_commit", _flush_pending):
        event.listen(Session, "after_commit", _flush_pending)
        event.listen(Session, "after_soft_rollback", _drop_pending)


def job(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an RQ entry point: run it in the app context, in one transaction, with the request id
    of the request that enqueued it."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not has_app_context():
            raise RuntimeError("jobs run inside the worker's app context (flask worker)")
        current = get_current_job()
        rid = (current.meta or {}).get("request_id") if current is not None else None
        token = request_id_var.set(rid or (current.id if current is not None else None))
        try:
            return _run(func, args, kwargs)
        finally:
            request_id_var.reset(token)

    return wrapper


def _run(func, args, kwargs):
    try:
        with commit_scope():
            return func(*args, **kwargs)
    finally:
        db.session.remove()


# --- periodic jobs ----------------------------------------------------------------------------------

_PERIODIC_KEY = "periodic_jobs"


@dataclass(frozen=True)
class Periodic:
    """A sweep that runs every ``every`` seconds on ``queue``."""

    name: str
    func: Callable[[], Any]
    every: int
    queue: str = "default"


def init_periodic(app: Flask, jobs: list[Periodic]) -> None:
    app.extensions[_PERIODIC_KEY] = {p.name: p for p in jobs}


def _armed_key(name: str) -> str:
    return f"periodic:{name}:armed"


def _schedule_next(p: Periodic) -> None:
    get_redis().set(_armed_key(p.name), "1", ex=p.every * 3)
    get_queue(p.queue).enqueue_in(timedelta(seconds=p.every), run_periodic, p.name, retry=None,
                                  job_id=f"periodic-{p.name.replace('.', '-')}-{uuid.uuid4().hex[:12]}")


def arm_periodic_jobs() -> list[str]:
    """Start every chain that is not running (idempotent; called from worker heartbeats)."""
    armed = []
    for p in current_app.extensions.get(_PERIODIC_KEY, {}).values():
        if get_redis().set(_armed_key(p.name), "1", nx=True, ex=p.every * 3):
            _schedule_next(p)
            armed.append(p.name)
    return armed


@job
def run_periodic(name: str) -> Any:
    """Schedule the next run first (a crash in this one must not break the chain), then sweep."""
    p = current_app.extensions[_PERIODIC_KEY].get(name)
    if p is None:
        log.warning("unknown periodic job, chain ends", extra={"periodic": name})
        return None
    _schedule_next(p)
    return p.func()
