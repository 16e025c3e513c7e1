"""Repairs reacting to other domains' signals. ``create_app`` calls ``connect()``; importing this module
connects nothing (blinker connections are global, and connecting the same receiver again is harmless)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core import audit
from app.core.db import db
from app.repairs.models import DispatchRule, WorkerGroupMember
from app.users import events as users_events
from app.users import service as users_service


def connect() -> None:
    users_events.user_bound.connect(_worker_bound)


def _worker_bound(user_id: int, kind: str, **_kw: Any) -> None:
    """A worker who binds their WeChat account and belongs to no group joins the default team (the group of
    the catch-all rule), on duty, so their first task does not wait for a dispatcher to remember them."""
    if kind != "staff" or not users_service.with_role([user_id], "worker"):
        return
    if db.session.scalar(select(WorkerGroupMember.id).where(WorkerGroupMember.user_id == user_id).limit(1)):
        return
    group_id = db.session.scalar(select(DispatchRule.group_id).where(
        DispatchRule.category_id.is_(None), DispatchRule.building_id.is_(None)))
    if group_id is None:
        return
    db.session.execute(insert(WorkerGroupMember).values(group_id=group_id, user_id=user_id, on_duty=True)
                       .on_conflict_do_nothing(index_elements=["group_id", "user_id"]))
    audit.record("repair_group", group_id, "set_member", actor_id=user_id,
                 after={"user_id": user_id, "on_duty": True}, data={"reason": "bound"})
