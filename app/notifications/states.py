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
TRANSITIONS = {
    (S.PENDING, "claim"): t(S.SENDING),
    (S.FAILED, "claim"): t(S.SENDING),
    (S.SENDING, "sent"): t(S.SENT),
    (S.SENDING, "skip"): t(S.SKIPPED),
    (S.SENDING, "fail"): t(S.FAILED),
    (S.SENDING, "give_up"): t(S.DEAD),
    (S.SENDING, "lease_expired"): t(S.FAILED),
    (S.DEAD, "retry"): t(S.PENDING, "admin"),
}
"""The worker's moves use conditional UPDATEs with these pairs; ``retry`` is the admin action."""

OPEN_STATUSES = (S.PENDING, S.FAILED)
BACKOFF_SECONDS = (30, 120, 600, 1800, 7200)
"""Wait before attempt n+1 after n failures (the last value repeats)."""

MAX_SUBSCRIBE_GRANTS = 50
"""A user cannot bank more one-time consents than this per template."""
