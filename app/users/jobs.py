"""Timer handlers of the users domain (registered in ``create_app``); the rules live in the service."""

from __future__ import annotations

from app.core.statemachine import ConcurrentChange
from app.users import service

GUARDIAN_REQUEST_EXPIRY = service.EXPIRY_TIMER


def expire_guardian_request(request_id: int) -> bool:
    """``users.guardian_request_expiry``: a request still pending when its days are up expires. Losing
    a race with a decision at that very moment is the expected outcome, not an error to retry."""
    try:
        return service.expire(request_id)
    except ConcurrentChange:
        return False
