"""The workflow: ``perform`` runs one action for a person. Whether the action exists in the repair's status
and whether their role on it allows it comes from the state machine (``states.TRANSITIONS``); the rest of
each action's rule is its handler here (assign, transfer, accept, decline, start, hold, resume, complete,
confirm, cancel, reopen). Also: a dispatcher changing the urgency, and the automatic confirmation."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select, update

from app.core import audit, clock, timers
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import ValidationFailed
from app.core.statemachine import ConcurrentChange
from app.notifications import service as notifications
from app.repairs.models import Material, Repair, RepairDeadline, RepairMaterialUse
from app.repairs.service.access import member_groups, roles_on, visible
from app.repairs.service.deadlines import (
    add_deadlines,
    deadline_plan,
    end_hold,
    meet,
    refresh_due,
    replan,
    schedule_pending,
)
from app.repairs.service.dispatch import check_worker, dispatch
from app.repairs.service.errors import RepairNotFound, invalid
from app.repairs.service.lifecycle import ENTITY, OPEN, fire, ignored, machine, reopen_window_passed
from app.repairs.service.notices import (
    STATUS_CHANGED,
    TASK,
    link_to,
    name_of,
    notice_data,
    notify_worker,
    repair_title,
    tell_reporters,
)
from app.repairs.service.photos import claim_photos, photo_count
from app.repairs.service.policies import sla_spans
from app.repairs.service.views import RepairView, detail_view
from app.repairs.states import (
    AUTO_CONFIRM_DAYS,
    AUTO_RATING,
    MAX_PHOTOS,
    REOPEN_DAYS,
    SYSTEM,
    Status,
    Urgency,
)

AUTO_CONFIRM_TIMER = "repairs.auto_confirm"
"""The timer kind of a completed repair's automatic confirmation (subject: the repair); its handler is
``auto_confirm``. Armed by ``complete``; cancelled by ``confirm``, ``reopen`` and ``cancel``."""


def perform(*, actor: Actor, repair_id: int, action: str, **payload: Any) -> RepairView:
    """Run one workflow action for the actor (the action endpoints all come here); returns the repair as
    the actor now sees it. A repeat of what the actor already did (a double tap, even two at once)
    answers the same, changing nothing and telling nobody."""
    try:
        repair, roles = visible(actor, repair_id)
    except RepairNotFound:
        if action == "accept" and _was_in_my_pool(actor, repair_id):
            raise ConcurrentChange(f"{ENTITY}.concurrent_change", "已被其他师傅接单") from None
        raise
    repeat = _repeat_of(actor, action)
    if ignored(repair, action, actor_id=actor.user_id, roles=roles, repeat=repeat):
        return detail_view(actor, repair, roles)
    machine.check(repair.status, action, roles)  # status and role first, then the payload's rules
    try:
        _HANDLERS[action](actor, repair, roles, **payload)
    except ConcurrentChange:
        # Lost to a request that changed it first (nothing written yet: every handler fires before it
        # writes). The same tap twice at once: the first one's outcome is this one's answer.
        db.session.refresh(repair)
        roles = roles_on(actor, repair)
        if not ignored(repair, action, actor_id=actor.user_id, roles=roles, repeat=repeat):
            raise
        return detail_view(actor, repair, roles)
    refresh_due(repair)
    return detail_view(actor, repair)


def _repeat_of(actor: Actor, action: str) -> dict[str, Any] | bool | None:
    """What makes a repeat of ``action`` the same request, for the repeatable events of
    ``states.TRANSITIONS``: the worker's steps by the same worker, confirm by the reporter's own rating
    (not after the automatic one), cancel by anyone who may cancel."""
    if action in {"accept", "start", "hold", "resume", "complete"}:
        return {"assignee_id": actor.user_id}
    if action == "confirm":
        return {"rating_auto": False}
    if action == "cancel":
        return True
    return None


def _was_in_my_pool(actor: Actor, repair_id: int) -> bool:
    """A pool task someone else took a moment ago: the late worker learns it was taken (409), not that it
    does not exist; nothing else about it is revealed."""
    repair = db.session.get(Repair, repair_id)
    return (repair is not None and repair.group_id is not None and "worker" in actor.roles
            and repair.group_id in member_groups(actor.user_id))


def _assign(actor: Actor, repair: Repair, roles: set[str], *, worker_id: int, reason: str | None = None) -> None:
    check_worker(worker_id, "worker_id")
    fire(repair, "assign", actor_id=actor.user_id, roles=roles, expect={"assignee_id": None},
         values={"assignee_id": worker_id, "assigned_at": clock.now()},
         data={"worker_id": worker_id} | ({"reason": reason} if reason else {}))
    notify_worker(repair, worker_id)


def _transfer(actor: Actor, repair: Repair, roles: set[str], *, worker_id: int, reason: str | None = None) -> None:
    check_worker(worker_id, "worker_id")
    previous = repair.assignee_id
    if worker_id == previous:
        raise invalid("worker_id", "已经是这位维修工", "repairs.same_worker")
    was_on_hold = repair.status == Status.ON_HOLD
    held_at = repair.held_at
    fire(repair, "transfer", actor_id=actor.user_id, roles=roles, expect={"assignee_id": previous},
         values={"assignee_id": worker_id, "assigned_at": clock.now(), "held_at": None},
         data={"worker_id": worker_id, "from_worker_id": previous} | ({"reason": reason} if reason else {}))
    if was_on_hold:
        end_hold(repair, held_at)
    notify_worker(repair, worker_id)
    if previous is not None:
        notifications.notify(
            user_id=previous, event=TASK.event, title=f"任务已转派：{repair_title(repair)}",
            body=reason or "调度已将此任务转给其他师傅", data=notice_data(repair), link=link_to(repair),
            idempotency_key=f"repairs:{repair.id}:{repair.step}:moved:{previous}")


def _accept(actor: Actor, repair: Repair, roles: set[str]) -> None:
    now = clock.now()
    values = {"accepted_at": func.coalesce(Repair.accepted_at, now)}
    if repair.status == Status.SUBMITTED:  # taken from the group's pool
        values |= {"assignee_id": actor.user_id, "assigned_at": now}
        expect = {"assignee_id": None}
    else:
        expect = {"assignee_id": actor.user_id}
    fire(repair, "accept", actor_id=actor.user_id, roles=roles, values=values, expect=expect)
    meet(repair, "accept", now)
    tell_reporters(repair, "accept", actor.user_id, f"{name_of(actor.user_id)}已接单，将尽快上门")


def _decline(actor: Actor, repair: Repair, roles: set[str], *, reason: str) -> None:
    declined = sorted(set(repair.declined_by or []) | {actor.user_id})
    fire(repair, "decline", actor_id=actor.user_id, roles=roles, expect={"assignee_id": actor.user_id},
         values={"assignee_id": None, "assigned_at": None, "declined_by": declined}, data={"reason": reason})
    dispatch(repair)


def _start(actor: Actor, repair: Repair, roles: set[str]) -> None:
    now = clock.now()
    fire(repair, "start", actor_id=actor.user_id, roles=roles, expect={"assignee_id": actor.user_id},
         values={"started_at": now})
    meet(repair, "start", now)
    tell_reporters(repair, "start", actor.user_id, f"{name_of(actor.user_id)}已到场维修")


def _hold(actor: Actor, repair: Repair, roles: set[str], *, reason: str) -> None:
    fire(repair, "hold", actor_id=actor.user_id, roles=roles, expect={"assignee_id": actor.user_id},
         values={"held_at": clock.now()}, data={"reason": reason})
    schedule_pending(repair)  # nothing escalates on hold: resuming arms the timer again
    tell_reporters(repair, "hold", actor.user_id, f"暂停维修：{reason}")


def _resume(actor: Actor, repair: Repair, roles: set[str]) -> None:
    held_at = repair.held_at
    fire(repair, "resume", actor_id=actor.user_id, roles=roles, expect={"assignee_id": actor.user_id},
         values={"held_at": None})
    end_hold(repair, held_at)
    tell_reporters(repair, "resume", actor.user_id, "已继续维修")


def _complete(actor: Actor, repair: Repair, roles: set[str], *, labour_minutes: int,
              materials: list[dict[str, Any]] | None = None, note: str | None = None,
              photo_ids: list[int] | None = None) -> None:
    lines = _material_lines(materials or [])
    cost = sum(line["cost_fen"] for line in lines)
    now = clock.now()
    photo_ids = list(photo_ids or [])
    if photo_ids and photo_count(repair.id, "after") + len(set(photo_ids)) > MAX_PHOTOS:
        raise invalid("photo_ids", f"最多 {MAX_PHOTOS} 张照片", "repairs.too_many_photos")
    fire(repair, "complete", actor_id=actor.user_id, roles=roles, expect={"assignee_id": actor.user_id},
         values={"completed_at": now, "labour_minutes": func.coalesce(Repair.labour_minutes, 0) + labour_minutes,
                 "material_cost_fen": Repair.material_cost_fen + cost, "completion_note": note or None},
         data={"labour_minutes": labour_minutes, "material_cost_fen": cost, "photos": photo_ids}
         | ({"note": note} if note else {}))
    for line in lines:
        db.session.add(RepairMaterialUse(repair_id=repair.id, **line))
    claim_photos(actor, photo_ids, repair, "after")
    db.session.flush()
    db.session.expire(repair, ["materials"])
    meet(repair, "complete", now)
    timers.schedule(AUTO_CONFIRM_TIMER, repair.id, _auto_confirm_at(repair))
    tell_reporters(repair, "complete", actor.user_id, "维修已完成，请确认并评价")


def _material_lines(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = {int(item["material_id"]) for item in items}
    catalogue = {m.id: m for m in db.session.scalars(
        select(Material).where(Material.id.in_(ids), Material.active.is_(True)))}
    unknown = sorted(ids - set(catalogue))
    if unknown:
        raise invalid("materials", "材料不存在或已停用", "repairs.unknown_material")
    lines = []
    for item in items:
        material = catalogue[int(item["material_id"])]
        quantity = Decimal(str(item["quantity"])).quantize(Decimal("0.01"))
        cost = int((quantity * material.unit_cost_fen).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        lines.append({"material_id": material.id, "name": material.name, "unit": material.unit,
                      "quantity": quantity, "unit_cost_fen": material.unit_cost_fen, "cost_fen": cost})
    return lines


def _confirm(actor: Actor, repair: Repair, roles: set[str], *, rating: int, tags: list[str] | None = None,
             comment: str | None = None) -> None:
    now = clock.now()
    fire(repair, "confirm", actor_id=actor.user_id, roles=roles,
         values={"rating": rating, "rating_tags": list(dict.fromkeys(tags or [])), "rating_comment": comment or None,
                 "rating_auto": False, "rated_at": now, "closed_at": now},
         data={"rating": rating})
    timers.cancel(AUTO_CONFIRM_TIMER, repair.id)
    if repair.assignee_id:
        notifications.notify(
            user_id=repair.assignee_id, event=STATUS_CHANGED.event, title=f"报修已评价：{repair_title(repair)}",
            body=f"评分 {rating} 星" + (f"：{comment}" if comment else ""),
            data=notice_data(repair, state="已评价"), link=link_to(repair),
            idempotency_key=f"repairs:{repair.id}:{repair.step}:rated")


def _auto_confirm_at(repair: Repair) -> datetime:
    return repair.completed_at + timedelta(days=AUTO_CONFIRM_DAYS)


def auto_confirm(repair_id: int) -> bool:
    """Timer ``repairs.auto_confirm`` fired: close a repair the reporter left unconfirmed for
    ``AUTO_CONFIRM_DAYS`` days, with the default rating flagged as automatic. Re-checks everything; a
    second run does nothing, an early one waits for the due time again. Losing a race with the reporter
    confirming at that moment is the expected outcome (False), not an error to retry."""
    repair = db.session.get(Repair, repair_id)
    now = clock.now()
    if repair is None or repair.status != Status.COMPLETED or repair.completed_at is None:
        return False
    due = _auto_confirm_at(repair)
    if due > now:
        if timers.pending(AUTO_CONFIRM_TIMER, repair.id) is None:
            timers.schedule(AUTO_CONFIRM_TIMER, repair.id, due)
        return False
    try:
        fire(repair, "auto_confirm", actor_id=None, roles={SYSTEM}, expect={"completed_at": repair.completed_at},
             values={"rating": AUTO_RATING, "rating_tags": [], "rating_comment": None, "rating_auto": True,
                     "rated_at": now, "closed_at": now})
    except ConcurrentChange:
        return False
    tell_reporters(repair, "auto_confirm", None, f"{AUTO_CONFIRM_DAYS}天未确认，系统已自动确认")
    return True


def _cancel(actor: Actor, repair: Repair, roles: set[str], *, reason: str | None = None) -> None:
    now = clock.now()
    assignee = repair.assignee_id
    fire(repair, "cancel", actor_id=actor.user_id, roles=roles, values={"closed_at": now, "held_at": None},
         data={"reason": reason} if reason else None)
    db.session.execute(update(RepairDeadline).where(
        RepairDeadline.repair_id == repair.id, RepairDeadline.met_at.is_(None), RepairDeadline.voided_at.is_(None))
        .values(voided_at=now))
    schedule_pending(repair)
    timers.cancel(AUTO_CONFIRM_TIMER, repair.id)
    tell_reporters(repair, "cancel", actor.user_id, reason or "报修已取消")
    if assignee and assignee != actor.user_id:
        notifications.notify(
            user_id=assignee, event=TASK.event, title=f"任务已取消：{repair_title(repair)}",
            body=reason or "报修已取消", data=notice_data(repair), link=link_to(repair),
            idempotency_key=f"repairs:{repair.id}:{repair.step}:cancelled")


def _reopen(actor: Actor, repair: Repair, roles: set[str], *, reason: str) -> None:
    now = clock.now()
    if reopen_window_passed(repair, now):
        raise ValidationFailed("repairs.reopen_window", f"已超过{REOPEN_DAYS}天，请重新报修")
    previous = repair.assignee_id
    rating = {"rating": repair.rating, "rating_auto": repair.rating_auto} if repair.rating else {}
    fire(repair, "reopen", actor_id=actor.user_id, roles=roles,
         values={"assignee_id": None, "assigned_at": None, "declined_by": [], "sla_round": Repair.sla_round + 1,
                 "round_started_at": now, "closed_at": None, "rating": None, "rating_tags": [],
                 "rating_comment": None, "rating_auto": False, "rated_at": None},
         data={"reason": reason, **rating})
    timers.cancel(AUTO_CONFIRM_TIMER, repair.id)
    add_deadlines(repair, deadline_plan(repair.sla, now))
    tell_reporters(repair, "reopen", actor.user_id, f"已重新报修：{reason}")
    dispatch(repair, prefer=previous)


_HANDLERS = {
    "assign": _assign, "transfer": _transfer, "accept": _accept, "decline": _decline, "start": _start,
    "hold": _hold, "resume": _resume, "complete": _complete, "confirm": _confirm, "cancel": _cancel,
    "reopen": _reopen,
}


def reprioritise(*, actor: Actor, repair_id: int, urgency: str, reason: str | None = None) -> RepairView:
    """A dispatcher changes the urgency: the deadlines not yet met follow the new policy, counted from the
    start of the round (audited; the worker is told when it became urgent)."""
    repair, _roles = visible(actor, repair_id)
    require_roles(actor, "dispatcher", "admin", error_code="repairs.forbidden", message=machine.messages["forbidden"])
    if repair.status not in OPEN:
        raise machine.invalid(repair.status, "reprioritise")
    if repair.urgency == urgency:
        return detail_view(actor, repair)
    before = repair.urgency
    spans = sla_spans(repair.category_id, urgency)
    repair.urgency, repair.sla = urgency, spans
    db.session.flush()
    replan(repair, deadline_plan(spans, repair.round_started_at))
    audit.record(ENTITY, repair.id, "reprioritise", actor_id=actor.user_id, before={"urgency": before},
                 after={"urgency": urgency}, data={"reason": reason} if reason else None)
    refresh_due(repair)
    if urgency == Urgency.URGENT and repair.assignee_id:
        notify_worker(repair, repair.assignee_id, upgraded=True)
    return detail_view(actor, repair)
