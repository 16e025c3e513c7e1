"""The RQ worker, started by ``flask worker [queues…]``.

A ``SimpleWorker`` (no fork per job: jobs share the process's app context and connection pool)
with RQ's scheduler for ``enqueue_in``/``enqueue_at`` timers, a short TTL so that its heartbeat
shows in ``/api/v1/health/ready``, and the hard time limit ``JOB_TIMEOUT``. Each heartbeat also
re-arms any periodic sweep whose chain was lost.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal

from flask import Flask
from rq import SimpleWorker
from rq.exceptions import StopRequested

from app.core.jobs import QUEUES, arm_periodic_jobs, get_queue
from app.core.redis import get_redis

log = logging.getLogger(__name__)


class AppWorker(SimpleWorker):
    def heartbeat(self, *args, **kwargs):
        super().heartbeat(*args, **kwargs)
        try:
            arm_periodic_jobs()
        except StopRequested:
            raise  # SIGTERM arrived meanwhile: RQ's way out of its loop, not an error to swallow
        except Exception:  # Redis hiccup: the next heartbeat tries again
            log.exception("could not arm periodic jobs")


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In a process the worker forks (RQ's scheduler runs in one): end when the worker ends, even by
    SIGKILL — an orphaned scheduler would go on moving timers with nobody to run them."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_fork_hook_installed = False


def _install_fork_hook() -> None:
    global _fork_hook_installed
    if not _fork_hook_installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_die_with_parent)
        _fork_hook_installed = True


def build_worker(app: Flask, queues: list[str] | None = None, name: str | None = None) -> AppWorker:
    with app.app_context():
        return AppWorker(
            [get_queue(q) for q in (queues or list(QUEUES))],
            connection=get_redis(),
            worker_ttl=app.config["WORKER_TTL"],
            name=name,
        )


def run_worker(app: Flask, queues: list[str] | None = None, *, burst: bool = False, name: str | None = None,
               with_scheduler: bool = True) -> bool:
    worker = build_worker(app, queues, name)
    if with_scheduler and not burst:
        _install_fork_hook()
    with app.app_context():
        log.info("worker starting", extra={"queues": worker.queue_names(), "worker": worker.name})
        if not burst:
            arm_periodic_jobs()
        return worker.work(burst=burst, with_scheduler=with_scheduler, logging_level=app.config["LOG_LEVEL"])
