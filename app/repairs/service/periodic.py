"""The periodic sweep (``jobs.sweep``, every ``REPAIRS_SWEEP_SECONDS``): the safety net behind the timers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core import clock
from app.core.db import db
from app.core.statemachine import ConcurrentChange, InvalidTransition
from app.repairs.models import Repair, RepairDeadline
from app.repairs.service.deadlines import check_deadline
from app.repairs.service.dispatch import redispatch_queued
from app.repairs.service.lifecycle import OPEN
from app.repairs.service.photos import delete_unattached
from app.repairs.service.workflow import auto_confirm
from app.repairs.states import AUTO_CONFIRM_DAYS, UNATTACHED_PHOTO_HOURS, Status


def sweep(*, limit: int = 500) -> dict[str, int]:
    """The periodic safety net: escalate deadlines whose timers were lost, auto-confirm what is due,
    retry dispatch for queued work, and delete photos nobody attached."""
    now = clock.now()
    due = db.session.execute(
        select(RepairDeadline.id)
        .join(Repair, Repair.id == RepairDeadline.repair_id)
        .where(RepairDeadline.due_at <= now, RepairDeadline.met_at.is_(None), RepairDeadline.escalated_at.is_(None),
               RepairDeadline.voided_at.is_(None), Repair.sla_round == RepairDeadline.round,
               Repair.status.in_(OPEN), Repair.status != Status.ON_HOLD)
        .order_by(RepairDeadline.due_at).limit(limit)
    ).scalars().all()
    escalated = sum(1 for deadline_id in due if check_deadline(deadline_id))
    to_confirm = db.session.scalars(select(Repair.id).where(
        Repair.status == Status.COMPLETED, Repair.completed_at <= now - timedelta(days=AUTO_CONFIRM_DAYS))
        .order_by(Repair.id).limit(limit)).all()
    confirmed = 0
    for repair_id in to_confirm:
        try:
            confirmed += auto_confirm(repair_id)
        except (ConcurrentChange, InvalidTransition):
            pass  # the reporter confirmed at this very moment
    assigned = redispatch_queued()
    removed = delete_unattached(now - timedelta(hours=UNATTACHED_PHOTO_HOURS), limit)
    return {"escalated": escalated, "auto_confirmed": confirmed, "dispatched": assigned, "photos_deleted": removed}
