"""The connection pool survives the database dropping its connections (restart, idle kill); ``fetch``
runs a prebuilt SELECT straight through psycopg, in the session's transaction."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import BigInteger, bindparam, exc, func, literal, select, text

from app.core import audit
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
