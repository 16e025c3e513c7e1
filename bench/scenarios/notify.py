"""5,000 notifications drained by two RQ workers through the WeChat simulator; rps = messages/s.

``run(ctx)`` writes the messages the way the product does — ``notifications.service.notify()`` in one
business transaction, whose commit asks the workers to drain the outbox — and then measures from the
commit until every delivery is ``sent``: the delivery pipeline (claim with a lease, the HTTP call to
the simulator, the outcome) drained by two workers. Latencies are per message, from the commit to
``sent``. The time to write the 5,000 rows is printed separately (it is the business side's cost).
The simulator runs lenient here: every user has consented to every template (our own consent table
is seeded to match).
"""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.core import clock
from app.core.db import db
from app.notifications import service
from app.notifications.models import Delivery, Notification
from app.users.models import User

WORKERS = 2
USERS = 500
FULL, SMOKE = 5000, 100
TIMEOUT = 120.0


def _count(ctx) -> int:
    return FULL if ctx.duration > 5 else SMOKE


def seed(ctx) -> None:
    db.session.execute(insert(User).values([{"openid": f"bench-notify-{i}"} for i in range(USERS)])
                       .on_conflict_do_nothing(index_elements=["openid"]))
    ids = db.session.scalars(select(User.id).where(User.openid.like("bench-notify-%"))).all()
    for user_id in ids:
        service.add_grants(user_id, service.templates.template_id_for(service.NOTICE.event), 50)


def run(ctx) -> dict:
    count = _count(ctx)
    user_ids = db.session.scalars(select(User.id).where(User.openid.like("bench-notify-%")).order_by(User.id)).all()
    stamp = time.time_ns()
    writing = time.perf_counter()
    for i in range(count):
        service.notify(user_id=user_ids[i % len(user_ids)], event=service.NOTICE.event, title=f"压测通知 {i}",
                       body="后勤通知", urgency="urgent", idempotency_key=f"bench-notify-{stamp}-{i}")
    committed_at = clock.now()
    db.session.commit()  # the after-commit hook asks the workers to drain
    started = time.perf_counter()
    print(f"notify: wrote {count} messages in {started - writing:.1f} s; draining …", flush=True)
    sent = 0
    deadline = time.perf_counter() + TIMEOUT
    while time.perf_counter() < deadline:
        sent = _done(stamp, "sent")
        if sent + _done(stamp, "dead") + _done(stamp, "skipped") >= count:
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    p50, p95, p99 = _latency_percentiles(stamp, committed_at)
    return {"rps": sent / elapsed, "requests": count, "failures": count - sent,
            "p50_ms": p50, "p95_ms": p95, "p99_ms": p99}


def _mine(stamp: int):
    return Notification.idempotency_key.like(f"bench-notify-{stamp}-%")


def _done(stamp: int, status: str) -> int:
    db.session.rollback()  # see the workers' commits
    return db.session.scalar(select(func.count()).select_from(Delivery).join(Notification)
                             .where(_mine(stamp), Delivery.status == status)) or 0


def _latency_percentiles(stamp: int, committed_at) -> tuple[float, float, float]:
    latency = func.extract("epoch", Delivery.sent_at - committed_at) * 1000
    row = db.session.execute(
        select(*(func.percentile_cont(q).within_group(latency) for q in (0.5, 0.95, 0.99)))
        .select_from(Delivery).join(Notification).where(_mine(stamp), Delivery.status == "sent")
    ).one()
    return tuple(round(float(v or 0), 1) for v in row)


def verify(ctx) -> list[str]:
    """Every message of this scenario's users finished (other scenarios' leftovers are not ours)."""
    stuck = db.session.scalar(
        select(func.count()).select_from(Delivery).join(Notification).join(User, User.id == Notification.user_id)
        .where(User.openid.like("bench-notify-%"), Delivery.status.in_(["pending", "sending", "failed"]))) or 0
    return [f"{stuck} deliveries not finished"] if stuck else []


