"""Two canaries for per-test isolation: the first writes (and commits), the second must see nothing."""

from sqlalchemy import func, select

from app.core import audit
from app.core.audit import AuditEvent
from app.core.db import db


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_canary_1_writes_and_commits(app, redis_conn):
    audit.record("canary", 1, "write", actor_id=None, after={"x": 1})
    db.session.commit()
    redis_conn.set("canary", "1")
    assert _count() == 1


def test_canary_2_sees_nothing(app, redis_conn):
    assert _count() == 0
    assert redis_conn.get("canary") is None
    # identities restart too, so ids in tests are predictable
    assert audit.record("canary", 2, "write", actor_id=None) == 1
