"""Who is asking: a person's roles on one repair (their own roles plus reporter, assignee, member of the
pool it waits in, linked reporter; see ``states.py``), whether they may see it at all, and which of those
roles see its photos and the reporter's full phone number."""

from __future__ import annotations

from sqlalchemy import select

from app.core.auth import Actor, require_roles
from app.core.db import db
from app.repairs.models import Repair, RepairFollower, WorkerGroupMember
from app.repairs.service.errors import RepairNotFound
from app.repairs.states import ASSIGNEE, GROUP_MEMBER, REPORTER, Status

PHOTO_ROLES = frozenset({REPORTER, ASSIGNEE, "dispatcher", "admin"})
SEE_ROLES = frozenset({REPORTER, ASSIGNEE, GROUP_MEMBER, "follower", "dispatcher", "admin"})
FULL_PHONE_ROLES = frozenset({REPORTER, ASSIGNEE, "dispatcher", "admin"})


def member_groups(user_id: int) -> set[int]:
    return set(db.session.scalars(select(WorkerGroupMember.group_id).where(WorkerGroupMember.user_id == user_id)))


def roles_on(actor: Actor, repair: Repair, *, groups: set[int] | None = None,
             followed: set[int] | None = None) -> set[str]:
    """The actor's roles plus their relation to this repair (see states.py). For a list, pass what holds
    for all its repairs: ``groups`` (the actor's worker groups) and ``followed`` (which of them the actor
    follows); else they are read for this one repair."""
    roles = set(actor.roles)
    if repair.reporter_id == actor.user_id:
        roles.add(REPORTER)
    if repair.assignee_id is not None and repair.assignee_id == actor.user_id:
        roles.add(ASSIGNEE)
    if (repair.status == Status.SUBMITTED and repair.assignee_id is None and repair.group_id is not None
            and "worker" in actor.roles and actor.user_id not in (repair.declined_by or [])
            and repair.group_id in (member_groups(actor.user_id) if groups is None else groups)):
        roles.add(GROUP_MEMBER)
    if REPORTER not in roles and (repair.id in followed if followed is not None else db.session.scalar(
            select(RepairFollower.id).where(RepairFollower.repair_id == repair.id,
                                            RepairFollower.user_id == actor.user_id)) is not None):
        roles.add("follower")
    return roles


def visible(actor: Actor, repair_id: int) -> tuple[Repair, set[str]]:
    """The repair and the actor's roles on it; someone else's repair is the same 404 as none."""
    repair = db.session.get(Repair, repair_id)
    roles = roles_on(actor, repair) if repair is not None else set()
    if repair is None or not (roles & SEE_ROLES):
        raise RepairNotFound()
    return repair, roles


def require_dispatcher(actor: Actor) -> None:
    """403 unless the actor dispatches (dispatchers, admins): the managers' pages of repairs."""
    require_roles(actor, "dispatcher", "admin", error_code="repairs.forbidden",
                  message="仅调度员和管理员可查看报修管理")
