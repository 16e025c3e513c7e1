"""Repair statuses, actions and the transition table (docs/architecture.md), plus the policy constants.

Roles in the table are *relative to one repair*, not only the actor's global roles: the service adds
``reporter`` (who reported it), ``assignee`` (the worker it is assigned to), ``group_member`` (a worker
of the repair's group while it waits unassigned in the group's pool) and ``system`` (timers, sweeps and
auto-dispatch). So ``(assigned, accept) -> accepted`` for ``assignee`` reads exactly as the rule is said:
only the worker it was given to can accept it. Two pool workers grabbing the same task both pass the
role check; the compare-and-set lets one win and answers 409 to the other.

``declined``, ``transferred`` and ``reopened`` are actions, not statuses: a decline puts the repair
back in the queue (``submitted``), a transfer gives it to another worker (``assigned``), a reopen
starts a new round (``submitted``, new deadlines) — the audit trail keeps what happened.
"""

from __future__ import annotations

from enum import StrEnum

from app.core.statemachine import t


class Status(StrEnum):
    SUBMITTED = "submitted"  # in the queue: no worker yet (or in the group's pool)
    ASSIGNED = "assigned"  # given to a worker, who has not accepted yet
    ACCEPTED = "accepted"  # the worker accepted; on the way
    IN_PROGRESS = "in_progress"  # on site, working (arrival deadline met)
    ON_HOLD = "on_hold"  # waiting (parts, access); the finish deadline is paused
    COMPLETED = "completed"  # the worker says it is fixed; awaiting the reporter's confirmation
    CONFIRMED = "confirmed"  # closed: the reporter confirmed and rated (or it auto-confirmed)
    CANCELLED = "cancelled"  # closed without a repair


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class DeadlineKind(StrEnum):
    ACCEPT = "accept"  # a worker accepts (triage)
    ARRIVE = "arrive"  # the worker is on site (response)
    FINISH = "finish"  # the repair is done


class DispatchMode(StrEnum):
    AUTO = "auto"  # the on-duty member with the least open work gets it
    POOL = "pool"  # every on-duty member is told; the first to accept gets it


S = Status
REPORTER, ASSIGNEE, GROUP_MEMBER, SYSTEM = "reporter", "assignee", "group_member", "system"
STAFF = ("dispatcher", "admin")

TRANSITIONS = {
    (S.SUBMITTED, "assign"): t(S.ASSIGNED, *STAFF, SYSTEM),
    (S.SUBMITTED, "accept"): t(S.ACCEPTED, GROUP_MEMBER, repeatable=True),
    (S.SUBMITTED, "cancel"): t(S.CANCELLED, REPORTER, *STAFF, repeatable=True),
    (S.ASSIGNED, "accept"): t(S.ACCEPTED, ASSIGNEE, repeatable=True),
    (S.ASSIGNED, "decline"): t(S.SUBMITTED, ASSIGNEE),
    (S.ASSIGNED, "transfer"): t(S.ASSIGNED, *STAFF),
    (S.ASSIGNED, "cancel"): t(S.CANCELLED, REPORTER, *STAFF, repeatable=True),
    (S.ACCEPTED, "start"): t(S.IN_PROGRESS, ASSIGNEE, repeatable=True),
    (S.ACCEPTED, "transfer"): t(S.ASSIGNED, *STAFF),
    (S.ACCEPTED, "cancel"): t(S.CANCELLED, REPORTER, *STAFF, repeatable=True),
    (S.IN_PROGRESS, "hold"): t(S.ON_HOLD, ASSIGNEE, repeatable=True),
    (S.IN_PROGRESS, "complete"): t(S.COMPLETED, ASSIGNEE, repeatable=True),
    (S.IN_PROGRESS, "transfer"): t(S.ASSIGNED, *STAFF),
    (S.IN_PROGRESS, "cancel"): t(S.CANCELLED, *STAFF, repeatable=True),
    (S.ON_HOLD, "resume"): t(S.IN_PROGRESS, ASSIGNEE, repeatable=True),
    (S.ON_HOLD, "transfer"): t(S.ASSIGNED, *STAFF),
    (S.ON_HOLD, "cancel"): t(S.CANCELLED, *STAFF, repeatable=True),
    (S.COMPLETED, "confirm"): t(S.CONFIRMED, REPORTER, repeatable=True),
    (S.COMPLETED, "auto_confirm"): t(S.CONFIRMED, SYSTEM),
    (S.COMPLETED, "reopen"): t(S.SUBMITTED, REPORTER, *STAFF),
    (S.CONFIRMED, "reopen"): t(S.SUBMITTED, REPORTER, *STAFF),
}
"""``(status, action) -> (to, roles)``. The reporter may cancel until the worker is on site; after that
only a dispatcher can (the worker's time is already spent).

``repeatable``: a double tap (or a retried request) of that event, once it has happened, answers success
and changes nothing — accept / start / hold / resume / complete repeated by the same worker, confirm by
the reporter who rated, cancel by whoever may cancel (``workflow`` says which columns make it the same
request). Any other event the table does not have from the current status is a 409."""

