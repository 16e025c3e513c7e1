"""The RQ worker, started by ``flask worker [queues…]``.

A ``SimpleWorker`` (no fork per job: jobs share the process's app context and connection pool)
with RQ's scheduler for ``enqueue_in``/``enqueue_at`` timers, a short TTL so that its heartbeat
shows in ``/api/v1/health/ready``, and the hard time limit ``JOB_TIMEOUT``.

What RQ leaves to chance, made robust to a killed process and to Redis going away:

* **The scheduler is taken over within a lease.** RQ's scheduler runs in a child process holding one
  Redis lock per queue; another worker looks for a free lock only in its maintenance pass (every
  10 minutes), and a lock of a killed scheduler lives 61 s. Here a lock is leased for
  ``SCHEDULER_LOCK_SECONDS`` (renewed every second by a living scheduler), and every worker's
  heartbeat tries to take the locks when its own scheduler is not running (never started, or died
  with a Redis error): a dead holder is replaced within the lease plus one heartbeat.
* **Each heartbeat keeps the worker visible and the sweeps armed:** it registers the worker again if
  Redis lost the registration (a restart, a flush), re-arms any periodic chain that was lost, and
  during a long job a thread keeps beating, so readiness never mistakes a busy worker for a dead one.
* **Redis going away does not end the worker.** RQ's loop quits on a socket timeout (Redis frozen
  longer than the worker's socket timeout) and on any Redis error outside its dequeue; here the
  dequeue waits and retries on every Redis error, the other places log and carry on, and whatever
  still ends RQ's loop starts it again in the same process with backoff (1, 2, 5, 10, 30 s), logging
  each attempt. Only SIGTERM / SIGINT (RQ's warm shutdown) ends ``flask worker``.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
import time
import uuid
from datetime import datetime

from flask import Flask
from redis.exceptions import RedisError
from rq import SimpleWorker, worker_registration
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler

from app.core.jobs import QUEUES, arm_periodic_jobs, get_queue
from app.core.redis import get_redis

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (1, 2, 5, 10, 30)
"""Waits between attempts to get Redis back, or to start RQ's loop again (the last one repeats)."""


def backoff(attempt: int) -> int:
    return BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]


