"""Writing messages: ``notify`` / ``notify_many`` put the inbox row and one delivery per push channel in the
caller's transaction and ask for a drain after commit (or when quiet hours end); the deliveries' state machine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, DateTime, String, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert

from app.core import clock
from app.core.db import db
from app.core.jobs import enqueue_after_commit, schedule_after_commit
from app.core.statemachine import Labels, StateMachine
from app.notifications import templates
from app.notifications.models import Delivery, Notification
from app.notifications.states import (
    STATUS_LABELS,
    TRANSITIONS,
    Channel,
    DeliveryStatus,
    Urgency,
)
from app.users import service as users_service
from app.wechat import gateway

DRAIN_JOB = "app.notifications.jobs.drain"
"""By dotted path: the job module imports this one."""
BULK_CHUNK = 1000
"""``notify_many`` writes this many recipients per statement."""
_TIMESTAMP = DateTime(timezone=True)

delivery_machine = StateMachine(Delivery, TRANSITIONS, entity="notification_delivery",
                                labels=Labels("该消息", STATUS_LABELS, {"retry": "重试"}))


# --- writing ------------------------------------------------------------------------------------------


def notify(*, user_id: int, event: str, title: str, body: str = "", data: dict[str, Any] | None = None,
           link: str | None = None, urgency: str = Urgency.NORMAL, idempotency_key: str) -> Notification:
    """Tell ``user_id`` about ``event``. Same ``idempotency_key`` twice: one message."""
    message = _Message(event, title, body, data or {}, link, Urgency(urgency))
    created = _write(message, [user_id], [idempotency_key])
    if created:
        return db.session.get(Notification, created[0])
    return db.session.scalars(select(Notification).where(Notification.idempotency_key == idempotency_key)).one()


def notify_many(*, user_ids: Iterable[int], event: str, title: str, body: str = "",
                data: dict[str, Any] | None = None, link: str | None = None, urgency: str = Urgency.NORMAL,
                idempotency_key: str) -> int:
    """Tell many people about one thing (an all-staff notice, "your order is ready") in a few statements
    per thousand recipients, without loading them. Each recipient's message is keyed
    ``<idempotency_key>:<user id>``, so a retried call adds only the messages still missing. Returns how
    many messages are new."""
    message = _Message(event, title, body, data or {}, link, Urgency(urgency))
    recipients = sorted(set(user_ids))
    created = 0
    for start in range(0, len(recipients), BULK_CHUNK):
        chunk = recipients[start:start + BULK_CHUNK]
        created += len(_write(message, chunk, [f"{idempotency_key}:{uid}" for uid in chunk]))
    return created


@dataclass(frozen=True)
class _Message:
    event: str
    title: str
    body: str
    data: dict[str, Any]
    link: str | None
    urgency: Urgency


def _write(message: _Message, user_ids: list[int], keys: list[str]) -> list[int]:
    """Inbox rows for ``user_ids`` (one key each; a key seen before is skipped) and their pending
    deliveries, in one statement per table; asks for a drain. Returns the new notification ids."""
    now = clock.now()
    recipients = _unnest(uid=(user_ids, BigInteger), key=(keys, String))
    rows = db.session.execute(
        insert(Notification).from_select(
            ["user_id", "event", "title", "body", "link", "data", "urgency", "idempotency_key", "created_at"],
            select(recipients.c.uid, literal(message.event), literal(message.title[:100]), literal(message.body),
                   literal(message.link, String), literal(message.data, JSONB), literal(str(message.urgency)),
                   recipients.c.key, literal(now, _TIMESTAMP)))
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Notification.id, Notification.user_id)
    ).all()
    if not rows:
        return []
    due = push_due_at(message.urgency, now)
    channels = _channels(message.event, [uid for _nid, uid in rows])
    deliveries = [(nid, str(channel)) for nid, uid in rows for channel in channels[uid]]
    if deliveries:
        v = _unnest(nid=([d[0] for d in deliveries], BigInteger), channel=([d[1] for d in deliveries], String))
        db.session.execute(insert(Delivery).from_select(
            ["notification_id", "channel", "status", "attempts", "next_attempt_at", "created_at", "updated_at"],
            select(v.c.nid, v.c.channel, literal(str(DeliveryStatus.PENDING)), literal(0),
                   literal(due, _TIMESTAMP), literal(now, _TIMESTAMP), literal(now, _TIMESTAMP))))
        request_drain(due, now)
    return [nid for nid, _uid in rows]


def _unnest(**columns: tuple[list[Any], Any]):
    """``unnest(:a, :b) AS t(a, b)``: rows from parallel arrays, each array one bound parameter."""
    arrays = [literal(list(values_), ARRAY(type_)) for values_, type_ in columns.values()]
    return func.unnest(*arrays).table_valued(*columns).render_derived()


def _channels(event: str, user_ids: list[int]) -> dict[int, list[Channel]]:
    """The push channels of each recipient: the subscribe message when the event has a template, WeCom
    for staff when WeCom is configured (their staff numbers looked up in one query)."""
    base = [Channel.SUBSCRIBE] if templates.template_id_for(event) else []
    staff: set[int] = set()
    if gateway.wecom() is not None:
        staff = {uid for uid, c in users_service.contacts(user_ids).items() if c.staff_number}
    return {uid: base + ([Channel.WECOM] if uid in staff else []) for uid in user_ids}


def request_drain(due: datetime, now: datetime) -> None:
    """Ask for a worker to drain the outbox after commit (once per transaction), or at ``due``."""
    if due <= now:
        enqueue_after_commit(DRAIN_JOB, queue="notifications", once=True, retry=None, result_ttl=0)
    else:
        schedule_after_commit(due, DRAIN_JOB, queue="notifications", once=True, retry=None, result_ttl=0)


def _quiet_window() -> tuple[time, time] | None:
    spec = (current_app.config.get("QUIET_HOURS") or "").strip()
    if not spec:
        return None
    start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
    return start, end


def push_due_at(urgency: str, when: datetime) -> datetime:
    """When a push may go out: at once, or — not urgent, inside quiet hours — when they end."""
    window = _quiet_window()
    if urgency == Urgency.URGENT or window is None:
        return when
    start, end = window
    local = clock.to_local(when)
    t = local.timetz().replace(tzinfo=None)
    quiet = (start <= t or t < end) if start > end else (start <= t < end)
    if not quiet:
        return when
    wake = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if wake <= local:
        wake += timedelta(days=1)
    return wake.astimezone(when.tzinfo)
