"""What people are told: the three subscribe-message templates (a task for a worker, progress for the
reporters, an alert for dispatchers and admins) and the helpers that word and send a repair's notifications
(idempotency keys include the repair's step, so a retried step never tells anyone twice). Several people
told the same thing (a pool, the dispatchers, the reporters) go through ``notify_many`` in a few statements;
its per-recipient key ``<prefix>:<user id>`` is the key each of them had when they were told one by one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.db import db
from app.notifications import service as notifications
from app.notifications import templates
from app.notifications.templates import TemplateSpec
from app.repairs.models import Repair, RepairFollower
from app.repairs.states import NOTIFY_REPORTER_ACTIONS, STATUS_LABELS, URGENCY_LABELS, Status, Urgency
from app.users import service as users_service

DETAIL_PAGE = "packageRepairs/pages/detail/detail?id={repair_id}"

TASK = templates.register(TemplateSpec(
    event="repairs.task", title="维修任务提醒", page=DETAIL_PAGE,
    fields={"thing1": "title", "thing2": "place", "phrase3": "urgency_label", "time4": "at"},
))
"""To a worker: a task was assigned to them, or waits in their group's pool."""
STATUS_CHANGED = templates.register(TemplateSpec(
    event="repairs.status", title="报修进度通知", page=DETAIL_PAGE,
    fields={"thing1": "title", "phrase2": "state", "thing3": "body", "time4": "at"},
))
"""To the reporter (and linked reporters): their repair moved."""
ALERT = templates.register(TemplateSpec(
    event="repairs.alert", title="报修超时提醒", page=DETAIL_PAGE,
    fields={"thing1": "title", "thing2": "body", "time3": "due"},
))
"""To dispatchers and admins: a deadline was missed, or a repair found nobody to do it."""


def _short_place(repair: Repair) -> str:
    parts = [p.strip() for p in repair.place_name.split("›")]
    return " ".join(parts[1:] if len(parts) > 1 else parts)


def repair_title(repair: Repair) -> str:
    return f"{repair.category.name} · {_short_place(repair)}"


def notice_data(repair: Repair, **extra: Any) -> dict[str, Any]:
    return {"repair_id": repair.id, "place": _short_place(repair),
            "urgency_label": URGENCY_LABELS[Urgency(repair.urgency)], "at": clock.now().isoformat(),
            "state": STATUS_LABELS[Status(repair.status)], **extra}


def link_to(repair: Repair) -> str:
    return "/" + DETAIL_PAGE.format(repair_id=repair.id)


def name_of(user_id: int | None) -> str:
    if user_id is None:
        return ""
    return users_service.display_names([user_id]).get(user_id, "")


def _task(repair: Repair, prefix: str) -> dict[str, Any]:
    return {"event": TASK.event, "title": f"{prefix}：{repair_title(repair)}", "body": repair.description[:100],
            "data": notice_data(repair), "link": link_to(repair),
            "urgency": "urgent" if repair.urgency == Urgency.URGENT else "normal"}


def notify_worker(repair: Repair, user_id: int, *, upgraded: bool = False) -> None:
    """A task was given to this worker (or became urgent)."""
    notifications.notify(user_id=user_id, **_task(repair, "紧急任务" if upgraded else "新维修任务"),
                         idempotency_key=f"repairs:{repair.id}:{repair.step}:task:{user_id}"
                         + (":urgent" if upgraded else ""))


def notify_pool(repair: Repair, user_ids: list[int]) -> None:
    """A task waits in the group's pool: every on-duty member is told, in one go (one message each, keyed
    ``repairs:<id>:<step>:task:<user id>``)."""
    notifications.notify_many(user_ids=user_ids, **_task(repair, "新任务待接单"),
                              idempotency_key=f"repairs:{repair.id}:{repair.step}:task")


def alert_dispatchers(repair: Repair, body: str) -> None:
    notifications.notify_many(
        user_ids=users_service.users_with_roles("dispatcher"), event=ALERT.event,
        title=f"待派单：{repair_title(repair)}", body=body,
        data=notice_data(repair, due=(repair.due_at or clock.now()).isoformat()), link=link_to(repair),
        urgency="urgent" if repair.urgency == Urgency.URGENT else "normal",
        idempotency_key=f"repairs:{repair.id}:{repair.step}:queue")


def tell_reporters(repair: Repair, action: str, actor_id: int | None, body: str) -> None:
    if action not in NOTIFY_REPORTER_ACTIONS:
        return
    followers = db.session.scalars(select(RepairFollower.user_id).where(RepairFollower.repair_id == repair.id)).all()
    notifications.notify_many(
        user_ids=[uid for uid in {repair.reporter_id, *followers} if uid != actor_id], event=STATUS_CHANGED.event,
        title=f"{STATUS_LABELS[Status(repair.status)]}：{repair_title(repair)}", body=body,
        data=notice_data(repair), link=link_to(repair), idempotency_key=f"repairs:{repair.id}:{repair.step}")
