"""Database base class, naming convention, timestamps and the transaction boundary.

The entry point owns the transaction: one commit per HTTP request (``init_transaction_boundary``),
per job (``app.core.jobs``) and per CLI command (``commit_scope``). Services only flush.

A pooled connection the server has closed (a PostgreSQL restart, an idle timeout, an operator's
``pg_terminate_backend``) is never handed to a request: on checkout the pool looks at its socket —
an idle connection has nothing to read, so a readable or broken socket means the server hung up —
and replaces it. That costs no round trip, where SQLAlchemy's ``pool_pre_ping`` sends a query on
every checkout (one more round trip on every request).
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from flask import Flask, g
from flask_sqlalchemy import SQLAlchemy
from psycopg import pq
from sqlalchemy import BigInteger, DateTime, MetaData, event, exc, func
from sqlalchemy.dialects.postgresql import JSONB
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


class _SQLAlchemy(SQLAlchemy):
    def _make_engine(self, bind_key: str | None, options: dict[str, Any], app: Flask) -> Any:
        engine = super()._make_engine(bind_key, options, app)
        event.listen(engine, "checkout", _refuse_dead)
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
            db.session.rollback()
        return response


@contextmanager
def commit_scope() -> Iterator[None]:
    """One commit for a CLI command or a job; a failure rolls everything back."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
