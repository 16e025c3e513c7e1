"""Meeting jobs: the handlers of the meetings' timers (kinds in ``app.meetings.states``, registered in
``create_app`` and fired by ``app.core.timers``), the periodic sweep, and the entry points of jobs
scheduled before the timers existed. Every handler calls the service, which re-checks the meeting as
it is now: a stale timer (the meeting moved or was cancelled) does nothing, and running one twice
sends once."""

from __future__ import annotations

from app.core.jobs import job
from app.meetings import service

# --- timer handlers (called inside ``app.core.timers.fire``'s transaction) -------------------------------


def reminder(meeting_id: int) -> int:
    """Before start: remind invitees not yet in."""
    return service.send_reminder(meeting_id)


def absentees(meeting_id: int) -> int:
    """Start + 10 min: remind those still not in."""
    return service.send_absentee_reminder(meeting_id)


def summary(meeting_id: int) -> bool:
    """After check-in closes: the organiser's summary."""
    return service.send_summary(meeting_id)


def sweep() -> dict[str, int]:
    """Run by ``run_periodic`` every MEETING_SWEEP_SECONDS (see create_app)."""
    return service.sweep()


# --- jobs scheduled by the release before the timers ------------------------------------------------------
# A running system still holds RQ jobs at these dotted paths (scheduled with the meetings of that time).
# They run the same handlers, which re-check the meeting: at the time the job was scheduled for, a message
# still due goes out (and the meeting's timer, written by the migration ``meetings timers``, later finds it
# sent); a meeting moved or cancelled since gets nothing. Remove them once every meeting scheduled before
# the timers has ended.


@job
def remind(meeting_id: int) -> int:
    return reminder(meeting_id)


@job
def remind_absentees(meeting_id: int) -> int:
    return absentees(meeting_id)


@job
def summarise(meeting_id: int) -> bool:
    return summary(meeting_id)
