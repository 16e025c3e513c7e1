"""Delivering (called by the worker job): claim a batch with a lease, push each outside any transaction,
record each outcome with a compare-and-set; the sweeper takes back dead workers' leases."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, Integer, String, column, func, select, update, values

from app.core import clock
from app.core.db import db
from app.notifications import events, templates
from app.notifications.models import Delivery, Notification, SubscriptionGrant
from app.notifications.service.consents import add_grants
from app.notifications.service.outbox import _TIMESTAMP, _unnest, delivery_machine, push_due_at, request_drain
from app.notifications.states import (
    BACKOFF_SECONDS,
    OPEN_STATUSES,
    Channel,
    DeliveryStatus,
)
from app.users import service as users_service
from app.wechat import client as wx
from app.wechat import gateway
from app.wechat.errors import NoSubscriptionQuota, WeChatError

log = logging.getLogger(__name__)

BATCH_SIZE = 50
PERMANENT_ERRCODES = frozenset({40003, 40037, 41030, 47003, 81013})
"""Bad openid, template, page or data, unknown WeCom user: retrying cannot help."""

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
