"""Repair jobs: thumbnails, deadline timers, auto-confirmation and the periodic sweep.

Each takes ids, reloads, re-checks and acts at most once (running one twice does nothing more);
the rules live in the service, shared with the HTTP path.
"""

from __future__ import annotations

from app.core.jobs import job
from app.core.statemachine import ConcurrentChange, InvalidTransition
from app.repairs import service


@job
def make_thumbnail(photo_id: int) -> bool:
    return service.make_thumbnail(photo_id)


@job
def check_deadline(deadline_id: int) -> bool:
    """Fires at a deadline: escalate it if it is still unmet."""
    return service.check_deadline(deadline_id)


@job
def auto_confirm(repair_id: int) -> bool:
    """Fires AUTO_CONFIRM_DAYS after completion. Losing a race with the reporter confirming at the same
    moment is the expected outcome, not an error to retry."""
    try:
        return service.auto_confirm(repair_id)
    except (ConcurrentChange, InvalidTransition):
        return False


def sweep() -> dict[str, int]:
    """Run by ``run_periodic`` every REPAIRS_SWEEP_SECONDS (see create_app)."""
    return service.sweep()
