"""One notice to 5,000 people in one ``notify_many`` call, drained by two RQ workers; rps = messages/s.

An all-staff notice, "your order is ready", "your parcel arrived": ``run(ctx)`` makes one
``notifications.service.notify_many()`` call for 5,000 recipients in one business transaction and
prints how long the call took (target: under 2 s) and how much the process's resident memory grew while
it ran, sampled every few milliseconds (bounded: the call writes with set-based statements per
thousand recipients and holds no ORM object per recipient). Then, as ``notify`` does, it measures the
drain from the commit until every delivery is ``sent`` (rps, latencies per message), to compare the
two scenarios' drain rates.
"""

from __future__ import annotations

import threading
import time

import psutil

from app.core import clock
from app.core.db import db
from app.notifications import service
from bench.scenarios import _outbox

WORKERS = 2
FULL, SMOKE = 5000, 100
PREFIX = "bench-many"
CALL_TARGET_S = 2.0


def _count(ctx) -> int:
    return FULL if ctx.duration > 5 else SMOKE


def seed(ctx) -> None:
    _outbox.seed_recipients(PREFIX, _count(ctx), 1)


class _PeakRss:
    """The highest resident set size of this process while the block runs, sampled every 5 ms."""

    def __init__(self):
        self.process = psutil.Process()
        self.before = self.peak = 0
        self._stop = threading.Event()

    def __enter__(self):
        self.before = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def run(ctx) -> dict:
    count = _count(ctx)
    user_ids = _outbox.recipients(PREFIX)
    db.session.commit()
    with _PeakRss() as rss:
        calling = time.perf_counter()
        created = service.notify_many(user_ids=user_ids, event=service.NOTICE.event, title="全校停水通知",
                                      body="明天 8:00-12:00 全校停水检修", urgency="urgent",
                                      idempotency_key="bench-notice")
        call_s = time.perf_counter() - calling
        committed_at = clock.now()
        db.session.commit()  # the after-commit hook asks the workers to drain
    started = time.perf_counter()
    mb = 1024 * 1024
    print(f"notify_many: {created} recipients in one call: {call_s * 1000:.0f} ms "
          f"({'within' if call_s < CALL_TARGET_S else 'OVER'} the {CALL_TARGET_S:.0f} s target); "
          f"peak RSS {rss.peak / mb:.1f} MB, +{(rss.peak - rss.before) / mb:.1f} MB during the call; draining …",
          flush=True)
    figures = _outbox.drained(count, committed_at, started)
    if created != count:
        figures["failures"] += abs(count - created)
    return figures


def verify(ctx) -> list[str]:
    return _outbox.unfinished()
