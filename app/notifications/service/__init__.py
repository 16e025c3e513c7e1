"""Notifications: the outbox, its delivery rules, the inbox, consents and admin retries; callers use
``from app.notifications import service``.

``notify()`` is what every domain calls. It writes the inbox row and one delivery per push channel
in the caller's transaction (unique idempotency key: a retried business action notifies once), and
asks for a ``deliver`` job after commit — or at the end of quiet hours for non-urgent messages.
A worker then drains the outbox in batches: ``claim_batch`` takes due deliveries with a lease
(``FOR UPDATE SKIP LOCKED``: two workers never send the same message and never wait for each other),
``push`` sends each to WeChat outside any transaction, ``finish`` records each outcome with a
compare-and-set. The sweeper takes back leases of dead workers and re-requests a drain for anything
due that nobody picked up (Redis was down at commit, a job was lost).

The use-case modules, each importing only those below it in this list (import-linter checks it):

* ``admin`` — notices to roles, the deliveries' list, figures and retry.
* ``inbox`` — my messages, unread, read.
* ``delivery`` — the worker's side: claim, push, finish, sweep.
* ``consents`` — subscribe-message grants: recorded, spent, given back.
* ``outbox`` — ``notify`` / ``notify_many``, push times (quiet hours), the deliveries' state machine.
"""

from __future__ import annotations

from app.notifications.service.admin import (
    MAX_FIGURE_DAYS,
    MAX_NOTICE_AUDIENCE,
    NOTICE,
    delivery_counts,
    delivery_counts_by_day,
    list_deliveries,
    retry_delivery,
    send_notice,
)
from app.notifications.service.consents import (
    add_grants,
    record_subscriptions,
    subscribable_templates,
)
from app.notifications.service.delivery import (
    BATCH_SIZE,
    PERMANENT_ERRCODES,
    Batch,
    Claimed,
    Outcome,
    claim_batch,
    contacts_for,
    finish,
    finish_many,
    push,
    sweep,
)
from app.notifications.service.inbox import (
    inbox,
    mark_all_read,
    mark_read,
    unread_count,
)
from app.notifications.service.outbox import (
    BULK_CHUNK,
    DRAIN_JOB,
    delivery_machine,
    notify,
    notify_many,
    push_due_at,
    request_drain,
)

__all__ = [
    "BATCH_SIZE",
    "BULK_CHUNK",
    "Batch",
    "Claimed",
    "DRAIN_JOB",
    "MAX_FIGURE_DAYS",
    "MAX_NOTICE_AUDIENCE",
    "NOTICE",
    "Outcome",
    "PERMANENT_ERRCODES",
    "add_grants",
    "claim_batch",
    "contacts_for",
    "delivery_counts",
    "delivery_counts_by_day",
    "delivery_machine",
    "finish",
    "finish_many",
    "inbox",
    "list_deliveries",
    "mark_all_read",
    "mark_read",
    "notify",
    "notify_many",
    "push",
    "push_due_at",
    "record_subscriptions",
    "request_drain",
    "retry_delivery",
    "send_notice",
    "subscribable_templates",
    "sweep",
    "unread_count",
]
