"""Repair jobs and timer handlers: thumbnails, deadlines, auto-confirmation and the periodic sweep.

Each takes ids, reloads, re-checks and acts at most once (running one twice does nothing more);
the rules live in the service, shared with the HTTP path. The timer handlers (``deadline_due``,
``auto_confirm_due``) are registered in ``create_app`` and run inside ``app.core.timers.fire``'s
transaction; ``check_deadline`` and ``auto_confirm`` are the RQ jobs of the time before the repairs'
timers moved to ``app.core.timers`` (jobs already scheduled under those paths still run).
"""

from __future__ import annotations

from app.core.jobs import job
from app.repairs import service


@job
def make_thumbnail(photo_id: int) -> bool:
    return service.make_thumbnail(photo_id)


def deadline_due(repair_id: int) -> int:
    """Timer ``repairs.deadline``: escalate what is due, arm the next deadline."""
    return service.escalate_due(repair_id)


def auto_confirm_due(repair_id: int) -> bool:
    """Timer ``repairs.auto_confirm``: AUTO_CONFIRM_DAYS after completion, confirm what is still unconfirmed."""
    return service.auto_confirm(repair_id)


@job
def check_deadline(deadline_id: int) -> bool:
    """A deadline's own job (scheduled before the timers moved): escalate it if it is still unmet."""
    return service.check_deadline(deadline_id)


@job
def auto_confirm(repair_id: int) -> bool:
    """The auto-confirmation's own job (scheduled before the timers moved)."""
    return service.auto_confirm(repair_id)


def sweep() -> dict[str, int]:
    """Run by ``run_periodic`` every REPAIRS_SWEEP_SECONDS (see create_app)."""
    return service.sweep()
