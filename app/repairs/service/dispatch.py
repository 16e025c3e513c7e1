"""Dispatch: finding someone for a repair in the queue.

**Dispatch** resolves a worker group from the most specific rule (category × building), then either
assigns the on-duty member with the least open work (``auto``) or tells every on-duty member and lets
the first to accept take it (``pool``). Members are picked with ``FOR UPDATE SKIP LOCKED`` so reports
dispatched at the same moment spread over different workers instead of all landing on the one who
looked least busy; nobody waits on a lock. Nobody available: the repair stays in the queue, the
dispatchers are told, and the sweep tries again when someone comes on duty.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import case, func, or_, select, update

from app.core import clock
from app.core.db import db
from app.repairs.models import DispatchRule, Repair, WorkerGroup, WorkerGroupMember
from app.repairs.service.deadlines import refresh_due
from app.repairs.service.errors import invalid
from app.repairs.service.lifecycle import LOAD, fire
from app.repairs.service.notices import alert_dispatchers, notify_pool, notify_worker
from app.repairs.states import SYSTEM, DispatchMode, Status
from app.users import service as users_service


def resolve_group(category_id: int, building_id: int | None) -> WorkerGroup | None:
    """The group of the most specific matching rule whose group is active."""
    specificity = case((DispatchRule.category_id.is_not(None), 2), else_=0) + \
        case((DispatchRule.building_id.is_not(None), 1), else_=0)
    return db.session.scalars(
        select(WorkerGroup).join(DispatchRule, DispatchRule.group_id == WorkerGroup.id)
        .where(WorkerGroup.active.is_(True),
               or_(DispatchRule.category_id == category_id, DispatchRule.category_id.is_(None)),
               or_(DispatchRule.building_id == building_id, DispatchRule.building_id.is_(None)))
        .order_by(specificity.desc()).limit(1)
    ).first()


def check_worker(user_id: int, field: str) -> None:
    """422 unless ``user_id`` is an active worker: someone work can be given to (assigned, transferred,
    a group member)."""
    if not users_service.with_role([user_id], "worker"):
        raise invalid(field, "该用户不是在职维修工", "repairs.not_a_worker")


def _on_duty_members(group_id: int, exclude: Iterable[int] = ()) -> list[WorkerGroupMember]:
    """On-duty members who are still active workers, the least loaded (then longest idle) first."""
    load = (select(func.count()).select_from(Repair)
            .where(Repair.assignee_id == WorkerGroupMember.user_id, Repair.status.in_(LOAD))
            .correlate(WorkerGroupMember).scalar_subquery())
    stmt = (select(WorkerGroupMember)
            .where(WorkerGroupMember.group_id == group_id, WorkerGroupMember.on_duty.is_(True))
            .order_by(load, WorkerGroupMember.last_assigned_at.asc().nulls_first(), WorkerGroupMember.id))
    exclude = set(exclude)
    if exclude:
        stmt = stmt.where(WorkerGroupMember.user_id.not_in(exclude))
    members = list(db.session.scalars(stmt))
    workers = users_service.with_role([m.user_id for m in members], "worker")
    return [m for m in members if m.user_id in workers]


def lock_group(group_id: int) -> None:
    """Dispatches to one group take turns (``FOR NO KEY UPDATE`` of the group's row, until commit): the
    next one reads the members' load after the previous one's assignment is committed, so two reports
    at the same moment go to two workers. ``NO KEY`` because every repair of the group holds a key-share
    lock on that row (its foreign key) which must not block this one. Whoever changes the members and
    then dispatches takes this lock first, so the locks are always taken in the same order."""
    db.session.execute(select(WorkerGroup.id).where(WorkerGroup.id == group_id)
                       .with_for_update(key_share=True))  # PostgreSQL: FOR NO KEY UPDATE


def _pick_worker(group_id: int, exclude: Iterable[int], prefer: int | None) -> int | None:
    lock_group(group_id)
    members = _on_duty_members(group_id, exclude)  # read after the lock: the last dispatch's load is in
    if not members:
        return None
    chosen = next((m for m in members if m.user_id == prefer), members[0])
    db.session.execute(update(WorkerGroupMember).where(WorkerGroupMember.id == chosen.id)
                       .values(last_assigned_at=clock.now()))
    return chosen.user_id


def dispatch(repair: Repair, *, exclude: Iterable[int] = (), prefer: int | None = None,
             alert_queue: bool = True) -> int | None:
    """Find someone for a repair in the queue; returns the worker it was assigned to, if any."""
    if repair.status != Status.SUBMITTED or repair.assignee_id is not None:
        return None
    group = db.session.get(WorkerGroup, repair.group_id) if repair.group_id else None
    if group is None or not group.active:
        group = resolve_group(repair.category_id, repair.building_id)
        repair.group_id = group.id if group else None
        db.session.flush()
    if group is None:
        if alert_queue:
            alert_dispatchers(repair, "没有匹配的维修组，请人工派单")
        return None
    exclude = set(exclude) | set(repair.declined_by or [])
    if group.dispatch_mode == DispatchMode.POOL:
        members = _on_duty_members(group.id, exclude)
        notify_pool(repair, [member.user_id for member in members])
        if not members and alert_queue:
            alert_dispatchers(repair, f"{group.name}暂无在岗维修工，请人工派单")
        return None
    worker_id = _pick_worker(group.id, exclude, prefer)
    if worker_id is None:
        if alert_queue:
            alert_dispatchers(repair, f"{group.name}暂无在岗维修工，请人工派单")
        return None
    fire(repair, "assign", actor_id=None, roles={SYSTEM}, expect={"assignee_id": None},
         values={"assignee_id": worker_id, "assigned_at": clock.now()}, data={"worker_id": worker_id, "auto": True})
    notify_worker(repair, worker_id)
    return worker_id


def redispatch_queued(*, group_id: int | None = None, limit: int = 200) -> int:
    """Try again for repairs waiting in the queue (someone came on duty; the sweep)."""
    stmt = (select(Repair).where(Repair.status == Status.SUBMITTED, Repair.assignee_id.is_(None))
            .order_by(Repair.id).limit(limit))
    if group_id is not None:
        stmt = stmt.where(Repair.group_id == group_id)
    assigned = 0
    for repair in db.session.scalars(stmt).all():
        group = db.session.get(WorkerGroup, repair.group_id) if repair.group_id else None
        if group is not None and group.dispatch_mode == DispatchMode.POOL:
            continue  # pool work waits for someone to take it; they were told
        if dispatch(repair, alert_queue=False):
            refresh_due(repair)
            assigned += 1
    return assigned
