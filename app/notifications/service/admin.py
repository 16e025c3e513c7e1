"""What admins do: notices to roles, the deliveries' list and figures, retrying a dead one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import PageParams, paginate
from app.notifications import templates
from app.notifications.models import Delivery
from app.notifications.service.outbox import delivery_machine, notify_many, request_drain
from app.notifications.states import (
    DeliveryStatus,
    Urgency,
)
from app.notifications.templates import TemplateSpec
from app.users import service as users_service

NOTICE = templates.register(TemplateSpec(
    event="notifications.notice", title="后勤通知", page="pages/messages/messages",
    fields={"thing1": "title", "thing2": "body", "time3": "at"},
))
"""A notice from the logistics office (停水、停电、放假安排 …) to everyone holding some roles."""
MAX_NOTICE_AUDIENCE = 20_000
MAX_FIGURE_DAYS = 92
"""``delivery_counts_by_day`` looks at most this many days past its first."""

# --- notices ----------------------------------------------------------------------------------------------


def send_notice(*, actor: Actor, title: str, body: str, roles: list[str], urgency: str = Urgency.NORMAL) -> int:
    """Notify every active user holding any of ``roles``; returns how many were told (audited)."""
    require_roles(actor, "admin")
    audience = users_service.users_with_roles(*roles)
    if len(audience) > MAX_NOTICE_AUDIENCE:
        raise ValidationFailed("notifications.audience_too_large", f"一次最多通知 {MAX_NOTICE_AUDIENCE} 人")
    now = clock.now()
    event_id = audit.record("notice", 0, "send", actor_id=actor.user_id,
                         after={"title": title, "roles": sorted(roles), "audience": len(audience)})
    notify_many(user_ids=audience, event=NOTICE.event, title=title, body=body, urgency=urgency,
                data={"at": now.isoformat(), "notice_id": event_id}, idempotency_key=f"notice:{event_id}")
    return len(audience)


# --- admin ------------------------------------------------------------------------------------------------


def list_deliveries(*, actor: Actor, params: PageParams, status: str | None = None,
                    channel: str | None = None) -> list[Delivery]:
    require_roles(actor, "admin")
    stmt = select(Delivery).order_by(Delivery.id.desc())
    if status:
        stmt = stmt.where(Delivery.status == status)
    if channel:
        stmt = stmt.where(Delivery.channel == channel)
    page = paginate(stmt, params)
    names = users_service.contacts([d.notification.user_id for d in page])
    for d in page:
        who = names.get(d.notification.user_id)
        d.recipient = who.name if who else None
    return page


def delivery_counts(*, actor: Actor, since: datetime | None = None, until: datetime | None = None,
                    statuses: Iterable[str] | None = None) -> dict[str, int]:
    """Deliveries per status, of those created in ``[since, until)`` (open ends: no bound): the figures
    beside the dead-letter list, 首页 and 月报. Every status is listed, or those of ``statuses`` only —
    ``("failed", "dead")`` over all time reads ``ix_notification_deliveries_due`` (status first), so it
    costs what is unfinished, not the whole history."""
    require_roles(actor, "admin")
    wanted = [str(s) for s in DeliveryStatus] if statuses is None else [str(DeliveryStatus(s)) for s in statuses]
    stmt = select(Delivery.status, func.count()).group_by(Delivery.status)
    if statuses is not None:
        stmt = stmt.where(Delivery.status.in_(wanted))
    if since is not None:
        stmt = stmt.where(Delivery.created_at >= since)
    if until is not None:
        stmt = stmt.where(Delivery.created_at < until)
    counts = dict(db.session.execute(stmt).all())
    return {s: int(counts.get(s, 0)) for s in wanted}


def delivery_counts_by_day(*, actor: Actor, start: date, end: date) -> list[dict[str, Any]]:
    """Deliveries created on each school day from ``start`` to ``end`` (both included, every day listed),
    per status (every status listed): the console's 推送统计 by day."""
    require_roles(actor, "admin")
    if end < start:
        raise ValidationFailed(message="结束日期不能早于开始日期", errors={"end": ["结束日期不能早于开始日期"]})
    if (end - start).days > MAX_FIGURE_DAYS:
        raise ValidationFailed(message=f"一次最多查看 {MAX_FIGURE_DAYS + 1} 天", errors={"end": ["时间段太长"]})
    zone = clock.school_zone()
    day = func.date(func.timezone(str(zone), Delivery.created_at))
    rows = db.session.execute(
        select(day, Delivery.status, func.count()).where(
            Delivery.created_at >= datetime.combine(start, time(0), tzinfo=zone),
            Delivery.created_at < datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone))
        .group_by(day, Delivery.status)).all()
    counts: dict[date, dict[str, int]] = {}
    for when, status, n in rows:
        counts.setdefault(when, {})[str(status)] = int(n)
    return [{"day": start + timedelta(days=i),
             **{str(s): counts.get(start + timedelta(days=i), {}).get(str(s), 0) for s in DeliveryStatus}}
            for i in range((end - start).days + 1)]


def retry_delivery(*, actor: Actor, delivery_id: int) -> Delivery:
    require_roles(actor, "admin")
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("notifications.not_found", "消息不存在")
    now = clock.now()
    moved = delivery_machine.fire(delivery, "retry", actor_id=actor.user_id, roles=actor.roles, repeat=True,
                                  values={"attempts": 0, "next_attempt_at": now, "last_error": None})
    if not moved.ignored:
        request_drain(now, now)
    return delivery
