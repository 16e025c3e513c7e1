"""Reading: a repair as one person sees it (``RepairView``: the phone masked or not, the photos they may
see, the deadlines, the timeline, the actions offered), the detail page, and the lists: my reports, a
worker's tasks, the dispatcher's queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import all_, and_, case, or_, select

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.pagination import PageParams, paginate
from app.repairs.models import Repair, RepairFollower, WorkerGroupMember
from app.repairs.service.access import FULL_PHONE_ROLES, PHOTO_ROLES, member_groups, roles_on, visible
from app.repairs.service.deadlines import deadlines_of
from app.repairs.service.errors import invalid
from app.repairs.service.lifecycle import ENTITY, OPEN, machine, reopen_window_passed
from app.repairs.service.photos import photo_dict
from app.repairs.states import (
    ACTION_LABELS,
    ASSIGNEE,
    DEADLINE_LABELS,
    GROUP_MEMBER,
    REPORTER,
    STAFF_ONLY_ACTIONS,
    STAFF_ONLY_DATA_ACTIONS,
    DeadlineKind,
    Status,
    Urgency,
)
from app.users import service as users_service


@dataclass
class RepairView:
    """A repair as one person sees it (lists and the detail page)."""

    repair: Repair
    roles: set[str]
    names: dict[int, str]
    now: datetime
    photos: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repair, name)

    @property
    def staff(self) -> bool:
        return bool(self.roles & {"dispatcher", "admin", ASSIGNEE, GROUP_MEMBER})

    @property
    def overdue(self) -> bool:
        return self.repair.overdue_at(self.now)

    @property
    def reporter_name(self) -> str:
        return self.names.get(self.repair.reporter_id, "")

    @property
    def assignee_name(self) -> str | None:
        return self.names.get(self.repair.assignee_id) if self.repair.assignee_id else None

    @property
    def phone(self) -> str:
        phone = self.repair.contact_phone
        if self.roles & FULL_PHONE_ROLES:
            return phone
        return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"

    @property
    def pool(self) -> bool:
        return GROUP_MEMBER in self.roles

    @property
    def linked(self) -> bool:
        return "follower" in self.roles


def _views(actor: Actor, repairs: list[Repair]) -> list[RepairView]:
    names = users_service.display_names({r.reporter_id for r in repairs} | {r.assignee_id for r in repairs})
    now = clock.now()
    groups = member_groups(actor.user_id) if "worker" in actor.roles else set()
    followed = set(db.session.scalars(select(RepairFollower.repair_id).where(
        RepairFollower.user_id == actor.user_id, RepairFollower.repair_id.in_([r.id for r in repairs]))))
    return [RepairView(repair, roles_on(actor, repair, groups=groups, followed=followed), names, now)
            for repair in repairs]


def get_repair(*, actor: Actor, repair_id: int) -> RepairView:
    repair, roles = visible(actor, repair_id)
    return detail_view(actor, repair, roles)


def detail_view(actor: Actor, repair: Repair, roles: set[str] | None = None) -> RepairView:
    roles = roles_on(actor, repair) if roles is None else roles
    history = audit.history(ENTITY, repair.id)
    names = users_service.display_names({repair.reporter_id, repair.assignee_id} | {e.actor_id for e in history}
                                        | {(e.data or {}).get("worker_id") for e in history})
    view = RepairView(repair, roles, names, clock.now())
    staff = view.staff
    see_photos = bool(roles & PHOTO_ROLES)
    for photo in repair.photos:
        if see_photos or photo.owner_id == actor.user_id:
            view.photos.append(photo_dict(photo))
    for d in deadlines_of(repair, current_round=True):
        if d.level != 1 or d.voided_at is not None:
            continue
        view.deadlines.append({
            "kind": d.kind, "label": DEADLINE_LABELS[DeadlineKind(d.kind)], "due_at": d.due_at, "met_at": d.met_at,
            "overdue": (d.met_at or view.now) > d.due_at, "escalated": d.escalated_at is not None})
    for event in history:
        if event.action in STAFF_ONLY_ACTIONS and not staff:
            continue
        data = event.data or {}
        note = data.get("reason") or data.get("note")
        if event.action in STAFF_ONLY_DATA_ACTIONS and not staff:
            note = None
        if event.action == "escalate":
            note = f"{DEADLINE_LABELS[DeadlineKind(data['kind'])]}超时" + ("，已督办" if data.get("level") == 2 else "")
        if event.action in {"assign", "transfer"} and data.get("worker_id"):
            note = f"派给{names.get(data['worker_id'], '')}" + (f"：{note}" if note else "")
        view.timeline.append({
            "action": event.action, "label": ACTION_LABELS.get(event.action, event.action),
            "actor_name": names.get(event.actor_id, "系统") if event.actor_id else "系统",
            "status": (event.after or {}).get("status"), "note": note, "at": event.created_at})
    view.actions = available_actions(repair, roles)
    return view


def available_actions(repair: Repair, roles: set[str]) -> list[str]:
    actions = [a for a in machine.actions_for(repair.status, roles) if a != "auto_confirm"]
    if "reopen" in actions and reopen_window_passed(repair, clock.now()):
        actions.remove("reopen")
    if repair.status in OPEN and roles & {"dispatcher", "admin"}:
        actions.append("reprioritise")
    if (ASSIGNEE in roles and repair.status in (Status.IN_PROGRESS, Status.ON_HOLD)) or \
            (REPORTER in roles and repair.status in OPEN):
        actions.append("add_photos")
    return sorted(actions)


def list_mine(*, actor: Actor, params: PageParams, status: str | None = None) -> list[RepairView]:
    followed = select(RepairFollower.repair_id).where(RepairFollower.user_id == actor.user_id)
    stmt = (select(Repair).where(or_(Repair.reporter_id == actor.user_id, Repair.id.in_(followed)))
            .order_by(Repair.id.desc()))
    if status:
        stmt = stmt.where(Repair.status == status)
    return _views(actor, paginate(stmt, params))


TASK_TABS = {
    "new": [Status.ASSIGNED],
    "active": [Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD],
    "done": [Status.COMPLETED, Status.CONFIRMED, Status.CANCELLED],
}


def list_tasks(*, actor: Actor, params: PageParams, tab: str = "new") -> list[RepairView]:
    """A worker's tasks: new (assigned to me, or waiting in my groups' pool), active, done."""
    require_roles(actor, "worker", error_code="repairs.forbidden", message="仅维修工可查看维修任务")
    statuses = [str(s) for s in TASK_TABS[tab]]
    mine = and_(Repair.assignee_id == actor.user_id, Repair.status.in_(statuses))
    if tab == "new":
        groups = select(WorkerGroupMember.group_id).where(WorkerGroupMember.user_id == actor.user_id)
        pool = and_(Repair.status == Status.SUBMITTED, Repair.assignee_id.is_(None), Repair.group_id.in_(groups),
                    actor.user_id != all_(Repair.declined_by))
        stmt = select(Repair).where(or_(mine, pool))
    else:
        stmt = select(Repair).where(mine)
    if tab == "done":
        stmt = stmt.order_by(Repair.updated_at.desc(), Repair.id.desc())
    else:
        stmt = stmt.order_by(case((Repair.urgency == Urgency.URGENT, 0), else_=1), Repair.due_at.asc().nulls_last(),
                             Repair.id)
    return _views(actor, paginate(stmt, params))


QUEUE_SORTS = ("due", "urgent", "newest", "oldest")
"""How the dispatcher's queue may be ordered: ``due`` (overdue first, then by the next deadline: the
default), ``urgent`` (urgent first, then as ``due``), ``newest`` / ``oldest`` (by when it was reported)."""


def list_queue(*, actor: Actor, params: PageParams, status: str | None = None, overdue: bool = False,
               unassigned: bool = False, category_id: int | None = None, building_id: int | None = None,
               sort: str = "due") -> list[RepairView]:
    """The dispatcher's queue: open work (or one status), of one category or building if asked, overdue
    first, then by the next deadline (or another of ``QUEUE_SORTS``)."""
    require_roles(actor, "dispatcher", "admin", error_code="repairs.forbidden", message="仅调度员可查看派单队列")
    now = clock.now()
    stmt = select(Repair).where(Repair.status == status if status else Repair.status.in_(OPEN))
    if overdue:
        stmt = stmt.where(Repair.due_at <= now)
    if unassigned:
        stmt = stmt.where(Repair.assignee_id.is_(None))
    if category_id is not None:
        stmt = stmt.where(Repair.category_id == category_id)
    if building_id is not None:
        stmt = stmt.where(Repair.building_id == building_id)
    by_due = (case((Repair.due_at <= now, 0), else_=1), Repair.due_at.asc().nulls_last(), Repair.id)
    orders = {"due": by_due, "urgent": (case((Repair.urgency == Urgency.URGENT, 0), else_=1), *by_due),
              "newest": (Repair.created_at.desc(), Repair.id.desc()), "oldest": (Repair.created_at, Repair.id)}
    if sort not in orders:
        raise invalid("sort", "排序方式不正确")
    return _views(actor, paginate(stmt.order_by(*orders[sort]), params))

