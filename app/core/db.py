"""Database base class, naming convention, timestamps and the transaction boundary.

The entry point owns the transaction: one commit per HTTP request (``init_transaction_boundary``),
per job (``app.core.jobs``) and per CLI command (``commit_scope``). Services only flush.

A pooled connection the server has closed (a PostgreSQL restart, an idle timeout, an operator's
``pg_terminate_backend``) is never handed to a request: on checkout the pool looks at its socket —
an idle connection has nothing to read, so a readable or broken socket means the server hung up —
and replaces it. That costs no round trip, where SQLAlchemy's ``pool_pre_ping`` sends a query on
every checkout (one more round trip on every request).

A stuck database fails fast instead of hanging its callers: every new connection gives up connecting
after ``DB_CONNECT_TIMEOUT`` seconds and asks the server to cancel any statement (lock waits
included) after ``DB_STATEMENT_TIMEOUT_MS`` — ``JOB_STATEMENT_TIMEOUT_MS`` in a worker
(``use_statement_timeout``). Both travel in the connection's start-up packet: no round trip. A
server that does not answer at all (its processes stopped, the network gone) cannot cancel anything
itself: ``ping`` keeps its own deadline, for readiness.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from flask import Flask, g
from flask_sqlalchemy import SQLAlchemy
from psycopg import pq
from psycopg.rows import namedtuple_row
from sqlalchemy import BigInteger, DateTime, Executable, Insert, MetaData, bindparam, event, exc, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

from app.core import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            datetime: DateTime(timezone=True),
            dict[str, Any]: JSONB,
            int: BigInteger,
        },
    )


def _alive(dbapi_connection: Any) -> bool:
    """Whether an idle psycopg connection is still open at the server's end, without asking it."""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:
        return True  # not psycopg: nothing to look at
    if dbapi_connection.closed or pgconn.status != pq.ConnStatus.OK:
        return False
    try:
        fd = pgconn.socket
    except psycopg.OperationalError:  # no socket any more
        return False
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return not poller.poll(0)  # idle: the server has nothing to say unless it is saying goodbye


