"""Timers: something must happen at a due time, once, even when a worker dies or Redis loses a job.

One mechanism for every domain (a meeting's reminder, a repair's deadline, an unpaid order's expiry,
a parcel's reminder):

* **A due time** — ``schedule(kind, subject_id, due_at)`` writes a row in the caller's transaction
  (one pending timer per kind and subject: scheduling again moves it) and, after commit, makes sure RQ's
  scheduler runs ``fire_due`` for the kind's queue in the second ``due_at`` falls in: one tick fires every
  timer of that queue then due, however many were scheduled for it (one Redis key per second and queue
  says the tick is armed). ``cancel(kind, subject_id)`` drops it. ``fire(timer_id)`` fires one timer
  (jobs armed before ticks existed).
* **A claim so it fires once** — ``fire`` deletes the row (``DELETE … WHERE id = :id AND due_at <=
  now RETURNING``) and runs the kind's handler in the same transaction. A second firing, by a
  retried job, another worker or the sweep, finds nothing. If the handler fails, the transaction
  rolls back, the row is back, and a later attempt fires it.
* **A handler that re-checks state** — it gets the subject's id and decides from the subject as it
  is *now* (the meeting was cancelled, the order was paid): a stale timer does nothing.
* **One sweep** (``timers.sweep``, periodic) fires every timer that is due and was not fired (the job
  was lost with Redis, the scheduler was down), skipping rows another worker is firing; a handler
  that keeps failing is retried with backoff and shows in the log with its error.

Kinds are registered explicitly in ``create_app`` (``init_timers``), like the periodic jobs; a
domain's handlers live in its ``jobs.py``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
    CTE,
    BigInteger,
    Index,
    Insert,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    delete,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.db import Base, IdMixin, bound_insert, db, fetch, prebuilt
from app.core.jobs import enqueue_after_commit, job, schedule_once_after_commit

log = logging.getLogger(__name__)

FIRE_JOB = "app.core.timers.fire"
TICK_JOB = "app.core.timers.fire_due"
TOLERANCE = timedelta(seconds=5)
"""A timer job may run this much before its due time (clocks of two machines differ a little)."""
BACKOFF_SECONDS = (30, 120, 600, 1800)
"""Wait before the sweep tries a failing timer again (the last value repeats)."""
_KINDS_KEY = "timer_kinds"


class Timer(IdMixin, Base):
    """A pending timer. Fired timers are gone: what they did is in the subject's own history."""

    __tablename__ = "timers"
    __table_args__ = (UniqueConstraint("kind", "subject_id"), Index("ix_timers_due_at", "due_at"))

    kind: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


@dataclass(frozen=True)
class TimerKind:
    """``name`` (``"<domain>.<what>"``), the handler called with the subject's id, and the RQ queue."""

    name: str
    handler: Callable[[int], Any]
    queue: str = "default"


def init_timers(app: Flask, kinds: list[TimerKind]) -> None:
    app.extensions[_KINDS_KEY] = {k.name: k for k in kinds}


def _kinds() -> dict[str, TimerKind]:
    return current_app.extensions.get(_KINDS_KEY, {})


def _kind(name: str) -> TimerKind:
    kind = _kinds().get(name)
    if kind is None:
        raise ValueError(f"unknown timer kind {name!r}: register it in create_app (init_timers)")
    return kind


_NEW_TIMER = bound_insert(Timer, ("kind", "subject_id", "due_at", "attempts", "created_at"))


def _or_moved(new: Insert) -> Insert:
    """A pending timer of the same kind and subject is moved to the new due time (and its failures forgotten)."""
    return new.on_conflict_do_update(index_elements=["kind", "subject_id"],
                                     set_={"due_at": new.excluded.due_at, "attempts": 0, "last_error": None})


_SCHEDULE = prebuilt(_or_moved(_NEW_TIMER))
"""Built once, run by ``fetch`` (payments schedule one per order at the lunch rush)."""


def schedule(kind: str, subject_id: int, due_at: datetime) -> None:
    """Fire ``kind`` for ``subject_id`` at ``due_at`` (UTC-aware), once the transaction commits.
    Scheduling a pending timer again moves it; a job left at the old time finds it not yet due."""
    spec = _kind(kind)
    fetch(_SCHEDULE, {"kind": kind, "subject_id": subject_id, "due_at": due_at, "attempts": 0,
                      "created_at": clock.now()}, flush=False)
    _arm(spec, due_at)


def scheduled_for(rows: CTE, kind: str) -> Insert:
    """The upsert ``schedule`` makes, for each row of ``rows`` (a CTE with an ``id`` column, such as an
    ``INSERT … RETURNING id``) as the subject: for a statement built once that writes an entity and its
    timer together, one round trip instead of two. Its parameters come from ``schedule_params``; when it
    wrote a timer, ``arm`` it."""
    return _or_moved(insert(Timer).from_select(
        ["kind", "subject_id", "due_at", "attempts", "created_at"],
        select(literal(kind, String), rows.c.id, bindparam("timer_due_at", type_=Timer.__table__.c.due_at.type),
               literal(0, Integer), bindparam("timer_created_at", type_=Timer.__table__.c.created_at.type))
        .select_from(rows)))


