"""Notifications: the outbox, its delivery rules, the inbox, consents and admin retries.

``notify()`` is what every domain calls. It writes the inbox row and one delivery per push channel
in the caller's transaction (unique idempotency key: a retried business action notifies once), and
asks for a ``deliver`` job after commit — or at the end of quiet hours for non-urgent messages.
A worker then ``claim``s the delivery (a conditional UPDATE with a lease, so two workers never send
the same message), ``push``es it to WeChat outside any transaction, and ``finish``es it. The
sweeper re-enqueues anything due that nobody picked up and takes back leases of dead workers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import NotFound, ValidationFailed
from app.core.jobs import enqueue_after_commit, schedule_after_commit
from app.core.pagination import PageParams, paginate
from app.core.statemachine import StateMachine
from app.notifications import events, templates
from app.notifications.models import Delivery, Notification, SubscriptionGrant
from app.notifications.states import (
    BACKOFF_SECONDS,
    MAX_SUBSCRIBE_GRANTS,
    OPEN_STATUSES,
    TRANSITIONS,
    Channel,
    DeliveryStatus,
    Urgency,
)
from app.notifications.templates import TemplateSpec
from app.users import service as users_service
from app.wechat import client as wx
from app.wechat import gateway
from app.wechat.errors import NoSubscriptionQuota, WeChatError

log = logging.getLogger(__name__)

DELIVER_JOB = "app.notifications.jobs.deliver"
"""By dotted path: the job module imports this one."""
PERMANENT_ERRCODES = frozenset({40003, 40037, 41030, 47003, 81013})
"""Bad openid, template, page or data, unknown WeCom user: retrying cannot help."""

NOTICE = templates.register(TemplateSpec(
    event="notifications.notice", title="后勤通知", page="pages/messages/messages",
    fields={"thing1": "title", "thing2": "body", "time3": "at"},
))
"""A notice from the logistics office (停水、停电、放假安排 …) to everyone holding some roles."""
MAX_NOTICE_AUDIENCE = 20_000

delivery_machine = StateMachine(Delivery, TRANSITIONS, entity="notification_delivery",
                                messages={"invalid_transition": "该消息当前状态不能重试"})


# --- writing ------------------------------------------------------------------------------------------


def notify(*, user_id: int, event: str, title: str, body: str = "", data: dict[str, Any] | None = None,
           link: str | None = None, urgency: str = Urgency.NORMAL, idempotency_key: str) -> Notification:
    """Tell ``user_id`` about ``event``. Same ``idempotency_key`` twice: one message."""
    urgency = Urgency(urgency)
    now = clock.now()
    new_id = db.session.execute(
        insert(Notification)
        .values(user_id=user_id, event=event, title=title[:100], body=body, link=link, data=data or {},
                urgency=str(urgency), idempotency_key=idempotency_key, created_at=now)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Notification.id)
    ).scalar_one_or_none()
    if new_id is None:
        return db.session.scalars(select(Notification).where(Notification.idempotency_key == idempotency_key)).one()
    due = push_due_at(urgency, now)
    for channel in _channels_for(user_id, event):
        delivery = Delivery(notification_id=new_id, channel=str(channel), status=str(DeliveryStatus.PENDING),
                            next_attempt_at=due)
        db.session.add(delivery)
        db.session.flush()
        _request_delivery(delivery.id, due, now)
    return db.session.get(Notification, new_id)


def _channels_for(user_id: int, event: str) -> list[Channel]:
    channels = []
    if templates.template_id_for(event):
        channels.append(Channel.SUBSCRIBE)
    if gateway.wecom() is not None:
        who = users_service.contact(user_id)
        if who is not None and who.staff_number:
            channels.append(Channel.WECOM)
    return channels


def _request_delivery(delivery_id: int, due: datetime, now: datetime) -> None:
    if due <= now:
        enqueue_after_commit(DELIVER_JOB, delivery_id, queue="notifications", retry=None)
    else:
        schedule_after_commit(due, DELIVER_JOB, delivery_id, queue="notifications", retry=None)


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


# --- delivering (called by the worker job) ---------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    channel: str
    attempts: int
    user_id: int
    event: str
    title: str
    body: str
    link: str | None
    data: dict[str, Any]
    urgency: str
    template_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    action: str  # "sent" | "skip" | "fail" | "give_up"
    error: str | None = None
    message_id: str | None = None
    refund_grant: bool = False
    zero_grants: bool = False


def claim(delivery_id: int) -> Claimed | None:
    """Take a due delivery for sending (None: not due, already taken or finished). For a subscribe
    message this also spends one consent; with none left the delivery is skipped right here."""
    now = clock.now()
    lease = now + timedelta(seconds=current_app.config["NOTIFY_LEASE_SECONDS"])
    row = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status.in_([str(s) for s in OPEN_STATUSES]),
               Delivery.next_attempt_at <= now)
        .values(status=str(DeliveryStatus.SENDING), attempts=Delivery.attempts + 1, lease_until=lease,
                updated_at=now)
        .returning(Delivery.channel, Delivery.attempts, Delivery.notification_id)
    ).first()
    if row is None:
        return None
    channel, attempts, notification_id = row
    n = db.session.get(Notification, notification_id)
    claimed = Claimed(delivery_id, channel, attempts, n.user_id, n.event, n.title, n.body, n.link, dict(n.data),
                      n.urgency)
    if channel == Channel.SUBSCRIBE:
        template_id = templates.template_id_for(n.event)
        if template_id is None or not _spend_grant(n.user_id, template_id):
            finish(claimed, Outcome("skip", error="用户未订阅该消息" if template_id else "未配置消息模板"))
            return None
        claimed = Claimed(**{**claimed.__dict__, "template_id": template_id})
    return claimed


def _spend_grant(user_id: int, template_id: str) -> bool:
    spent = db.session.execute(
        update(SubscriptionGrant)
        .where(SubscriptionGrant.user_id == user_id, SubscriptionGrant.template_id == template_id,
               SubscriptionGrant.remaining > 0)
        .values(remaining=SubscriptionGrant.remaining - 1, updated_at=clock.now())
        .returning(SubscriptionGrant.id)
    ).first()
    return spent is not None


def push(claimed: Claimed) -> Outcome:
    """Send on the channel. Runs outside any transaction; touches only WeChat."""
    try:
        if claimed.channel == Channel.SUBSCRIBE:
            return _push_subscribe(claimed)
        return _push_wecom(claimed)
    except NoSubscriptionQuota:
        return Outcome("skip", error="微信提示用户没有剩余订阅次数(43101)", zero_grants=True)
    except WeChatError as exc:
        permanent = exc.errcode in PERMANENT_ERRCODES
        return Outcome("give_up" if permanent else "fail", error=f"{type(exc).__name__} {exc.errcode}",
                       refund_grant=claimed.channel == Channel.SUBSCRIBE)


def _push_subscribe(claimed: Claimed) -> Outcome:
    who = users_service.contact(claimed.user_id)
    spec = templates.spec_for(claimed.event)
    if who is None or spec is None:
        return Outcome("skip", error="用户已停用" if who is None else "未登记的消息类型", refund_grant=True)
    values, page = templates.render(spec, {**claimed.data, "title": claimed.title, "body": claimed.body})
    msgid = wx.send_subscribe_message(gateway.mini_program(), who.openid, claimed.template_id, values,
                                      page=page, state=gateway.miniprogram_state())
    return Outcome("sent", message_id=str(msgid))


def _push_wecom(claimed: Claimed) -> Outcome:
    client = gateway.wecom()
    who = users_service.contact(claimed.user_id)
    if client is None or who is None or not who.staff_number:
        return Outcome("skip", error="企业微信未配置或用户不是教职工")
    text = claimed.title + (f"\n{claimed.body}" if claimed.body else "")
    msgid = wx.send_wecom_text(client, current_app.config["WECOM_AGENT_ID"], who.staff_number, text)
    return Outcome("sent", message_id=str(msgid))


def finish(claimed: Claimed, outcome: Outcome) -> str | None:
    """Record the outcome, if the delivery is still ours (its lease may have been taken back)."""
    now = clock.now()
    action = outcome.action
    if action == "fail" and claimed.attempts >= current_app.config["NOTIFY_MAX_ATTEMPTS"]:
        action = "give_up"
    status = delivery_machine.target(DeliveryStatus.SENDING, action).to
    values: dict[str, Any] = {"status": status, "lease_until": None, "last_error": outcome.error, "updated_at": now}
    next_at = None
    if action == "sent":
        values.update(sent_at=now, provider_message_id=outcome.message_id, last_error=None)
    elif action == "fail":
        delay = BACKOFF_SECONDS[min(claimed.attempts, len(BACKOFF_SECONDS)) - 1]
        next_at = push_due_at(claimed.urgency, now + timedelta(seconds=delay))
        values["next_attempt_at"] = next_at
    done = db.session.execute(
        update(Delivery).where(Delivery.id == claimed.delivery_id, Delivery.status == str(DeliveryStatus.SENDING),
                               Delivery.attempts == claimed.attempts).values(**values)
    ).rowcount
    if not done:
        log.warning("delivery finished after its lease was taken back", extra={"delivery": claimed.delivery_id})
        return None
    if claimed.template_id and (outcome.refund_grant and action != "sent"):
        add_grants(claimed.user_id, claimed.template_id, 1)
    if claimed.template_id and outcome.zero_grants:
        db.session.execute(update(SubscriptionGrant).where(SubscriptionGrant.user_id == claimed.user_id,
                                                           SubscriptionGrant.template_id == claimed.template_id)
                           .values(remaining=0, updated_at=now))
    if next_at is not None:
        schedule_after_commit(next_at, DELIVER_JOB, claimed.delivery_id, queue="notifications", retry=None)
    if action == "give_up":
        log.error("notification delivery is dead", extra={"delivery": claimed.delivery_id, "error": outcome.error})
        events.delivery_dead.send(claimed.delivery_id, channel=claimed.channel, event=claimed.event,
                                  user_id=claimed.user_id)
    return status


def sweep(*, limit: int = 1000) -> dict[str, int]:
    """Take back leases of workers that died mid-send, and re-enqueue what is due but unclaimed
    (Redis was down at commit, a job was lost). Deliveries are claimed with a CAS, so a message
    enqueued twice is still sent once."""
    now = clock.now()
    max_attempts = current_app.config["NOTIFY_MAX_ATTEMPTS"]
    grace = timedelta(seconds=current_app.config["NOTIFY_SWEEP_SECONDS"])
    expired = db.session.execute(
        update(Delivery)
        .where(Delivery.status == str(DeliveryStatus.SENDING), Delivery.lease_until < now)
        .values(status=str(DeliveryStatus.FAILED), lease_until=None, next_attempt_at=now,
                last_error="发送中断（进程退出），已重新排队", updated_at=now)
        .returning(Delivery.id, Delivery.attempts, Delivery.channel, Delivery.notification_id)
    ).all()
    for _id, _attempts, channel, notification_id in expired:
        if channel == Channel.SUBSCRIBE:
            _refund_consent(notification_id)
    dead = [d for d, attempts, *_ in expired if attempts >= max_attempts]
    if dead:
        db.session.execute(update(Delivery).where(Delivery.id.in_(dead)).values(status=str(DeliveryStatus.DEAD)))
    due = db.session.scalars(
        select(Delivery.id)
        .where(Delivery.status.in_([str(s) for s in OPEN_STATUSES]), Delivery.next_attempt_at <= now - grace)
        .order_by(Delivery.next_attempt_at).limit(limit)
    ).all()
    revived = [d for d, attempts, *_ in expired if attempts < max_attempts]
    for delivery_id in {*due, *revived}:
        enqueue_after_commit(DELIVER_JOB, delivery_id, queue="notifications", retry=None)
    return {"reclaimed": len(expired), "dead": len(dead), "enqueued": len({*due, *revived})}


def _refund_consent(notification_id: int) -> None:
    """A worker died holding a subscribe message: it most likely never reached WeChat, so the
    consent it spent goes back (if WeChat did take it, the next send learns so from 43101)."""
    n = db.session.get(Notification, notification_id)
    template_id = templates.template_id_for(n.event)
    if template_id:
        add_grants(n.user_id, template_id, 1)


# --- the inbox -------------------------------------------------------------------------------------------


def inbox(*, actor: Actor, params: PageParams, unread: bool = False) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == actor.user_id).order_by(Notification.id.desc())
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return paginate(stmt, params)


def unread_count(*, actor: Actor) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == actor.user_id, Notification.read_at.is_(None))) or 0


def mark_read(*, actor: Actor, notification_id: int) -> Notification:
    n = db.session.get(Notification, notification_id)
    if n is None or n.user_id != actor.user_id:
        raise NotFound("notifications.not_found", "消息不存在")
    if n.read_at is None:
        n.read_at = clock.now()
    return n


def mark_all_read(*, actor: Actor) -> int:
    return db.session.execute(
        update(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    ).rowcount


# --- consents ---------------------------------------------------------------------------------------------


def add_grants(user_id: int, template_id: str, count: int) -> None:
    stmt = insert(SubscriptionGrant).values(user_id=user_id, template_id=template_id,
                                            remaining=min(count, MAX_SUBSCRIBE_GRANTS))
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["user_id", "template_id"],
        set_={"remaining": func.least(SubscriptionGrant.remaining + count, MAX_SUBSCRIBE_GRANTS),
              "updated_at": clock.now()},
    ))


def record_subscriptions(*, actor: Actor, results: dict[str, str]) -> dict[str, int]:
    """The result of ``wx.requestSubscribeMessage``: each ``accept`` adds one consent."""
    known = {templates.template_id_for(spec.event) for spec in templates.all_specs()} - {None}
    unknown = sorted(set(results) - known)
    if unknown:
        raise ValidationFailed("notifications.unknown_template", "未知的消息模板",
                               errors={"results": {tid: ["未知的消息模板"] for tid in unknown}})
    for template_id, answer in results.items():
        if answer == "accept":
            add_grants(actor.user_id, template_id, 1)
    rows = db.session.execute(select(SubscriptionGrant.template_id, SubscriptionGrant.remaining).where(
        SubscriptionGrant.user_id == actor.user_id)).all()
    return {tid: remaining for tid, remaining in rows}


def subscribable_templates() -> list[dict[str, str]]:
    """What the mini-program may ask consent for: event, template id, title."""
    out = []
    for spec in templates.all_specs():
        template_id = templates.template_id_for(spec.event)
        if template_id:
            out.append({"event": spec.event, "template_id": template_id, "title": spec.title})
    return out


# --- notices ----------------------------------------------------------------------------------------------


def send_notice(*, actor: Actor, title: str, body: str, roles: list[str], urgency: str = Urgency.NORMAL) -> int:
    """Notify every active user holding any of ``roles``; returns how many were told (audited)."""
    require_roles(actor, "admin")
    audience = users_service.users_with_roles(*roles)
    if len(audience) > MAX_NOTICE_AUDIENCE:
        raise ValidationFailed("notifications.audience_too_large", f"一次最多通知 {MAX_NOTICE_AUDIENCE} 人")
    now = clock.now()
    event = audit.record("notice", 0, "send", actor_id=actor.user_id,
                         after={"title": title, "roles": sorted(roles), "audience": len(audience)})
    for user_id in audience:
        notify(user_id=user_id, event=NOTICE.event, title=title, body=body, urgency=urgency,
               data={"at": now.isoformat(), "notice_id": event.id}, idempotency_key=f"notice:{event.id}:{user_id}")
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
    return paginate(stmt, params)


def retry_delivery(*, actor: Actor, delivery_id: int) -> Delivery:
    require_roles(actor, "admin")
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("notifications.not_found", "消息不存在")
    now = clock.now()
    delivery_machine.fire(delivery, "retry", actor_id=actor.user_id, roles=actor.roles,
                          values={"attempts": 0, "next_attempt_at": now, "last_error": None})
    enqueue_after_commit(DELIVER_JOB, delivery.id, queue="notifications", retry=None)
    return delivery
