"""Delivery statuses, the transition table, channels and retry policy (pure data)."""

from __future__ import annotations

from enum import StrEnum

from app.core.statemachine import t


class Channel(StrEnum):
    SUBSCRIBE = "subscribe"  # mini-program subscribe message (one-time consent)
    WECOM = "wecom"  # 企业微信 app message, staff only


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"  # not sendable on this channel (no consent, not staff …); the inbox has it
    FAILED = "failed"  # will be retried at next_attempt_at
    DEAD = "dead"  # out of attempts or a permanent error; admins see and can retry it


class Urgency(StrEnum):
    NORMAL = "normal"  # waits for the end of quiet hours
    URGENT = "urgent"  # goes out at once (an urgent repair, a payment problem)


S = DeliveryStatus
WORKER = "system"  # the worker draining the outbox, and the sweeper
TRANSITIONS = {
    (S.PENDING, "claim"): t(S.SENDING, WORKER),
    (S.FAILED, "claim"): t(S.SENDING, WORKER),
    (S.SENDING, "sent"): t(S.SENT, WORKER),
    (S.SENDING, "skip"): t(S.SKIPPED, WORKER),
    (S.SENDING, "fail"): t(S.FAILED, WORKER),
    (S.SENDING, "give_up"): t(S.DEAD, WORKER),
    (S.SENDING, "lease_expired"): t(S.FAILED, WORKER),
    (S.DEAD, "retry"): t(S.PENDING, "admin", repeatable=True),
}
"""Who moves a delivery: the worker and the sweeper (``system``) in batches, an admin by ``retry``.

The worker's moves are set-based (``StateMachine.bulk`` and ``finish_many``'s compare-and-set on
status and attempts): a notice to 5,000 people moves 5,000 rows a few statements at a time, so they are
not audited row by row — the delivery row itself keeps its attempts, last error, provider message id
and times. The admin's ``retry`` is one row, audited, and a second tap on it is ignored."""

STATUS_LABELS = {S.PENDING: "待发送", S.SENDING: "正在发送", S.SENT: "已发送", S.SKIPPED: "已跳过",
                 S.FAILED: "发送失败待重试", S.DEAD: "已停止发送"}

OPEN_STATUSES = (S.PENDING, S.FAILED)
BACKOFF_SECONDS = (30, 120, 600, 1800, 7200)
"""Wait before attempt n+1 after n failures (the last value repeats)."""

MAX_SUBSCRIBE_GRANTS = 50
"""A user cannot bank more one-time consents than this per template."""