ACTIONS = sorted({action for _status, action in TRANSITIONS})
ACTION_ENDPOINTS = [a for a in ACTIONS if a != "auto_confirm"]

OPEN_STATUSES = (S.SUBMITTED, S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD)
"""Work not done yet: counted as a worker's load, guarded against duplicates, watched by deadlines."""
WORKER_LOAD_STATUSES = (S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD)

MET_BY_ACTION = {"accept": DeadlineKind.ACCEPT, "start": DeadlineKind.ARRIVE, "complete": DeadlineKind.FINISH}
"""Which deadline an action meets."""

STATUS_LABELS = {
    S.SUBMITTED: "待派单",
    S.ASSIGNED: "待接单",
    S.ACCEPTED: "已接单",
    S.IN_PROGRESS: "维修中",
    S.ON_HOLD: "暂停中",
    S.COMPLETED: "待确认",
    S.CONFIRMED: "已完成",
    S.CANCELLED: "已取消",
}
ACTION_LABELS = {
    "submit": "提交报修",
    "assign": "派单",
    "accept": "接单",
    "decline": "退回",
    "transfer": "转派",
    "start": "到场维修",
    "hold": "暂停",
    "resume": "继续维修",
    "complete": "维修完成",
    "confirm": "确认评价",
    "auto_confirm": "自动确认",
    "cancel": "取消",
    "reopen": "重新报修",
    "reprioritise": "调整紧急程度",
    "link": "关联报修",
    "add_photos": "补充照片",
    "escalate": "超时督办",
}
URGENCY_LABELS = {Urgency.NORMAL: "普通", Urgency.URGENT: "紧急"}
DEADLINE_LABELS = {DeadlineKind.ACCEPT: "接单", DeadlineKind.ARRIVE: "到场", DeadlineKind.FINISH: "完成"}

STAFF_ONLY_ACTIONS = frozenset({"escalate"})
"""Timeline entries the reporter does not see (internal chasing)."""
STAFF_ONLY_DATA_ACTIONS = frozenset({"decline", "transfer"})
"""Timeline entries whose reason only staff read (the reporter sees that it happened)."""

NOTIFY_REPORTER_ACTIONS = frozenset({
    "accept", "start", "hold", "resume", "complete", "auto_confirm", "cancel", "reopen",
})
"""Status changes the reporter (and linked reporters) are told about, unless they made them.
Dispatching itself (assign, transfer, decline) is internal churn: it would spend the reporter's scarce
subscribe-message consents on news they cannot act on; the detail page shows it."""

# --- policy ---------------------------------------------------------------------------------------------

MAX_PHOTOS = 9
"""Per repair and kind (the reporter's photos; the worker's after-photos)."""
AUTO_CONFIRM_DAYS = 7
REOPEN_DAYS = 7
"""A confirmed repair can be reopened this many days after it was closed (a completed one any time)."""
AUTO_RATING = 5
"""The rating an unconfirmed repair gets when it auto-confirms (flagged ``rating_auto``; statistics of
satisfaction leave it out, so silence never looks like delight)."""
UNATTACHED_PHOTO_HOURS = 24
"""Photos uploaded but never put on a report are deleted after this long."""
ESCALATION_LEVELS = (1, 2)
"""Level 1 at the deadline (dispatchers, and a reminder to the worker); level 2 when the same span has
passed again (admins: 督办)."""

RATING_TAGS = ("响应及时", "技术专业", "态度友好", "现场整洁", "一次修好", "响应慢", "没修好", "态度差", "现场脏乱")

DEFAULT_SLA = {
    Urgency.NORMAL: {"accept": "30m", "arrive": "24h", "finish": "3wd"},
    Urgency.URGENT: {"accept": "30m", "arrive": "2h", "finish": "24h"},
}
"""The school's written policy: triage in 30 min; urgent response in 2 h and repair in 24 h; normal
response in 24 h and repair in 3 working days. Used when no policy row matches."""

SPAN_PATTERN = r"^([1-9]\d{0,4})(m|h|d|wh|wd)$"
"""A deadline span: minutes, hours, days (clock time) or working hours / working days (only time on the
school's working days counts)."""
