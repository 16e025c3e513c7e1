"""Background jobs on RQ: named queues, ``enqueue_after_commit`` and the job wrapper.

* ``enqueue_after_commit(func, *ids, queue=...)`` remembers the job on the current DB session and
  enqueues it only once the transaction commits; a rollback forgets it. If Redis is down at that
  moment the error is logged and the business write stands: outbox sweepers re-enqueue what is
  still pending (DESIGN.md §7).
* ``@job`` wraps an RQ entry point: app context, request id from the enqueuing request, one commit
  at the end (rollback on error).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_app_context
from rq import Queue, Retry, get_current_job
from sqlalchemy import event
from sqlalchemy.orm import Session

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


def enqueue(func: Callable[..., Any], *args: Any, queue: str = "default", **options: Any):
    """Enqueue now (use ``enqueue_after_commit`` from a transaction)."""
    meta = dict(options.pop("meta", {}) or {})
    rid = request_id_var.get()
    if rid:
        meta.setdefault("request_id", rid)
    options.setdefault("retry", Retry(max=3, interval=[5, 30, 120]))
    return get_queue(queue).enqueue(func, *args, meta=meta, **options)


def enqueue_after_commit(func: Callable[..., Any], *args: Any, queue: str = "default", **options: Any) -> None:
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still discards the job
    pending = session.info.setdefault(_PENDING_KEY, [])
    pending.append(PendingJob(func, args, queue, options))


def _flush_pending(session: Session) -> None:
    pending: list[PendingJob] = session.info.pop(_PENDING_KEY, [])
    for item in pending:
        try:
            enqueue(item.func, *item.args, queue=item.queue, **item.options)
        except Exception:  # Redis down: the business write stands, the sweeper catches up
            log.exception("enqueue after commit failed", extra={"job": getattr(item.func, "__name__", "?")})


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
