"""Database base class, naming convention, timestamps and the transaction boundary.

The entry point owns the transaction: one commit per HTTP request (``init_transaction_boundary``),
per job (``app.core.jobs``) and per CLI command (``commit_scope``). Services only flush.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import Flask, g
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, DateTime, MetaData, func
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


db = SQLAlchemy(model_class=Base)


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
