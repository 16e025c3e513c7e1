"""The periodic sweep (``app.meetings.jobs.sweep``, every ``MEETING_SWEEP_SECONDS``): it sends what
a lost timer missed and extends the horizon of every active series.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select

from app.core import clock
from app.core.db import db
from app.core.errors import AppError
from app.meetings.models import Meeting, MeetingSeries
from app.meetings.service.series import generate
from app.meetings.service.timers import (
    due_absentees,
    due_reminders,
    due_summaries,
    send_absentee_reminder,
    send_reminder,
    send_summary,
)
from app.meetings.states import SERIES_HORIZON_WEEKS, SeriesStatus

log = logging.getLogger(__name__)


def sweep(*, limit: int = 200) -> dict[str, int]:
    """Catch timers that were lost (Redis flushed, a worker down) and extend series horizons."""
    now = clock.now()
    done = {"reminders": 0, "absentees": 0, "summaries": 0, "occurrences": 0}
    for key, due, send in (("reminders", due_reminders, send_reminder),
                           ("absentees", due_absentees, send_absentee_reminder),
                           ("summaries", due_summaries, send_summary)):
        due_ids = db.session.scalars(select(Meeting.id).where(due(now)).order_by(Meeting.id).limit(limit)).all()
        for meeting_id in due_ids:
            done[key] += bool(send(meeting_id))
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
