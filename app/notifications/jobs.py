"""Notification jobs: drain the outbox, and the periodic sweep.

``drain`` commits more than once on purpose: the claim (with its lease) must be visible to other
workers and to the sweeper *before* the slow calls to WeChat, and each outcome as soon as its call
returns. The calls to WeChat of one batch run concurrently on a few threads (they wait on the
network); each thread records the outcome of its call in a transaction of its own (its own app
context, session and connection) before it takes the next message. So a message WeChat accepted
is unrecorded only while its thread is committing, and a worker killed at any moment leaves at most
``PUSH_THREADS`` messages (those in flight) to be sent again: pushes are at-least-once, and the
window is one call per thread. A slow database holds the threads back instead of letting accepted
sends pile up unrecorded. A drain that finds a full batch recruits one more drain
(``core.jobs.recruit``), so a backlog is shared by every free worker. A drain works for a bounded
time and then hands over to a fresh job, so one long backlog does not hog a worker.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed

from flask import current_app

from app.core.db import db
from app.core.jobs import enqueue, job, recruit
from app.notifications import service

TIME_BUDGET_SECONDS = 20.0
PUSH_THREADS = 8


@job
def drain() -> dict[str, int]:
    started = time.monotonic()
    outcomes: Counter = Counter()
    recruited = False
    app = current_app._get_current_object()

    def push_and_record(claimed, who) -> str | None:
        """One message on a push thread: send it, then commit its outcome before the next one."""
        with app.app_context():  # a session of its own (rolled back and closed when the context ends)
            status = service.finish(claimed, service.push(claimed, who))
            db.session.commit()
            return status

    with ThreadPoolExecutor(max_workers=PUSH_THREADS, thread_name_prefix="push") as pool:
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
            calls = [pool.submit(push_and_record, claimed, who.get(claimed.user_id)) for claimed in batch.push]
            outcomes.update(call.result() or "lost_lease" for call in as_completed(calls))
    enqueue(drain, queue="notifications", retry=None, result_ttl=0)  # more to do: a fresh job continues
    return dict(outcomes)


def sweep() -> dict[str, int]:
    """Run by ``run_periodic`` every NOTIFY_SWEEP_SECONDS (see create_app)."""
    return service.sweep()
