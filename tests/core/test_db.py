"""The connection pool survives the database dropping its connections (restart, idle kill)."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import exc, text

from app.core import db as core_db
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
