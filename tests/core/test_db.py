"""The connection pool survives the database dropping its connections (restart, idle kill); ``fetch``
runs a prebuilt statement straight through psycopg, in the session's transaction; ``end_failed`` undoes
a failed request's writes and keeps the connection's prepared statements."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import BigInteger, bindparam, exc, func, literal, select, text, update

from app.core import audit
from app.core import clock as app_clock
from app.core import db as core_db
from app.core.audit import AuditEvent
from app.core.db import db


def _pooled_backend_pid() -> int:
    """The one connection in the pool (emptied first, so the next checkout must take this one)."""
    db.session.remove()
    db.engine.dispose()
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    db.session.commit()
    db.session.remove()  # the connection goes back to the pool, idle
    return pid


def _terminate(service_urls, pid: int) -> None:
    url = service_urls["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the backend did not go away"
            time.sleep(0.01)  # the backend is gone once it has said goodbye on the socket


def test_a_connection_the_server_closed_is_replaced_not_handed_out(app, service_urls):
    pid = _pooled_backend_pid()
    _terminate(service_urls, pid)  # what a PostgreSQL restart or an idle timeout does to it
    assert db.session.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid  # no error: a fresh one


def test_without_the_check_the_dead_connection_would_fail_the_request(app, service_urls, monkeypatch):
    """The control: the check above is what saves the request."""
    monkeypatch.setattr(core_db, "_alive", lambda dbapi_connection: True)
    pid = _pooled_backend_pid()
    _terminate(service_urls, pid)
    with pytest.raises(exc.OperationalError):
        db.session.execute(text("SELECT 1"))
    db.session.rollback()


# --- fetch: a prebuilt SELECT straight through psycopg ----------------------------------------------------

_EVENTS = (select(AuditEvent.id, AuditEvent.entity_type, AuditEvent.entity_id)
           .where(AuditEvent.entity_type == bindparam("kind"), AuditEvent.entity_id > literal(1))
           .order_by(AuditEvent.id))


def test_fetch_answers_the_rows_sqlalchemy_answers(app):
    for entity_id in (1, 2, 3):
        audit.record("probe", entity_id, "write", actor_id=None)
    audit.record("other", 5, "write", actor_id=None)
    rows = core_db.fetch(_EVENTS, {"kind": "probe"})
    assert rows == [tuple(r) for r in db.session.execute(_EVENTS, {"kind": "probe"})]
    assert [(r.entity_type, r.entity_id) for r in rows] == [("probe", 2), ("probe", 3)]  # the literal 1 applies
    assert core_db.fetch(_EVENTS, {"kind": "probe"}) == rows  # compiled once, run again


def test_fetch_sees_pending_changes_and_belongs_to_the_transaction(app):
    db.session.add(AuditEvent(entity_type="probe", entity_id=7, action="write"))  # not flushed yet
    assert [r.entity_id for r in core_db.fetch(_EVENTS, {"kind": "probe"})] == [7]
    db.session.rollback()
    assert core_db.fetch(_EVENTS, {"kind": "probe"}) == []


def test_fetch_raises_what_sqlalchemy_raises(app):
    """A statement that times out is SQLAlchemy's OperationalError (a 503), one PostgreSQL refuses a
    DataError (a 422), as through ``db.session.execute``."""
    db.session.execute(text("SET LOCAL statement_timeout = 50"))
    with pytest.raises(exc.OperationalError):
        core_db.fetch(select(func.pg_sleep(bindparam("seconds"))), {"seconds": 1})
    db.session.rollback()
    with pytest.raises(exc.DataError):
        core_db.fetch(select(func.cast(bindparam("value"), BigInteger)), {"value": "9" * 30})
    db.session.rollback()


_RECORD = core_db.bound_insert(AuditEvent, ("entity_type", "entity_id", "action", "data", "created_at")).returning(
    AuditEvent.id)


def test_fetch_writes_and_answers_what_returning_returns(app):
    """An insert with ``RETURNING`` answers its rows; a write without answers ``[]``; the JSONB parameter
    goes through its type as SQLAlchemy's execute would send it (a dict stored as an object, None as
    JSON null)."""
    now = app_clock.now()
    first = core_db.fetch(_RECORD, {"entity_type": "probe", "entity_id": 1, "action": "write",
                                    "data": {"n": 1}, "created_at": now})
    second = core_db.fetch(_RECORD, {"entity_type": "probe", "entity_id": 2, "action": "write", "data": None,
                                     "created_at": now})
    assert len(first) == 1 and second[0].id > first[0].id
    stored = db.session.execute(text("SELECT entity_id, data, jsonb_typeof(data) AS kind FROM audit_events "
                                     "WHERE entity_type = 'probe' ORDER BY id")).all()
    assert [tuple(r) for r in stored] == [(1, {"n": 1}, "object"), (2, None, "null")]
    assert core_db.fetch(update(AuditEvent).where(AuditEvent.entity_id == bindparam("entity"))
                         .values(action="moved"), {"entity": 2}) == []
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.entity_id == 2)) == "moved"


def test_fetch_refuses_a_statement_whose_sql_depends_on_its_parameters(app):
    """An expanding IN is compiled per list length; an insert without a column that has a Python default
    would need SQLAlchemy to compute it: neither can be compiled once."""
    with pytest.raises(TypeError):
        core_db.fetch(select(AuditEvent.id).where(AuditEvent.id.in_(bindparam("ids", expanding=True))), {"ids": [1]})
    with pytest.raises(TypeError):
        core_db.fetch(core_db.bound_insert(AuditEvent, ("entity_type", "entity_id", "action")),
                      {"entity_type": "probe", "entity_id": 1, "action": "write"})


def test_prebuilt_statements_are_compiled_when_the_app_starts_as_a_connection_would_compile_them(app):
    """``create_app`` compiles them without connecting; the SQL is the one the connected dialect gives."""
    assert core_db._PREBUILT
    for stmt in core_db._PREBUILT:
        entry = core_db._COMPILED[id(stmt)]
        assert entry.stmt is stmt
        db.session.execute(text("SELECT 1"))  # connected: the dialect has seen the server
        assert entry.sql == str(stmt.compile(dialect=db.session.connection().dialect))


def _prepared(marker: str) -> int:
    return db.session.execute(text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE :m"),
                              {"m": f"%{marker}%"}).scalar_one()


@pytest.mark.parametrize("write", [False, True])
def test_end_failed_undoes_the_writes_and_keeps_the_prepared_statements(app, write):
    for _ in range(8):  # psycopg prepares a statement from its sixth run on
        db.session.execute(text("SELECT 'end-failed-marker'")).all()
    if write:
        audit.record("probe", 1, "write", actor_id=None)
    core_db.end_failed()
    assert db.session.query(AuditEvent).count() == 0
    assert _prepared("end-failed-marker") == 1
    db.session.rollback()  # the control: psycopg's own rollback throws them all away
    assert _prepared("end-failed-marker") == 0
