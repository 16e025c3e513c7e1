"""Job entry points used by tests/core/test_jobs.py (RQ imports jobs by dotted path)."""

from app.core import audit
from app.core.jobs import job


@job
def record_event(entity_id: int) -> int:
    return audit.record("job_probe", entity_id, "ran", actor_id=None)


@job
def fail_after_write(entity_id: int) -> None:
    audit.record("job_probe", entity_id, "half", actor_id=None)
    raise RuntimeError("boom")