def schedule_params(due_at: datetime) -> dict[str, Any]:
    """The parameters of a ``scheduled_for`` upsert."""
    return {"timer_due_at": due_at, "timer_created_at": clock.now()}


def arm(kind: str, due_at: datetime) -> None:
    """After a ``scheduled_for`` upsert wrote a timer of ``kind`` due at ``due_at``: its tick, as
    ``schedule`` arms it."""
    _arm(_kind(kind), due_at)


def _arm(spec: TimerKind, due_at: datetime) -> None:
    second = math.floor(due_at.timestamp())  # as RQ's schedule counts: whole seconds
    schedule_once_after_commit(datetime.fromtimestamp(second, UTC), TICK_JOB, spec.queue, second,
                               queue=spec.queue, claim=f"timers:tick:{spec.queue}:{second}")


def cancel(kind: str, subject_id: int) -> bool:
    """Drop the pending timer, if any; returns whether there was one."""
    return bool(db.session.execute(delete(Timer).where(Timer.kind == kind, Timer.subject_id == subject_id)).rowcount)


def pending(kind: str, subject_id: int) -> datetime | None:
    """When the pending timer of ``kind`` for ``subject_id`` is due, or None."""
    return db.session.scalar(select(Timer.due_at).where(Timer.kind == kind, Timer.subject_id == subject_id))


def _claim(timer_id: int, now: datetime) -> tuple[str, int] | None:
    row = db.session.execute(
        delete(Timer).where(Timer.id == timer_id, Timer.due_at <= now + TOLERANCE)
        .returning(Timer.kind, Timer.subject_id)
    ).first()
    return (row.kind, row.subject_id) if row is not None else None


@job
def fire(timer_id: int) -> Any:
    """RQ entry point at a timer's due time: claim it and run its handler, in one transaction."""
    claimed = _claim(timer_id, clock.now())
    if claimed is None:
        return None  # fired already, moved later, or cancelled
    kind, subject_id = claimed
    return _kind(kind).handler(subject_id)


TICK_BATCH = 500
"""Timers one tick fires in its transaction; a full batch hands the rest to the same tick again."""


@job
def fire_due(queue: str, second: int) -> dict[str, Any]:
    """RQ entry point of a tick (see ``schedule``): fire the timers of ``queue``'s kinds due within its
    ``second`` (a Unix time) or before — a timer is never fired more than ``TOLERANCE`` early. More than
    ``TICK_BATCH`` due: the tick runs again after this one commits."""
    until = min(datetime.fromtimestamp(second + 1, UTC), clock.now() + TOLERANCE)
    result = sweep(kinds=[k.name for k in _kinds().values() if k.queue == queue], until=until, limit=TICK_BATCH)
    if result["fired"] + result["failed"] >= TICK_BATCH:
        enqueue_after_commit(TICK_JOB, queue, second, queue=queue)
    return result


def sweep(*, kinds: Iterable[str] | None = None, limit: int = 500, until: datetime | None = None) -> dict[str, Any]:
    """Fire what is due (by ``until``, default now) and was not fired: every registered kind (the periodic
    ``timers.sweep``), or only ``kinds`` (a domain's own sweep, a tick). Each timer in its own savepoint: a
    failing handler is put back with a later due time and does not stop the others. Returns ``fired``,
    ``failed`` and, per kind, how many handlers reported doing something (a truthy result) in ``done``."""
    now = clock.now()
    registered = _kinds()
    names = list(registered) if kinds is None else [k for k in kinds if k in registered]
    rows = db.session.execute(
        select(Timer.id, Timer.kind, Timer.subject_id, Timer.attempts)
        .where(Timer.due_at <= (until or now), Timer.kind.in_(names))
        .order_by(Timer.due_at).limit(limit).with_for_update(skip_locked=True)
    ).all()
    result: dict[str, Any] = {"fired": 0, "failed": 0, "done": dict.fromkeys(names, 0)}
    for row in rows:
        try:
            with db.session.begin_nested():
                if _claim(row.id, now) is None:
                    continue
                outcome = registered[row.kind].handler(row.subject_id)
            result["fired"] += 1
            result["done"][row.kind] += bool(outcome)
        except Exception as exc:  # the savepoint rolled back: the timer is still there
            result["failed"] += 1
            log.exception("timer handler failed", extra={"timer": row.id, "kind": row.kind, "subject": row.subject_id})
            delay = BACKOFF_SECONDS[min(row.attempts, len(BACKOFF_SECONDS) - 1)]
            db.session.execute(update(Timer).where(Timer.id == row.id).values(
                attempts=Timer.attempts + 1, due_at=now + timedelta(seconds=delay),
                last_error=f"{type(exc).__name__}: {exc}"[:300]))
    return result
