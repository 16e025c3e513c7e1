"""Append-only audit trail: who changed what, when, from what to what.

Every money or state change writes one row in the same transaction as the change itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CTE, Index, Insert, String, bindparam, insert, literal, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.db import Base, IdMixin, bound_insert, db, fetch, prebuilt
from app.core.logging import request_id_var


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"

    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None]
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    data: Mapped[dict[str, Any] | None]
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id", "id"),)


_FIELDS = ("actor_id", "before", "after", "data", "request_id", "created_at")
"""What an event records besides its entity and action (``_fields``)."""

_RECORD = prebuilt(bound_insert(AuditEvent, ("entity_type", "entity_id", "action", *_FIELDS)).returning(AuditEvent.id))
"""Built once: every money or state change runs it (``fetch``; the ORM's unit of work cost more than the
insert itself)."""


def record(
    entity_type: str,
    entity_id: int,
    action: str,
    *,
    actor_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Append one event in the caller's transaction; answers its id."""
    return fetch(_RECORD, {"entity_type": entity_type, "entity_id": entity_id, "action": action,
                           **_fields(actor_id, before, after, data)}, flush=False)[0].id


def _fields(actor_id: int | None, before: dict[str, Any] | None, after: dict[str, Any] | None,
            data: dict[str, Any] | None) -> dict[str, Any]:
    return {"actor_id": actor_id, "before": before, "after": after, "data": data,
            "request_id": request_id_var.get(), "created_at": clock.now()}


def recorded_for(rows: CTE, entity_type: str, action: str) -> Insert:
    """The insert ``record`` makes, for each row of ``rows`` (a CTE with an ``id`` column, such as an
    ``INSERT … RETURNING id``): for a statement built once that writes an entity and its event together,
    one round trip instead of two. Its parameters come from ``record_params``."""
    columns = AuditEvent.__table__.c
    return insert(AuditEvent).from_select(
        ["entity_type", "entity_id", "action", *_FIELDS],
        select(literal(entity_type, String), rows.c.id, literal(action, String),
               *(bindparam(f"audit_{name}", type_=columns[name].type) for name in _FIELDS)).select_from(rows))


def record_params(*, actor_id: int | None, before: dict[str, Any] | None = None,
                  after: dict[str, Any] | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The parameters of a ``recorded_for`` insert: what ``record`` would write."""
    return {f"audit_{name}": value for name, value in _fields(actor_id, before, after, data).items()}


def history(entity_type: str, entity_id: int) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
    )
    return list(db.session.scalars(stmt))
