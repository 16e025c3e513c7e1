"""The periodic sweep (``app.meetings.jobs.sweep``, every ``MEETING_SWEEP_SECONDS``): it fires the
meetings' timers whose jobs were lost (``app.core.timers.sweep`` for these kinds; the handlers re-check
each meeting) and extends the horizon of every active series.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select

from app.core import clock
from app.core import timers as core_timers
from app.core.db import db
from app.core.errors import AppError
from app.meetings.models import MeetingSeries
from app.meetings.service.series import generate
from app.meetings.states import (
    ABSENTEES_TIMER,
    REMINDER_TIMER,
    SERIES_HORIZON_WEEKS,
    SUMMARY_TIMER,
    TIMER_KINDS,
    SeriesStatus,
)

log = logging.getLogger(__name__)


def sweep(*, limit: int = 200) -> dict[str, int]:
    """Fire timers whose jobs were lost (Redis flushed, a worker down) and extend series horizons. Returns
    how many reminders, absentee reminders and summaries went out, and how many occurrences were made."""
    fired = core_timers.sweep(kinds=TIMER_KINDS, limit=limit)["done"]
    done = {"reminders": fired.get(REMINDER_TIMER, 0), "absentees": fired.get(ABSENTEES_TIMER, 0),
            "summaries": fired.get(SUMMARY_TIMER, 0), "occurrences": 0}
    now = clock.now()
    horizon = now + timedelta(weeks=SERIES_HORIZON_WEEKS)
    stale = db.session.scalars(select(MeetingSeries).where(
        MeetingSeries.status == str(SeriesStatus.ACTIVE),
        or_(MeetingSeries.generated_until.is_(None), MeetingSeries.generated_until < horizon - timedelta(days=7)))
        .limit(limit)).all()
    for series in stale:
        try:
            with db.session.begin_nested():  # one broken series (its room deleted …) must not stop the sweep
                done["occurrences"] += len(generate(series))
        except AppError:
            log.exception("meeting series could not be extended", extra={"series": series.id})
    return done
