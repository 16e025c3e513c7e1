"""The catalogue admins keep: repair categories (what people can report) and materials (what workers
use, at a unit cost in fen)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.core import audit
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import Conflict, NotFound
from app.repairs.models import Material, RepairCategory


def list_categories(*, include_inactive: bool = False) -> list[RepairCategory]:
    stmt = select(RepairCategory).order_by(RepairCategory.sort_order, RepairCategory.id)
    if not include_inactive:
        stmt = stmt.where(RepairCategory.active.is_(True))
    return list(db.session.scalars(stmt))


def list_all_categories(*, actor: Actor) -> list[RepairCategory]:
    """Every category, retired ones too, for the staff who keep the catalogue and the dispatch rules."""
    require_roles(actor, "dispatcher", "admin")
    return list_categories(include_inactive=True)


def _create_entry(actor: Actor, model: type, entity: str, unique: str, conflict: tuple[str, str],
                  values: dict[str, Any]):
    """Admins add a catalogue entry (category, material); ``unique`` names the field that may not repeat."""
    require_roles(actor, "admin")
    if db.session.scalar(select(model.id).where(getattr(model, unique) == values[unique])):
        raise Conflict(*conflict)
    entry = model(**values)
    db.session.add(entry)
    db.session.flush()
    audit.record(entity, entry.id, "create", actor_id=actor.user_id, after=plain(values))
    return entry


def _update_entry(actor: Actor, model: type, entity: str, entry_id: int, not_found: tuple[str, str],
                  values: dict[str, Any]):
    require_roles(actor, "admin")
    entry = db.session.get(model, entry_id)
    if entry is None:
        raise NotFound(*not_found)
    before = {k: getattr(entry, k) for k in values}
    for key, value in values.items():
        setattr(entry, key, value)
    db.session.flush()
    audit.record(entity, entry.id, "update", actor_id=actor.user_id, before=before, after=plain(values))
    return entry


def plain(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the audit trail stores them (dates as ISO text)."""
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in values.items()}


def create_category(*, actor: Actor, **values: Any) -> RepairCategory:
    return _create_entry(actor, RepairCategory, "repair_category", "code",
                         ("repairs.category_exists", "类别编码已存在"), values)


def update_category(*, actor: Actor, category_id: int, **values: Any) -> RepairCategory:
    return _update_entry(actor, RepairCategory, "repair_category", category_id,
                         ("repairs.category_not_found", "类别不存在"), values)


def list_materials(*, actor: Actor, include_inactive: bool = False) -> list[Material]:
    require_roles(actor, "worker", "dispatcher", "admin")
    stmt = select(Material).order_by(Material.name)
    if not include_inactive:
        stmt = stmt.where(Material.active.is_(True))
    return list(db.session.scalars(stmt))


def create_material(*, actor: Actor, **values: Any) -> Material:
    return _create_entry(actor, Material, "repair_material", "name", ("repairs.material_exists", "材料名称已存在"),
                         values)


def update_material(*, actor: Actor, material_id: int, **values: Any) -> Material:
    return _update_entry(actor, Material, "repair_material", material_id,
                         ("repairs.material_not_found", "材料不存在"), values)
