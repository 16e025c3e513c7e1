"""Notification jobs: drain the outbox, and the periodic sweep.

``drain`` commits more than once on purpose: the claim (with its lease) must be visible to other
workers and to the sweeper *before* the slow calls to WeChat, and each outcome as soon as its call
returns, so that a worker killed mid-batch leaves only the messages in flight to be sent again.
The calls to WeChat of one batch run concurrently on a few threads (they wait on the network, and
touch no database); outcomes are recorded on the job's own thread as the calls complete, those that
completed together in one statement and one commit. A drain that finds a full batch recruits
one more drain (``core.jobs.recruit``), so a backlog is shared by every free worker. A drain
works for a bounded time and then hands over to a fresh job, so one long backlog does not hog a
worker.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

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

    def push(claimed, who):
        with app.app_context():
            return service.push(claimed, who)

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
            calls = {pool.submit(push, claimed, who.get(claimed.user_id)): claimed for claimed in batch.push}
            pending = set(calls)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                results = [(calls[call], call.result()) for call in done]
                outcomes.update(status or "lost_lease" for status in service.finish_many(results))
                db.session.commit()
    enqueue(drain, queue="notifications", retry=None, result_ttl=0)  # more to do: a fresh job continues
    return dict(outcomes)


def sweep() -> dict[str, int]:
    """Run by ``run_periodic`` every NOTIFY_SWEEP_SECONDS (see create_app)."""
    return service.sweep()