def _refuse_dead(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if not _alive(dbapi_connection):
        raise exc.DisconnectionError("the server closed this pooled connection")  # the pool replaces it


_STATEMENT_TIMEOUT_KEY = "db_statement_timeout_ms"


def _limit_waits(app: Flask):
    """``do_connect`` listener: the connect timeout, and the statement timeout of this process."""

    def limit(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams.setdefault("connect_timeout", max(2, app.config["DB_CONNECT_TIMEOUT"]))
        ms = int(app.extensions.get(_STATEMENT_TIMEOUT_KEY, app.config["DB_STATEMENT_TIMEOUT_MS"]))
        cparams["options"] = f"{cparams.get('options', '')} -c statement_timeout={ms}".strip()

    return limit


def use_statement_timeout(app: Flask, ms: int) -> None:
    """From now on this process's connections have statement timeout ``ms`` (a worker: the jobs' limit)."""
    app.extensions[_STATEMENT_TIMEOUT_KEY] = ms
    with app.app_context():
        db.engine.dispose()  # connections made before keep the old limit: drop them


class _SQLAlchemy(SQLAlchemy):
    def _make_engine(self, bind_key: str | None, options: dict[str, Any], app: Flask) -> Any:
        engine = super()._make_engine(bind_key, options, app)
        event.listen(engine, "checkout", _refuse_dead)
        event.listen(engine, "do_connect", _limit_waits(app))
        return engine


db = _SQLAlchemy(model_class=Base)


class IdMixin:
    id: Mapped[int] = mapped_column(primary_key=True)


class TimestampMixin:
    """``created_at`` / ``updated_at``, UTC-aware, taken from the application clock."""

    created_at: Mapped[datetime] = mapped_column(default=clock.now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        default=clock.now, onupdate=clock.now, server_default=func.now()
    )


def init_transaction_boundary(app: Flask) -> None:
    """Commit once after a successful request, roll back otherwise (unless the error said to keep
    its writes, see ``AppError.keep_writes``)."""

    @app.after_request
    def _commit(response):
        if response.status_code < 400 or g.pop("keep_writes", False):
            db.session.commit()
        else:
            end_failed()
        return response


def end_failed() -> None:
    """Undo a failed request's writes: ``ROLLBACK``, sent to the server directly rather than through
    psycopg, whose own rollback also throws away every prepared statement of the connection (its guard
    against a table dropped and created again inside the rolled-back transaction), so that the next
    requests plan each statement anew: at the lunch rush, where most answers are refusals, nothing stayed
    prepared. A request runs no DDL (migrations do, on their own connection), so the statements stay
    valid. Unflushed ORM changes and pending jobs are dropped (the session rolls back after; psycopg
    then finds the connection idle and sends nothing)."""
    session = db.session()
    if session.in_transaction():
        raw = session.connection().connection.dbapi_connection
        if raw.info.transaction_status in (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR):
            with raw.lock, suppress(psycopg.Error):  # a broken connection: the session's rollback deals with it
                raw.pgconn.exec_(b"ROLLBACK")
    session.rollback()


@dataclass(frozen=True, slots=True)
class _Compiled:
    stmt: Any
    sql: str
    fixed: dict[str, Any]
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]


_COMPILED: dict[int, _Compiled] = {}
_PREBUILT: list[Any] = []


def prebuilt(stmt: Executable) -> Executable:
    """Mark a statement built once at import for ``fetch``: ``compile_prebuilt`` compiles it when the app
    starts, so that a fresh process's first requests do not (~1 ms each for the canteen's reads)."""
    _PREBUILT.append(stmt)
    return stmt


def compile_prebuilt() -> None:
    """Compile every ``prebuilt`` statement for this app's dialect (in an app context; no connection)."""
    for stmt in _PREBUILT:
        _compiled(stmt)


def bound_insert(model: Any, keys: Iterable[str]) -> Insert:
    """``INSERT INTO <model's table> (keys…) VALUES (:key…)``, each parameter typed as its column: an insert
    whose SQL does not depend on the parameters it is run with, as ``fetch`` needs (PostgreSQL's, for
    ``ON CONFLICT``)."""
    table = model.__table__
    return pg_insert(table).values({key: bindparam(key, type_=table.c[key].type) for key in keys})


def _compiled(stmt: Executable) -> _Compiled:
    entry = _COMPILED.get(id(stmt))
    if entry is None or entry.stmt is not stmt:
        entry = _COMPILED[id(stmt)] = _compile(stmt)
    return entry


def _compile(stmt: Executable) -> _Compiled:
    dialect = db.engine.dialect
    compiled = stmt.compile(dialect=dialect)
    sql = str(compiled)
    if "POSTCOMPILE" in sql or compiled.escaped_bind_names or compiled.insert_prefetch or compiled.update_prefetch:
        raise TypeError("fetch runs statements whose SQL is fixed: no expanding IN (use = ANY(array)), plain "
                        "parameter names, and every column with a Python-side default given (bound_insert)")
    processors, fixed = {}, {}
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.required:  # given at each run
            if process is not None:
                processors[name] = process
        else:  # a value built into the statement (a literal in a WHERE, a bindparam's value)
            fixed[name] = process(bind.effective_value) if process is not None else bind.effective_value
    return _Compiled(stmt, sql, fixed, tuple(processors.items()))


def fetch(stmt: Executable, params: dict[str, Any], *, flush: bool = True) -> list[Any]:
    """The rows (named tuples) of a statement built once at import — a Core ``SELECT``, or a write with or
    without ``RETURNING`` (none: ``[]``) — run straight through psycopg on the session's connection, in its
    transaction. For the few statements every request or every order runs: the statement is compiled
    once, and a run costs what psycopg costs — less than half of SQLAlchemy's execute, which builds the
    statement's cache key and its result objects each time. Parameters go through their types' bind
    processors, as SQLAlchemy's would (JSONB); no expanding ``IN`` (``= ANY(array)`` instead). Pending ORM
    changes are flushed first unless ``flush`` is False (a write that reads nothing of them: an audit
    event, a timer)."""
    entry = _compiled(stmt)
    if flush:
        db.session.flush()
    raw = db.session.connection().connection.dbapi_connection
    values = {**entry.fixed, **params}
    for name, process in entry.processors:
        if name in values:
            values[name] = process(values[name])
    try:
        with raw.cursor(row_factory=namedtuple_row) as cursor:
            cursor.execute(entry.sql, values)
            # (not cursor.description: it builds an object per column on every call)
            return cursor.fetchall() if cursor.pgresult.status == pq.ExecStatus.TUPLES_OK else []
    except psycopg.Error as error:  # as SQLAlchemy would raise it (a timeout: OperationalError → 503)
        raise exc.DBAPIError.instance(entry.sql, values, error, psycopg.Error) from error


@contextmanager
def commit_scope() -> Iterator[None]:
    """One commit for a CLI command or a job; a failure rolls everything back."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


class DatabaseTimeout(Exception):
    """The database did not answer ``ping`` in time."""


def ping(timeout: float) -> None:
    """``SELECT 1`` on a pooled connection, given up after ``timeout`` seconds by this process (a new
    connection obeys ``DB_CONNECT_TIMEOUT``). A stopped server process or a dead network cannot enforce
    a ``statement_timeout``, so the wait is kept here, on the socket: past the deadline the connection
    is thrown away (never returned to the pool half-way through a query) and ``DatabaseTimeout`` raised."""
    deadline = time.monotonic() + timeout
    fairy = db.engine.raw_connection()
    try:
        pgconn = fairy.driver_connection.pgconn
        pgconn.send_query(b"SELECT 1")
        while pgconn.flush():
            _wait_socket(pgconn.socket, deadline, write=True)
        while True:
            pgconn.consume_input()
            if not pgconn.is_busy():
                break
            _wait_socket(pgconn.socket, deadline)
        while (result := pgconn.get_result()) is not None:
            if result.status != pq.ExecStatus.TUPLES_OK:
                raise psycopg.OperationalError((result.error_message or b"").decode(errors="replace"))
    except BaseException:
        fairy.invalidate()
        raise
    fairy.close()  # back to the pool, idle


def _wait_socket(fd: int, deadline: float, *, write: bool = False) -> None:
    left = deadline - time.monotonic()
    ready = select.select([], [fd], [], max(left, 0)) if write else select.select([fd], [], [], max(left, 0))
    if not any(ready):
        raise DatabaseTimeout()
