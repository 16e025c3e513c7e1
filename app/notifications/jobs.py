"""Notification jobs: drain the outbox, and the periodic sweep.

``drain`` commits more than once on purpose: the claim (with its lease) must be visible to other
workers and to the sweeper *before* the slow calls to WeChat, and each outcome as soon as its call
returns. The calls to WeChat of one batch run concurrently on a few threads (they wait on the
network, and touch no database). A thread hands its call's outcome to the job's own thread and waits
until it is committed before it takes the next message; the job's thread records the outcomes that
are waiting in one statement and one commit (a group commit: as many as came in during the last
one). So a message WeChat accepted is unrecorded only while its thread waits for that commit, and a
worker killed at any moment leaves at most ``PUSH_THREADS`` messages (one per thread: in flight, or
waiting for its commit) to be sent again: pushes are at-least-once, the window one call per thread.
A slow database holds the threads back instead of letting accepted sends pile up unrecorded. A drain
that finds a full batch recruits one more drain (``core.jobs.recruit``), so a backlog is shared by
every free worker. A drain works for a bounded time and then hands over to a fresh job, so one long
backlog does not hog a worker.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from flask import current_app

from app.core.db import db
from app.core.jobs import enqueue, job, recruit
from app.notifications import service

TIME_BUDGET_SECONDS = 20.0
PUSH_THREADS = 10


@dataclass(eq=False)
class _Waiting:
    claimed: service.Claimed
    outcome: service.Outcome | None
    error: BaseException | None = None
    status: str | None = None
    committed: threading.Event = field(default_factory=threading.Event)


class _GroupCommit:
    """Outcomes handed over by the push threads, each of which waits for its outcome's commit."""

    def __init__(self) -> None:
        self._waiting: queue.SimpleQueue[_Waiting] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._failed: BaseException | None = None

    def hand_over(self, claimed: service.Claimed, outcome: service.Outcome | None,
                  error: BaseException | None = None) -> str | None:
        """On a push thread: the outcome (or the error of the call), then wait until it is recorded."""
        item = _Waiting(claimed, outcome, error)
        with self._lock:
            if self._failed is not None:
                raise RuntimeError("the drain stopped recording outcomes") from self._failed
            self._waiting.put(item)
        item.committed.wait()
        if item.error is not None:
            raise item.error
        return item.status

    def commit_waiting(self) -> list[str | None]:
        """On the job's thread: record what is waiting (at least one) in one statement and one commit.
        A call that raised is raised here, once the outcomes that came with it are recorded."""
        items: list[_Waiting] = []
        try:
            items.append(self._waiting.get())
            while not self._waiting.empty():
                items.append(self._waiting.get())
            done = [i for i in items if i.error is None]
            statuses = service.finish_many([(i.claimed, i.outcome) for i in done]) if done else []
            db.session.commit()
        except BaseException as exc:
            self.abandon(exc, items)
            raise
        for item, status in zip(done, statuses, strict=True):
            item.status = status
            item.committed.set()
        failed = [i for i in items if i.error is not None]
        if failed:
            self.abandon(failed[0].error, failed)
            raise failed[0].error
        return statuses

    def abandon(self, exc: BaseException, items: list[_Waiting] | None = None) -> None:
        """Nothing more is recorded (an error, the job's time limit): release every waiting thread and
        refuse new outcomes, whose messages the sweep sends again once their leases lapse."""
        items = list(items or [])
        with self._lock:
            self._failed = exc
            while not self._waiting.empty():
                items.append(self._waiting.get())
        for item in items:
            item.error = item.error or exc
            item.committed.set()


@job
def drain() -> dict[str, int]:
    started = time.monotonic()
    outcomes: Counter = Counter()
    recruited = False
    app = current_app._get_current_object()
    group = _GroupCommit()

    def push(claimed, who) -> str | None:
        try:
            with app.app_context():
                outcome = service.push(claimed, who)
        except Exception as exc:
            return group.hand_over(claimed, None, exc)
        return group.hand_over(claimed, outcome)

    with ThreadPoolExecutor(max_workers=PUSH_THREADS, thread_name_prefix="push") as pool:
        try:
            while time.monotonic() - started < TIME_BUDGET_SECONDS:
                batch = service.claim_batch()
                who = service.contacts_for(batch)
                db.session.commit()
                if not batch.size:
                    return dict(outcomes)
                if batch.skipped:
                    outcomes["skipped"] += batch.skipped
                if not recruited and batch.size >= service.BATCH_SIZE:  # a backlog: free workers help
                    recruited = recruit(drain, queue="notifications", retry=None, result_ttl=0)
                for claimed in batch.push:
                    pool.submit(push, claimed, who.get(claimed.user_id))
                recorded = 0
                while recorded < len(batch.push):
                    statuses = group.commit_waiting()
                    recorded += len(statuses)
                    outcomes.update(status or "lost_lease" for status in statuses)
        except BaseException as exc:  # JOB_TIMEOUT included: no push thread may be left waiting
            group.abandon(exc)
            raise
    enqueue(drain, queue="notifications", retry=None, result_ttl=0)  # more to do: a fresh job continues
    return dict(outcomes)


def sweep() -> dict[str, int]:
    """Run by ``run_periodic`` every NOTIFY_SWEEP_SECONDS (see create_app)."""
    return service.sweep()
