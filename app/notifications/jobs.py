"""Notification jobs: deliver one message, and the periodic sweep.

``deliver`` commits twice on purpose: the claim (with its lease) must be visible to other workers
and to the sweeper *before* the slow call to WeChat, and the outcome afterwards.
"""

from __future__ import annotations

from app.core.db import db
from app.core.jobs import job
from app.notifications import service


@job
def deliver(delivery_id: int) -> str | None:
    claimed = service.claim(delivery_id)
    db.session.commit()
    if claimed is None:
        return None
    outcome = service.push(claimed)
    return service.finish(claimed, outcome)


def sweep() -> dict[str, int]:
    """Run by ``run_periodic`` every NOTIFY_SWEEP_SECONDS (see create_app)."""
    return service.sweep()
