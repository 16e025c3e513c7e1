"""Readiness checks: PostgreSQL, Redis, the heartbeat of at least one RQ worker and its scheduler."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import current_app
from rq import Worker
from rq.scheduler import RQScheduler

from app.core import clock
from app.core.db import DatabaseTimeout, ping
from app.core.redis import get_redis

log = logging.getLogger(__name__)


@dataclass
class Check:
    name: str
    ok: bool
    latency_ms: float | None = None
    detail: str = ""


def _timed(name: str, fn) -> Check:
    started = time.perf_counter()
    try:
        detail = fn() or ""
        return Check(name, True, round((time.perf_counter() - started) * 1000, 1), detail)
    except Exception as exc:  # every failure is reported per dependency, never raised
        log.warning("readiness check failed", extra={"check": name, "error": type(exc).__name__})
        return Check(name, False, None, _describe(name, exc))


def _describe(name: str, exc: Exception) -> str:
    if isinstance(exc, _NoWorker):
        return str(exc)
    if isinstance(exc, DatabaseTimeout):
        return f"数据库无响应（{DATABASE_DEADLINE_SECONDS:g} 秒内没有回答）"
    return {"database": "数据库无法连接", "redis": "Redis 无法连接", "worker": "无法读取后台任务进程状态"}[name]


class _NoWorker(Exception):
    pass


DATABASE_DEADLINE_SECONDS = 2.0
"""Readiness waits this long for PostgreSQL's answer (a new connection: ``DB_CONNECT_TIMEOUT``)."""


def _check_database() -> str:
    ping(DATABASE_DEADLINE_SECONDS)
    return ""


def _check_redis() -> str:
    get_redis().ping()
    return ""


def _check_worker() -> str:
    """Workers whose heartbeat is fresh (a killed one keeps its Redis key for a while: it does not
    count once its heartbeat is older than WORKER_HEARTBEAT_MAX_AGE), and who runs the scheduler: the
    holders of the scheduler locks of the queues they serve (a lock outlives a killed holder by at
    most SCHEDULER_LOCK_SECONDS). Without a scheduler no timer fires and no sweep runs."""
    max_age = current_app.config["WORKER_HEARTBEAT_MAX_AGE"]
    now = clock.now()
    redis = get_redis()
    alive = [
        w
        for w in Worker.all(connection=redis)
        if w.last_heartbeat is not None and (now - _aware(w.last_heartbeat)).total_seconds() <= max_age
    ]
    if not alive:
        raise _NoWorker("没有正在运行的后台任务进程")
    served = sorted({q for w in alive for q in w.queue_names()})
    holders = dict(zip(served, redis.mget([RQScheduler.get_locking_key(q) for q in served]), strict=True))
    unscheduled = [q for q, holder in holders.items() if holder is None]
    if unscheduled:
        raise _NoWorker(f"{len(alive)} 个后台任务进程在线，但队列 {'、'.join(unscheduled)} 的定时调度无进程负责"
                        "（到点的任务和定期检查暂停，将由在线进程接管）")
    scheduling = len({holder for holder in holders.values()})
    return f"{len(alive)} 个后台任务进程在线，{scheduling} 个负责定时调度"


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=clock.now().tzinfo)


def readiness() -> tuple[bool, list[Check]]:
    checks = [
        _timed("database", _check_database),
        _timed("redis", _check_redis),
    ]
    redis_ok = checks[1].ok
    if redis_ok:
        checks.append(_timed("worker", _check_worker))
    else:
        checks.append(Check("worker", False, None, "Redis 不可用，无法确认"))
    return all(c.ok for c in checks), checks
