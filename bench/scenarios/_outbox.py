"""Shared by the notification scenarios: recipients with consents, and the drain measured from a commit
until every delivery of the run is ``sent`` (rps = messages per second; latencies per message)."""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.core.db import db
from app.notifications import service, templates
from app.notifications.models import Delivery, Notification
from app.users.models import User

TIMEOUT = 120.0
OPEN = ["pending", "sending", "failed"]


def seed_recipients(prefix: str, count: int, grants: int) -> None:
    """``count`` users (openids ``<prefix>-<n>``), each with ``grants`` consents to the notice template
    (the simulator runs lenient: WeChat's side has them too)."""
    db.session.execute(insert(User).values([{"openid": f"{prefix}-{i}"} for i in range(count)])
                       .on_conflict_do_nothing(index_elements=["openid"]))
    ids = recipients(prefix)
    template_id = templates.template_id_for(service.NOTICE.event)
    for user_id in ids:
        service.add_grants(user_id, template_id, grants)


def recipients(prefix: str) -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.openid.like(f"{prefix}-%")).order_by(User.id)))


def drained(count: int, committed_at: datetime, started: float) -> dict:
    """Wait until every delivery is final (or TIMEOUT), then the figures of the drain."""
    sent = 0
    deadline = time.perf_counter() + TIMEOUT
    while time.perf_counter() < deadline:
        sent = _count("sent")
        if sent + _count("dead") + _count("skipped") >= count:
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    p50, p95, p99 = _latency_percentiles(committed_at)
    return {"rps": sent / elapsed, "requests": count, "failures": count - sent,
            "p50_ms": p50, "p95_ms": p95, "p99_ms": p99}


def _count(status: str) -> int:
    db.session.rollback()  # see the workers' commits
    return db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == status)) or 0


def _latency_percentiles(committed_at: datetime) -> tuple[float, float, float]:
    latency = func.extract("epoch", Delivery.sent_at - committed_at) * 1000
    row = db.session.execute(
        select(*(func.percentile_cont(q).within_group(latency) for q in (0.5, 0.95, 0.99)))
        .select_from(Delivery).join(Notification).where(Delivery.status == "sent")
    ).one()
    return tuple(round(float(v or 0), 1) for v in row)


def unfinished() -> list[str]:
    """``verify``: every delivery of the run finished (the run's database is its own)."""
    stuck = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status.in_(OPEN))) or 0
    return [f"{stuck} deliveries not finished"] if stuck else []
