"""Meeting timers (scheduled with ``schedule_after_commit`` when a meeting is created or moved) and
the periodic sweep. Each job reloads the meeting and claims its timer with a conditional UPDATE that
re-checks the meeting's current times, so a stale timer (the meeting moved or was cancelled) does
nothing, and running a job twice sends once."""

from __future__ import annotations

from app.core.jobs import job
from app.meetings import service


@job
def remind(meeting_id: int) -> int:
    """Before start: remind invitees not yet in."""
    return service.send_reminder(meeting_id)


@job
def remind_absentees(meeting_id: int) -> int:
    """Start + 10 min: remind those still not in."""
    return service.send_absentee_reminder(meeting_id)


@job
def summarise(meeting_id: int) -> bool:
    """After check-in closes: the organiser's summary."""
    return service.send_summary(meeting_id)


def sweep() -> dict[str, int]:
    """Run by ``run_periodic`` every MEETING_SWEEP_SECONDS (see create_app)."""
    return service.sweep()
