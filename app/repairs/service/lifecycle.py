"""A repair's lifecycle: the one state machine over ``states.TRANSITIONS`` (status × action → the roles
that may do it; which events a double tap may repeat), ``fire``, which every status change goes through (it
counts the step, compares and sets, and writes the audit row), ``ignored`` for a repeat of what already
happened, and the statuses that count as open work, as stored. An event the table does not have answers
409 naming the status in Chinese ("报修单已完成，不能接单")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from app.core.statemachine import Labels, StateMachine
from app.repairs.models import Repair
from app.repairs.states import (
    ACTION_LABELS,
    OPEN_STATUSES,
    REOPEN_DAYS,
    STATUS_LABELS,
    TRANSITIONS,
    WORKER_LOAD_STATUSES,
    Status,
)

ENTITY = "repairs"
"""The audit trail's entity for repairs, and the prefix of the workflow's error codes."""

machine = StateMachine(Repair, TRANSITIONS, entity=ENTITY, messages={
    "invalid_transition": "报修单当前状态不允许此操作",
    "concurrent_change": "报修单已被他人处理，请刷新后重试",
    "forbidden": "你不能对这张报修单执行此操作",
}, labels=Labels("报修单", STATUS_LABELS, ACTION_LABELS))

OPEN = [str(s) for s in OPEN_STATUSES]
LOAD = [str(s) for s in WORKER_LOAD_STATUSES]


def fire(repair: Repair, action: str, *, actor_id: int | None, roles: Iterable[str],
         values: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
         expect: dict[str, Any] | None = None) -> None:
    machine.fire(repair, action, actor_id=actor_id, roles=roles, values={"step": Repair.step + 1, **(values or {})},
                 data=data, expect=expect)


def ignored(repair: Repair, action: str, *, actor_id: int | None, roles: Iterable[str],
            repeat: Mapping[str, Any] | bool | None) -> bool:
    """Whether ``action`` repeats what already happened (a double tap, a retried request: ``repeat`` says
    which columns make it the same request) and so answers success: nothing changes, nothing is audited,
    the log says it was ignored."""
    return machine.is_repeat(repair, action, roles=roles, repeat=repeat) and \
        machine.fire(repair, action, actor_id=actor_id, roles=roles, repeat=repeat).ignored


def reopen_window_passed(repair: Repair, now: datetime) -> bool:
    """A confirmed repair can be reopened for ``REOPEN_DAYS`` days after it was closed (a completed one any
    time); after that a new report is the way."""
    return repair.status == Status.CONFIRMED and repair.closed_at is not None \
        and repair.closed_at + timedelta(days=REOPEN_DAYS) < now
