"""Teams: worker groups (dispatch mode, members, who is on duty), the list of workers a dispatcher assigns
from, and the dispatch rules that send (category × building) to a group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import Conflict, NotFound
from app.places import service as places_service
from app.repairs.models import DispatchRule, Repair, RepairCategory, WorkerGroup, WorkerGroupMember
from app.repairs.service.catalogue import plain
from app.repairs.service.dispatch import check_worker, lock_group, redispatch_queued
from app.repairs.service.errors import invalid
from app.repairs.service.lifecycle import LOAD
from app.repairs.states import DispatchMode
from app.users import service as users_service


@dataclass
class GroupView:
    id: int
    name: str
    dispatch_mode: str
    active: bool
    members: list[dict[str, Any]]


def group_view(group: WorkerGroup) -> GroupView:
    names = users_service.display_names(m.user_id for m in group.members)
    return GroupView(group.id, group.name, group.dispatch_mode, group.active,
                     [{"user_id": m.user_id, "name": names.get(m.user_id, ""), "on_duty": m.on_duty}
                      for m in group.members])


def list_groups(*, actor: Actor) -> list[GroupView]:
    require_roles(actor, "dispatcher", "admin")
    return [group_view(g) for g in db.session.scalars(select(WorkerGroup).order_by(WorkerGroup.id))]


def create_group(*, actor: Actor, name: str, dispatch_mode: str = DispatchMode.AUTO) -> GroupView:
    require_roles(actor, "dispatcher", "admin")
    if db.session.scalar(select(WorkerGroup.id).where(WorkerGroup.name == name)):
        raise Conflict("repairs.group_exists", "维修组名称已存在")
    group = WorkerGroup(name=name, dispatch_mode=str(dispatch_mode))
    db.session.add(group)
    db.session.flush()
    audit.record("repair_group", group.id, "create", actor_id=actor.user_id,
                 after={"name": name, "dispatch_mode": str(dispatch_mode)})
    return group_view(group)


def update_group(*, actor: Actor, group_id: int, **values: Any) -> GroupView:
    require_roles(actor, "dispatcher", "admin")
    group = _group(group_id)
    before = {k: getattr(group, k) for k in values}
    for key, value in values.items():
        setattr(group, key, value)
    db.session.flush()
    audit.record("repair_group", group.id, "update", actor_id=actor.user_id, before=before, after=plain(values))
    return group_view(group)


def set_member(*, actor: Actor, group_id: int, user_id: int, on_duty: bool = True) -> GroupView:
    """Add a worker to a group, or set their on-duty flag. Coming on duty picks up queued work."""
    require_roles(actor, "dispatcher", "admin")
    group = _group(group_id)
    check_worker(user_id, "user_id")
    lock_group(group.id)  # before the member's row: the order dispatch takes them in
    stmt = insert(WorkerGroupMember).values(group_id=group.id, user_id=user_id, on_duty=on_duty)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["group_id", "user_id"], set_={"on_duty": on_duty, "updated_at": clock.now()}))
    audit.record("repair_group", group.id, "set_member", actor_id=actor.user_id,
                 after={"user_id": user_id, "on_duty": on_duty})
    db.session.expire(group)
    if on_duty:
        redispatch_queued(group_id=group.id)
    return group_view(group)


def remove_member(*, actor: Actor, group_id: int, user_id: int) -> GroupView:
    require_roles(actor, "dispatcher", "admin")
    group = _group(group_id)
    lock_group(group.id)
    done = db.session.execute(delete(WorkerGroupMember).where(
        WorkerGroupMember.group_id == group.id, WorkerGroupMember.user_id == user_id)).rowcount
    if not done:
        raise NotFound("repairs.member_not_found", "该维修工不在此组")
    audit.record("repair_group", group.id, "remove_member", actor_id=actor.user_id, before={"user_id": user_id})
    db.session.expire(group)
    return group_view(group)


def _group(group_id: int) -> WorkerGroup:
    group = db.session.get(WorkerGroup, group_id)
    if group is None:
        raise NotFound("repairs.group_not_found", "维修组不存在")
    return group


@dataclass
class WorkerView:
    user_id: int
    name: str
    open_count: int
    groups: list[dict[str, Any]]


def list_workers(*, actor: Actor) -> list[WorkerView]:
    """Every active worker with their open work and groups: the dispatcher's assign picker."""
    require_roles(actor, "dispatcher", "admin")
    workers = set(users_service.users_with_roles("worker"))
    names = users_service.display_names(workers)
    loads = dict(db.session.execute(
        select(Repair.assignee_id, func.count()).where(Repair.assignee_id.in_(workers), Repair.status.in_(LOAD))
        .group_by(Repair.assignee_id)).all()) if workers else {}
    memberships: dict[int, list[dict[str, Any]]] = {}
    rows = db.session.execute(select(WorkerGroupMember, WorkerGroup.name).join(WorkerGroup).where(
        WorkerGroupMember.user_id.in_(workers))).all() if workers else []
    for member, group_name in rows:
        memberships.setdefault(member.user_id, []).append(
            {"id": member.group_id, "name": group_name, "on_duty": member.on_duty})
    return sorted((WorkerView(uid, names.get(uid, ""), loads.get(uid, 0), memberships.get(uid, []))
                   for uid in workers), key=lambda w: (w.open_count, w.user_id))


def list_rules(*, actor: Actor) -> list[DispatchRule]:
    require_roles(actor, "dispatcher", "admin")
    stmt = select(DispatchRule).order_by(DispatchRule.category_id.nulls_last(), DispatchRule.building_id.nulls_last())
    return list(db.session.scalars(stmt))


def put_rule(*, actor: Actor, category_id: int | None, building_id: int | None, group_id: int) -> DispatchRule:
    """Send (category or any) × (building or any) to a group; replaces the rule of the same scope."""
    require_roles(actor, "dispatcher", "admin")
    _group(group_id)
    if category_id is not None and db.session.get(RepairCategory, category_id) is None:
        raise invalid("category_id", "类别不存在")
    if building_id is not None:
        try:
            building = places_service.get_place(building_id)
        except NotFound as exc:
            raise invalid("building_id", "楼栋不存在") from exc
        if building.kind != "building":
            raise invalid("building_id", "请选择楼栋")
    rule = db.session.scalars(select(DispatchRule).where(
        DispatchRule.category_id.is_(None) if category_id is None else DispatchRule.category_id == category_id,
        DispatchRule.building_id.is_(None) if building_id is None else DispatchRule.building_id == building_id,
    )).first()
    if rule is None:
        rule = DispatchRule(category_id=category_id, building_id=building_id, group_id=group_id)
        db.session.add(rule)
    else:
        rule.group_id = group_id
    db.session.flush()
    audit.record("repair_dispatch_rule", rule.id, "put", actor_id=actor.user_id,
                 after={"category_id": category_id, "building_id": building_id, "group_id": group_id})
    return rule


def delete_rule(*, actor: Actor, rule_id: int) -> None:
    require_roles(actor, "dispatcher", "admin")
    rule = db.session.get(DispatchRule, rule_id)
    if rule is None:
        raise NotFound("repairs.rule_not_found", "派单规则不存在")
    audit.record("repair_dispatch_rule", rule.id, "delete", actor_id=actor.user_id,
                 before={"category_id": rule.category_id, "building_id": rule.building_id, "group_id": rule.group_id})
    db.session.delete(rule)
    db.session.flush()
