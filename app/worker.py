"""The RQ worker, started by ``flask worker [queues…]``.

A ``SimpleWorker`` (no fork per job: jobs share the process's app context and connection pool)
with RQ's scheduler for ``enqueue_in``/``enqueue_at`` and periodic jobs, a short TTL so that its
heartbeat shows in ``/api/v1/health/ready``, and the hard time limit ``JOB_TIMEOUT``.
"""

from __future__ import annotations

import logging

from flask import Flask
from rq import SimpleWorker

from app.core.jobs import QUEUES, get_queue
from app.core.redis import get_redis

log = logging.getLogger(__name__)


def build_worker(app: Flask, queues: list[str] | None = None, name: str | None = None) -> SimpleWorker:
    with app.app_context():
        return SimpleWorker(
            [get_queue(q) for q in (queues or list(QUEUES))],
            connection=get_redis(),
            worker_ttl=app.config["WORKER_TTL"],
            name=name,
        )


def run_worker(app: Flask, queues: list[str] | None = None, *, burst: bool = False, name: str | None = None) -> bool:
    worker = build_worker(app, queues, name)
    with app.app_context():
        log.info("worker starting", extra={"queues": worker.queue_names(), "worker": worker.name})
        return worker.work(burst=burst, with_scheduler=True, logging_level=app.config["LOG_LEVEL"])