class AppScheduler(RQScheduler):
    """RQ's scheduler with its locks leased for ``lease`` seconds instead of RQ's 61, and a second look
    at the locks it does not hold after one lease instead of two minutes. RQ sets a lock's expiry when
    it takes or renews it (every second); the lease is cut down right after, in one more round trip."""

    def __init__(self, *args, lease: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.lease = lease

    @property
    def should_reacquire_locks(self) -> bool:
        if self._queue_names == self.acquired_locks:
            return False
        if not self.lock_acquisition_time:
            return True
        return (datetime.now() - self.lock_acquisition_time).total_seconds() > self.lease

    def acquire_locks(self, auto_start: bool = False) -> set[str]:
        locks = super().acquire_locks()
        self._cut_leases()
        if locks and auto_start and not self.running:
            self.start()
        return locks

    def heartbeat(self) -> None:
        super().heartbeat()
        self._cut_leases()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def _cut_leases(self) -> None:
        if not self._acquired_locks:
            return
        with self.connection.pipeline() as pipe:
            for name in self._acquired_locks:
                pipe.expire(self.get_locking_key(name), self.lease)
            pipe.execute()


class AppWorker(SimpleWorker):
    def __init__(self, *args, scheduler_lease: int = 30, **kwargs):
        super().__init__(*args, **kwargs)
        self.scheduler_lease = scheduler_lease
        self._upkeep_due = 0.0
        self._redis_attempts = 0

    # --- the scheduler, named after the worker so that readiness can tell who runs it -------------------

    def _start_scheduler(self, burst: bool = False, logging_level: str | None = "INFO",
                         date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
                         log_format: str = DEFAULT_LOGGING_FORMAT) -> None:
        self.scheduler = AppScheduler(
            self.queues, connection=self.connection, lease=self.scheduler_lease, name=self.name,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format, log_format=log_format, serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    # --- heartbeats ---------------------------------------------------------------------------------------

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        super().heartbeat(timeout, pipeline)
        if pipeline is not None or time.monotonic() < self._upkeep_due:
            return  # part of RQ's job bookkeeping, or done a moment ago
        self._upkeep_due = time.monotonic() + min(5, self.dequeue_timeout)
        for step in (self._keep_registered, self._keep_scheduler, arm_periodic_jobs):
            try:
                step()
            except StopRequested:
                raise  # SIGTERM arrived meanwhile: RQ's way out of its loop, not an error to swallow
            except Exception:  # Redis hiccup: the next heartbeat tries again
                log.exception("heartbeat upkeep failed", extra={"step": step.__name__})

    def _keep_registered(self) -> None:
        """Redis restarted or flushed: the worker is not listed any more, though it is running."""
        if self.birth_date is None or self.connection.sismember(self.redis_workers_keys, self.key):
            return
        with self.connection.pipeline() as pipe:
            pipe.hset(self.key, mapping=self.serialize())
            pipe.hset(self.key, "state", self.get_state())
            worker_registration.register(self, pipe)
            pipe.expire(self.key, self.worker_ttl + 60)
            pipe.execute()
        log.warning("worker registration was lost (Redis restarted or flushed): registered again",
                    extra={"worker": self.name})

    def _keep_scheduler(self) -> None:
        """Take the scheduler locks when our own scheduler does not run (a lock whose holder died is
        free after its lease) and start it; a scheduler process that died is started again."""
        scheduler = self.scheduler
        if not isinstance(scheduler, AppScheduler) or scheduler.running:
            return
        if scheduler._process is not None:
            log.warning("the scheduler process ended; taking its locks again",
                        extra={"worker": self.name, "exitcode": scheduler._process.exitcode})
            scheduler._process = None
        locks = scheduler.acquire_locks(auto_start=True)
        if locks:
            log.warning("took over the scheduler", extra={"worker": self.name, "queues": sorted(locks)})

    def execute_job(self, job, queue):
        """RQ beats no heartbeat while a SimpleWorker runs a job: a thread does, so that a long job does
        not make the worker look dead (it stops with the job, which ``JOB_TIMEOUT`` bounds)."""
        done = threading.Event()
        ttl = self.get_heartbeat_ttl(job)

        def beat() -> None:
            while not done.wait(self.dequeue_timeout):
                try:
                    SimpleWorker.heartbeat(self, ttl)
                except RedisError:
                    log.warning("heartbeat during a job failed", extra={"worker": self.name, "job": job.id})

        beating = threading.Thread(target=beat, name="heartbeat", daemon=True)
        beating.start()
        try:
            return super().execute_job(job, queue)
        finally:
            done.set()
            beating.join()

    # --- Redis going away -------------------------------------------------------------------------------

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """RQ retries a ConnectionError here, but a socket timeout (Redis frozen) ends its loop."""
        while True:
            try:
                result = super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            except RedisError as exc:
                self._wait_for_redis(exc)
                continue
            if self._redis_attempts:
                log.warning("Redis is back", extra={"worker": self.name, "attempts": self._redis_attempts})
                self._redis_attempts = 0
            return result

    def _wait_for_redis(self, exc: Exception) -> None:
        delay = backoff(self._redis_attempts)
        self._redis_attempts += 1
        log.error("Redis unavailable, retrying", extra={"worker": self.name, "attempt": self._redis_attempts,
                                                        "retry_in_s": delay, "error": f"{type(exc).__name__}: {exc}"})
        time.sleep(delay)

    def check_for_suspension(self, burst: bool) -> None:
        try:
            super().check_for_suspension(burst)
        except RedisError as exc:  # the dequeue that follows waits for Redis
            log.warning("could not check for suspension", extra={"worker": self.name, "error": type(exc).__name__})

    def run_maintenance_tasks(self) -> None:
        try:
            super().run_maintenance_tasks()
        except RedisError as exc:  # done at the next pass
            log.warning("maintenance skipped", extra={"worker": self.name, "error": type(exc).__name__})

    def set_shutdown_requested_date(self) -> None:
        try:  # in a signal handler: an error here would land in the middle of a job
            super().set_shutdown_requested_date()
        except RedisError:
            pass

    def _pubsub_exception_handler(self, exc, pubsub, pubsub_thread) -> None:
        """RQ's listener for commands retries a ConnectionError but dies of a socket timeout."""
        if isinstance(exc, RedisError):
            time.sleep(2.0)
            return
        super()._pubsub_exception_handler(exc, pubsub, pubsub_thread)

    def register_birth(self) -> None:
        """Starting again in the same process: our own earlier registration is not another worker's."""
        pid = self.connection.hget(self.key, "pid")
        if pid is not None and int(pid) == os.getpid():
            self.connection.delete(self.key)
        super().register_birth()

    def teardown(self) -> None:
        """RQ's, but a Redis error while unregistering does not leave the command listener running."""
        if self.scheduler:
            self.stop_scheduler()
        for step in (self.register_death, self.unsubscribe):
            try:
                step()
            except RedisError as exc:
                log.warning("could not unregister the worker", extra={"worker": self.name, "error": type(exc).__name__})


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
            scheduler_lease=app.config["SCHEDULER_LOCK_SECONDS"],
        )


def _raise_stop(signum, frame):
    raise StopRequested()


def run_worker(app: Flask, queues: list[str] | None = None, *, burst: bool = False, name: str | None = None,
               with_scheduler: bool = True) -> bool:
    """Work until SIGTERM / SIGINT (or, with ``burst``, until the queues are empty). Whatever else ends
    RQ's loop — Redis unreachable at start, an error RQ gives up on — starts it again after a wait."""
    if burst:
        worker = build_worker(app, queues, name)
        with app.app_context():
            return worker.work(burst=True, with_scheduler=with_scheduler, logging_level=app.config["LOG_LEVEL"])
    if with_scheduler:
        _install_fork_hook()
    name = name or uuid.uuid4().hex
    signal.signal(signal.SIGTERM, _raise_stop)  # until RQ installs its own (and between its loops)
    signal.signal(signal.SIGINT, _raise_stop)
    worked, attempt = False, 0
    while True:
        worker = None
        try:
            worker = build_worker(app, queues, name)
            with app.app_context():
                log.info("worker starting", extra={"queues": worker.queue_names(), "worker": worker.name})
                arm_periodic_jobs()
                worked = worker.work(with_scheduler=with_scheduler, logging_level=app.config["LOG_LEVEL"]) or worked
            if worker._shutdown_requested_date is not None:  # RQ's warm shutdown: SIGTERM / SIGINT
                return worked
            reason = "RQ's loop ended"
        except StopRequested:
            return worked
        except (RedisError, ValueError) as exc:  # ValueError: RQ's "an active worker named … exists"
            reason = f"{type(exc).__name__}: {exc}"
        delay = backoff(attempt)
        attempt += 1
        log.error("worker stopped without a stop request; starting again",
                  extra={"worker": name, "attempt": attempt, "retry_in_s": delay, "reason": reason})
        try:
            time.sleep(delay)
        except StopRequested:
            return worked
