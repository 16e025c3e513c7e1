"""Reporting a problem: the report itself, the form's "is this already reported?" check, and linking a
second report of the same problem.

**Duplicates**: a report for the same place and category while one is open links the reporter to the
open one (they follow its progress; their photos join it) unless they insist, which creates a new
repair that points at the open one.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core import audit, clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import NotFound
from app.places import service as places_service
from app.repairs import events
from app.repairs.models import Repair, RepairCategory, RepairFollower
from app.repairs.service.deadlines import add_deadlines, deadline_plan
from app.repairs.service.dispatch import dispatch, resolve_group
from app.repairs.service.errors import invalid
from app.repairs.service.lifecycle import ENTITY, OPEN
from app.repairs.service.photos import claim_photos, photo_count
from app.repairs.service.policies import sla_spans
from app.repairs.service.views import RepairView, detail_view
from app.repairs.states import MAX_PHOTOS, REPORTER, STATUS_LABELS, SYSTEM, Status, Urgency

log = logging.getLogger(__name__)


def submit(*, actor: Actor, category_id: int, place_id: int, description: str, contact_phone: str,
           urgency: str = Urgency.NORMAL, preferred_time: str | None = None, photo_ids: list[int] | None = None,
           insist: bool = False) -> tuple[RepairView, bool]:
    """Report a problem. Returns ``(repair as the reporter sees it, linked)``: ``linked`` when an open
    repair of the same place and category absorbed the report (unless ``insist``)."""
    category = db.session.get(RepairCategory, category_id)
    if category is None or not category.active:
        raise invalid("category_id", "请选择报修类别", "repairs.unknown_category")
    try:
        place = places_service.view(places_service.get_place(place_id))
    except NotFound as exc:
        raise invalid("place_id", "请选择报修地点", "repairs.unknown_place") from exc
    photo_ids = list(photo_ids or [])
    now = clock.now()
    if not insist:
        existing = _open_duplicate(place.id, category.id)
        if existing is not None:
            _link(actor, existing, description, photo_ids)
            return detail_view(actor, existing), True
    building_id = next((p["id"] for p in place.path if p["kind"] == "building"), None)
    duplicate = _open_duplicate(place.id, category.id) if insist else None
    spans = sla_spans(category.id, str(urgency))
    plan = deadline_plan(spans, now)
    group = resolve_group(category.id, building_id)
    repair = Repair(
        reporter_id=actor.user_id, category_id=category.id, place_id=place.id, place_name=place.full_name[:200],
        building_id=building_id, description=description, urgency=str(urgency), contact_phone=contact_phone,
        preferred_time=preferred_time or None, duplicate_of_id=duplicate.id if duplicate else None,
        status=str(Status.SUBMITTED), sla=spans, round_started_at=now, group_id=group.id if group else None,
        due_at=min(due for _kind, level, due in plan if level == 1), created_at=now, updated_at=now,
    )
    db.session.add(repair)
    db.session.flush()
    claim_photos(actor, photo_ids, repair, "report")
    audit.record(ENTITY, repair.id, "submit", actor_id=actor.user_id, after={"status": repair.status},
                 data={"photos": photo_ids} | ({"duplicate_of": duplicate.id} if duplicate else {}))
    add_deadlines(repair, plan)
    dispatch(repair)
    events.repair_submitted.send(repair.id, category_id=repair.category_id, place_id=repair.place_id)
    return detail_view(actor, repair, set(actor.roles) | {REPORTER}), False


def report_device_fault(*, reporter_id: int, category_code: str, place_id: int, description: str) -> int | None:
    """A report opened by the system when a device on site reports a fault (a locker door that would not
    open), on behalf of the person who was at it (``reporter_id``: they follow its progress). A report of
    the same place and category still open absorbs it (the fault is already known). The repair's id, or
    None when the category is not in the catalogue (logged: a fault must never stop the person at the
    device)."""
    category_id = db.session.scalar(select(RepairCategory.id).where(RepairCategory.code == category_code,
                                                                    RepairCategory.active.is_(True)))
    if category_id is None:
        log.warning("no repair category for a device fault", extra={"category": category_code})
        return None
    view, _linked = submit(actor=Actor(user_id=reporter_id, roles=frozenset({SYSTEM})), category_id=category_id,
                           place_id=place_id, description=description, contact_phone="")
    return view.repair.id


def open_report(*, actor: Actor, place_id: int, category_id: int) -> dict[str, Any]:
    """For the report form: is this problem already reported and open? (Status and time only: who
    reported it and what they wrote are not for everyone.)"""
    existing = _open_duplicate(place_id, category_id)
    if existing is None:
        return {"open": False}
    return {"open": True, "repair_id": existing.id, "status": existing.status,
            "status_label": STATUS_LABELS[Status(existing.status)], "created_at": existing.created_at,
            "mine": existing.reporter_id == actor.user_id}


def _open_duplicate(place_id: int, category_id: int) -> Repair | None:
    return db.session.scalars(select(Repair).where(
        Repair.place_id == place_id, Repair.category_id == category_id, Repair.status.in_(OPEN),
        Repair.duplicate_of_id.is_(None)).order_by(Repair.id).limit(1)).first()


def _link(actor: Actor, repair: Repair, note: str, photo_ids: list[int]) -> None:
    if repair.reporter_id == actor.user_id:
        added = claim_photos(actor, photo_ids, repair, "report", room=MAX_PHOTOS - photo_count(repair.id, "report"))
        if added:
            audit.record(ENTITY, repair.id, "add_photos", actor_id=actor.user_id, data={"photos": added})
        return
    inserted = db.session.execute(
        insert(RepairFollower).values(repair_id=repair.id, user_id=actor.user_id, note=note, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["repair_id", "user_id"]).returning(RepairFollower.id)
    ).first()
    added = claim_photos(actor, photo_ids, repair, "report", room=MAX_PHOTOS - photo_count(repair.id, "report"))
    if inserted is not None or added:
        audit.record(ENTITY, repair.id, "link", actor_id=actor.user_id, data={"note": note[:200], "photos": added})
