"""Notifications: the outbox, its delivery rules, the inbox, consents and admin retries.

``notify()`` is what every domain calls. It writes the inbox row and one delivery per push channel
in the caller's transaction (unique idempotency key: a retried business action notifies once), and
asks for a ``deliver`` job after commit — or at the end of quiet hours for non-urgent messages.
A worker then drains the outbox in batches: ``claim_batch`` takes due deliveries with a lease
(``FOR UPDATE SKIP LOCKED``: two workers never send the same message and never wait for each other),
``push`` sends each to WeChat outside any transaction, ``finish`` records each outcome with a
compare-and-set. The sweeper takes back leases of dead workers and re-requests a drain for anything
due that nobody picked up (Redis was down at commit, a job was lost).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, DateTime, Integer, String, column, func, literal, select, update, values
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import NotFound, ValidationFailed
from app.core.jobs import enqueue_after_commit, schedule_after_commit
from app.core.pagination import PageParams, paginate
from app.core.statemachine import Labels, StateMachine
from app.notifications import events, templates
from app.notifications.models import Delivery, Notification, SubscriptionGrant
from app.notifications.states import (
    BACKOFF_SECONDS,
    MAX_SUBSCRIBE_GRANTS,
    OPEN_STATUSES,
    STATUS_LABELS,
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

DRAIN_JOB = "app.notifications.jobs.drain"
"""By dotted path: the job module imports this one."""
BATCH_SIZE = 50
BULK_CHUNK = 1000
"""``notify_many`` writes this many recipients per statement."""
_TIMESTAMP = DateTime(timezone=True)
PERMANENT_ERRCODES = frozenset({40003, 40037, 41030, 47003, 81013})
"""Bad openid, template, page or data, unknown WeCom user: retrying cannot help."""

NOTICE = templates.register(TemplateSpec(
    event="notifications.notice", title="后勤通知", page="pages/messages/messages",
    fields={"thing1": "title", "thing2": "body", "time3": "at"},
))
"""A notice from the logistics office (停水、停电、放假安排 …) to everyone holding some roles."""
MAX_NOTICE_AUDIENCE = 20_000
MAX_FIGURE_DAYS = 92
"""``delivery_counts_by_day`` looks at most this many days past its first."""

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


@dataclass(frozen=True)
class Batch:
    """What one claim took: the deliveries to push now, and how many it settled at once."""

    push: list[Claimed]
    skipped: int  # no consent left, or no template: skipped without a call to WeChat

    @property
    def size(self) -> int:
        return len(self.push) + self.skipped


def claim_batch(limit: int = BATCH_SIZE) -> Batch:
    """Take up to ``limit`` due deliveries for sending, with a lease. ``FOR UPDATE SKIP LOCKED``:
    workers draining at the same time take disjoint batches and never wait for each other.
    A subscribe message also spends one consent here; with none left it is skipped at once (a batch
    can be all skips — a notice to parents who never subscribed — and the drain goes on after it)."""
    now = clock.now()
    lease = now + timedelta(seconds=current_app.config["NOTIFY_LEASE_SECONDS"])
    due = (select(Delivery.id)
           .where(Delivery.status.in_(delivery_machine.sources("claim")), Delivery.next_attempt_at <= now)
           .order_by(Delivery.next_attempt_at).limit(limit).with_for_update(skip_locked=True))
    rows = db.session.execute(
        delivery_machine.bulk("claim", Delivery.id.in_(due), attempts=Delivery.attempts + 1, lease_until=lease,
                              updated_at=now)
        .returning(Delivery.id, Delivery.channel, Delivery.attempts, Delivery.notification_id)
    ).all()
    if not rows:
        return Batch([], 0)
    messages = {n.id: n for n in db.session.scalars(
        select(Notification).where(Notification.id.in_({r.notification_id for r in rows})))}
    items = []
    for delivery_id, channel, attempts, notification_id in sorted(rows):
        n = messages[notification_id]
        template_id = templates.template_id_for(n.event) if channel == Channel.SUBSCRIBE else None
        items.append(Claimed(delivery_id, channel, attempts, n.user_id, n.event, n.title, n.body, n.link,
                             dict(n.data), n.urgency, template_id))
    wanting = [c for c in items if c.channel == Channel.SUBSCRIBE]
    granted = _spend_grants([(c.user_id, c.template_id) for c in wanting if c.template_id])
    refused = []
    for c in wanting:
        if c.template_id and granted[(c.user_id, c.template_id)] > 0:
            granted[(c.user_id, c.template_id)] -= 1
        else:
            refused.append(c)
    if refused:
        finish_many([(c, Outcome("skip", error="用户未订阅该消息" if c.template_id else "未配置消息模板"))
                     for c in refused])
    skipped = {c.delivery_id for c in refused}
    return Batch([c for c in items if c.delivery_id not in skipped], len(skipped))


def contacts_for(batch: Batch) -> dict[int, users_service.Contact]:
    return users_service.contacts([c.user_id for c in batch.push])


def _spend_grants(wanted: list[tuple[int, str]]) -> Counter:
    """Spend one consent per (user, template) wanted, in as few statements as a key repeats;
    returns how many each key got (fewer than wanted when the user ran out)."""
    got: Counter = Counter()
    remaining = Counter(wanted)
    while remaining:
        keys = list(remaining)
        v = values(column("user_id", BigInteger), column("template_id", String), name="w").data(keys)
        spent = db.session.execute(
            update(SubscriptionGrant)
            .where(SubscriptionGrant.user_id == v.c.user_id, SubscriptionGrant.template_id == v.c.template_id,
                   SubscriptionGrant.remaining > 0)
            .values(remaining=SubscriptionGrant.remaining - 1, updated_at=clock.now())
            .returning(SubscriptionGrant.user_id, SubscriptionGrant.template_id)
            .execution_options(synchronize_session=False)
        ).all()
        spent_keys = {(u, t) for u, t in spent}
        for key in keys:
            if key in spent_keys:
                got[key] += 1
                remaining[key] -= 1
            else:
                remaining[key] = 0  # ran out: the rest of this key's messages are skipped
        remaining = +remaining
    return got


def push(claimed: Claimed, who: users_service.Contact | None) -> Outcome:
    """Send on the channel. Runs outside any transaction; touches only WeChat."""
    try:
        if claimed.channel == Channel.SUBSCRIBE:
            return _push_subscribe(claimed, who)
        return _push_wecom(claimed, who)
    except NoSubscriptionQuota:
        return Outcome("skip", error="微信提示用户没有剩余订阅次数(43101)", zero_grants=True)
    except WeChatError as exc:
        permanent = exc.errcode in PERMANENT_ERRCODES
        return Outcome("give_up" if permanent else "fail", error=f"{type(exc).__name__} {exc.errcode}",
                       refund_grant=claimed.channel == Channel.SUBSCRIBE)


def _push_subscribe(claimed: Claimed, who: users_service.Contact | None) -> Outcome:
    spec = templates.spec_for(claimed.event)
    if who is None or spec is None:
        return Outcome("skip", error="用户已停用" if who is None else "未登记的消息类型", refund_grant=True)
    values, page = templates.render(spec, {**claimed.data, "title": claimed.title, "body": claimed.body})
    msgid = wx.send_subscribe_message(gateway.mini_program(), who.openid, claimed.template_id, values,
                                      page=page, state=gateway.miniprogram_state())
    return Outcome("sent", message_id=str(msgid))


def _push_wecom(claimed: Claimed, who: users_service.Contact | None) -> Outcome:
    client = gateway.wecom()
    if client is None or who is None or not who.staff_number:
        return Outcome("skip", error="企业微信未配置或用户不是教职工")
    text = claimed.title + (f"\n{claimed.body}" if claimed.body else "")
    msgid = wx.send_wecom_text(client, current_app.config["WECOM_AGENT_ID"], who.staff_number, text)
    return Outcome("sent", message_id=str(msgid))


def finish(claimed: Claimed, outcome: Outcome) -> str | None:
    """Record one outcome (see ``finish_many``)."""
    return finish_many([(claimed, outcome)])[0]


def finish_many(results: list[tuple[Claimed, Outcome]]) -> list[str | None]:
    """Record outcomes in one statement, each only if its delivery is still ours — a compare-and-set
    on (status ``sending``, attempts): a lease the sweeper took back is not overwritten. Returns the
    new status per result, None where the lease was lost."""
    now = clock.now()
    max_attempts = current_app.config["NOTIFY_MAX_ATTEMPTS"]
    rows, plans = [], []
    for claimed, outcome in results:
        action = "give_up" if outcome.action == "fail" and claimed.attempts >= max_attempts else outcome.action
        status = delivery_machine.target(DeliveryStatus.SENDING, action).to
        next_at = None
        if action == "fail":
            delay = BACKOFF_SECONDS[min(claimed.attempts, len(BACKOFF_SECONDS)) - 1]
            next_at = push_due_at(claimed.urgency, now + timedelta(seconds=delay))
        sent = action == "sent"
        rows.append((claimed.delivery_id, claimed.attempts, status, None if sent else outcome.error,
                     now if sent else None, outcome.message_id if sent else None, next_at))
        plans.append((claimed, outcome, action, status, next_at))
    # one typed array per column (unnest), not VALUES: the statement is the same for any number of
    # rows, so SQLAlchemy compiles it once — a drain records outcomes many times a second
    columns = list(zip(*rows, strict=True))
    v = _unnest(id=(list(columns[0]), BigInteger), attempts=(list(columns[1]), Integer),
                status=(list(columns[2]), String), last_error=(list(columns[3]), String),
                sent_at=(list(columns[4]), _TIMESTAMP), message_id=(list(columns[5]), String),
                next_at=(list(columns[6]), _TIMESTAMP))
    done = set(db.session.scalars(
        update(Delivery)
        .where(Delivery.id == v.c.id, Delivery.attempts == v.c.attempts,
               Delivery.status == str(DeliveryStatus.SENDING))
        .values(status=v.c.status, last_error=v.c.last_error, lease_until=None, updated_at=now,
                sent_at=func.coalesce(v.c.sent_at, Delivery.sent_at),
                provider_message_id=func.coalesce(v.c.message_id, Delivery.provider_message_id),
                next_attempt_at=func.coalesce(v.c.next_at, Delivery.next_attempt_at))
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ))
    statuses: list[str | None] = []
    for claimed, outcome, action, status, next_at in plans:
        if claimed.delivery_id not in done:
            log.warning("delivery finished after its lease was taken back", extra={"delivery": claimed.delivery_id})
            statuses.append(None)
            continue
        _after_outcome(claimed, outcome, action, next_at, now)
        statuses.append(status)
    return statuses


def _after_outcome(claimed: Claimed, outcome: Outcome, action: str, next_at: datetime | None,
                   now: datetime) -> None:
    """The rare follow-ups of an outcome: consent bookkeeping, the retry timer, the dead letter."""
    if claimed.template_id and outcome.refund_grant and action != "sent":
        add_grants(claimed.user_id, claimed.template_id, 1)
    if claimed.template_id and outcome.zero_grants:
        db.session.execute(update(SubscriptionGrant).where(SubscriptionGrant.user_id == claimed.user_id,
                                                           SubscriptionGrant.template_id == claimed.template_id)
                           .values(remaining=0, updated_at=now))
    if next_at is not None:
        request_drain(next_at, now)
    if action == "give_up":
        log.error("notification delivery is dead", extra={"delivery": claimed.delivery_id, "error": outcome.error})
        events.delivery_dead.send(claimed.delivery_id, channel=claimed.channel, event=claimed.event,
                                  user_id=claimed.user_id)


def sweep(*, limit: int = 1000) -> dict[str, int]:
    """Take back leases of workers that died mid-send, and re-enqueue what is due but unclaimed
    (Redis was down at commit, a job was lost). Deliveries are claimed with a CAS, so a message
    enqueued twice is still sent once."""
    now = clock.now()
    max_attempts = current_app.config["NOTIFY_MAX_ATTEMPTS"]
    grace = timedelta(seconds=current_app.config["NOTIFY_SWEEP_SECONDS"])
    abandoned = Delivery.lease_until < now
    interrupted = {"lease_until": None, "last_error": "发送中断（进程退出），已重新排队", "updated_at": now}
    returning = (Delivery.id, Delivery.channel, Delivery.notification_id)
    dead = db.session.execute(delivery_machine.bulk(
        "give_up", abandoned, Delivery.attempts >= max_attempts, **interrupted).returning(*returning)).all()
    revived = db.session.execute(delivery_machine.bulk(
        "lease_expired", abandoned, Delivery.attempts < max_attempts, next_attempt_at=now, **interrupted)
        .returning(*returning)).all()
    for _id, channel, notification_id in [*dead, *revived]:
        if channel == Channel.SUBSCRIBE:
            _refund_consent(notification_id)
    due = db.session.scalars(
        select(Delivery.id)
        .where(Delivery.status.in_([str(s) for s in OPEN_STATUSES]), Delivery.next_attempt_at <= now - grace)
        .order_by(Delivery.next_attempt_at).limit(limit)
    ).all()
    expired = [*dead, *revived]
    waiting = len({*due, *(d for d, *_ in revived)})
    if waiting:
        request_drain(now, now)
    return {"reclaimed": len(expired), "dead": len(dead), "waiting": waiting}


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
    """The result of ``wx.requestSubscribeMessage``: each ``accept`` adds one consent. WeChat keeps
    its own count of them (the user tapped 允许 in its client); in simulator mode the gateway can
    mirror them to the simulator, which has no client (``WECHAT_SIMULATOR_MIRROR_CONSENTS``)."""
    known = {templates.template_id_for(spec.event) for spec in templates.all_specs()} - {None}
    unknown = sorted(set(results) - known)
    if unknown:
        raise ValidationFailed("notifications.unknown_template", "未知的消息模板",
                               errors={"results": {tid: ["未知的消息模板"] for tid in unknown}})
    accepted = [template_id for template_id, answer in results.items() if answer == "accept"]
    for template_id in accepted:
        add_grants(actor.user_id, template_id, 1)
    if accepted and gateway.mirrors_consents():
        gateway.mirror_consents(users_service.get_user(actor.user_id).openid, accepted)
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
    notify_many(user_ids=audience, event=NOTICE.event, title=title, body=body, urgency=urgency,
                data={"at": now.isoformat(), "notice_id": event.id}, idempotency_key=f"notice:{event.id}")
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
