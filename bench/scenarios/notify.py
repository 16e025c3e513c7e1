"""5,000 notifications drained by two RQ workers through the WeChat simulator; rps = messages/s.

``run(ctx)`` writes the messages the way a domain does one at a time — ``notifications.service.notify()``
in one business transaction, whose commit asks the workers to drain the outbox — and then measures from
the commit until every delivery is ``sent``: the delivery pipeline (claim with a lease, the HTTP call to
the simulator, the outcome) drained by two workers. Latencies are per message, from the commit to
``sent``. The time to write the 5,000 rows is printed separately (it is the business side's cost).
The simulator runs lenient here: every user has consented to every template (our own consent table
is seeded to match).
"""

from __future__ import annotations

import time

from app.core import clock
from app.core.db import db
from app.notifications import service
from bench.scenarios import _outbox

WORKERS = 2
USERS = 500
FULL, SMOKE = 5000, 100
PREFIX = "bench-notify"


def _count(ctx) -> int:
    return FULL if ctx.duration > 5 else SMOKE


def seed(ctx) -> None:
    _outbox.seed_recipients(PREFIX, USERS, 50)


def run(ctx) -> dict:
    count = _count(ctx)
    user_ids = _outbox.recipients(PREFIX)
    writing = time.perf_counter()
    for i in range(count):
        service.notify(user_id=user_ids[i % len(user_ids)], event=service.NOTICE.event, title=f"压测通知 {i}",
                       body="后勤通知", urgency="urgent", idempotency_key=f"bench-notify-{i}")
    committed_at = clock.now()
    db.session.commit()  # the after-commit hook asks the workers to drain
    started = time.perf_counter()
    print(f"notify: wrote {count} messages in {started - writing:.1f} s; draining …", flush=True)
    return _outbox.drained(count, committed_at, started)


def verify(ctx) -> list[str]:
    return _outbox.unfinished()
