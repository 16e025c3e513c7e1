"""The audit trail: ``record`` appends an event in the caller's transaction; ``recorded_for`` writes the
same event for each row a statement wrote, in that statement."""

from __future__ import annotations

from sqlalchemy import select, text

from app.core import audit
from app.core.audit import AuditEvent
from app.core.db import db, fetch
from app.core.logging import request_id_var


def _written(entity_type: str) -> list[tuple]:
    return [(e.entity_id, e.action, e.actor_id, e.before, e.after, e.data, e.request_id)
            for e in db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == entity_type)
                                        .order_by(AuditEvent.id))]


# A statement that writes rows (here: events of another type, standing in for any entity) and an audit
# event for each row it wrote.
_WROTE = text("INSERT INTO audit_events (entity_type, entity_id, action, created_at) "
              "SELECT 'thing', n, 'made', now() FROM generate_series(1, :count) AS n "
              "RETURNING id").columns(AuditEvent.id).cte("wrote")
_WRITE_AND_RECORD = select(_WROTE.c.id).add_cte(audit.recorded_for(_WROTE, "thing_audit", "create").cte("audited"))


def test_an_event_is_written_for_each_row_the_statement_wrote_as_record_writes_it(app):
    token = request_id_var.set("req-42")
    try:
        ids = [r.id for r in fetch(_WRITE_AND_RECORD, {"count": 2, **audit.record_params(actor_id=9, data={"n": 1})})]
        audit.record("thing_audit", ids[0], "create", actor_id=9, data={"n": 1})
    finally:
        request_id_var.reset(token)
    first, second, by_record = _written("thing_audit")
    assert first == by_record  # the same columns as record writes, the request id included
    assert [first[0], second[0]] == ids
    assert first[1:] == ("create", 9, None, None, {"n": 1}, "req-42")


def test_no_row_written_means_no_event(app):
    assert fetch(_WRITE_AND_RECORD, {"count": 0, **audit.record_params(actor_id=None)}) == []
    assert _written("thing_audit") == []


def test_record_is_part_of_the_callers_transaction(app):
    audit.record("probe", 1, "write", actor_id=None)
    db.session.rollback()
    assert _written("probe") == []
