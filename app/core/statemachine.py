"""State machines as tables.

A domain's ``states.py`` declares its statuses and a ``TRANSITIONS`` table
``{(status, action): Transition(to=..., roles=...)}`` — pure data. Its service builds a
``StateMachine`` over the model and calls ``fire()``, the only writer of ``status``: it checks the
table and the actor's roles, does a compare-and-set ``UPDATE … WHERE id = :id AND status =
:expected`` (a concurrent change loses with 409, never silently overwrites), and appends an audit
row with actor, before and after.

Roles in a table are *relative to the object* where the rule is about a person's relation to it
(``reporter``, ``assignee``, ``organiser``, ``requester``, ``system`` for timers and workers), beside
global roles (``admin``, ``dispatcher``). The service works out which relative roles the actor holds
on this object and passes them with the global ones, so a row reads as the rule is said: "(assigned,
accept) → accepted, by the assignee".

Three outcomes of an event, kept apart:

* **valid**: ``(status, action)`` is in the table and the actor holds a role: the status moves.
* **ignored**: the table marks the event ``repeatable``, the object is already where it leads (a
  double tap, a retried request, a repeated provider notification) and the caller says it is the same
  request (``repeat=``: columns that must match, e.g. ``{"assignee_id": me}``): nothing changes,
  nothing is audited, the answer is success; the log says it was ignored. ``fire`` returns the current
  status with ``ignored=True``.
* **invalid**: anything else: 409 whose message says the current status in Chinese
  ("工单已完成，不能接单") when the machine knows its labels.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Update, update

from app.core import audit, clock
from app.core.db import db
from app.core.errors import Conflict, Forbidden

log = logging.getLogger(__name__)

SYSTEM = "system"
"""The role of timers, sweeps and workers in a transition table."""


@dataclass(frozen=True)
class Transition:
    to: str
    roles: frozenset[str] = field(default_factory=frozenset)
    repeatable: bool = False
    """A repeat of this event, once it has happened, is ignored (success) rather than invalid."""

    def allows(self, roles: Iterable[str]) -> bool:
        return not self.roles or bool(self.roles.intersection(roles))


def t(to: str, *roles: str, repeatable: bool = False) -> Transition:
    """Shorthand for transition tables: ``t("accepted", "worker")``; ``repeatable=True`` when a double
    tap or a repeated notification of this event must answer success."""
    return Transition(to=str(to), roles=frozenset(str(r) for r in roles), repeatable=repeatable)


@dataclass(frozen=True)
class Labels:
    """How a machine speaks Chinese: the object's noun and the labels of its statuses and actions,
    for messages like "工单已完成，不能接单"."""

    noun: str
    statuses: Mapping[str, str]
    actions: Mapping[str, str]

    def invalid(self, status: str, action: str) -> str | None:
        state, verb = self.statuses.get(str(status)), self.actions.get(str(action))
        if not state or not verb:
            return None
        return f"{self.noun}{state}，不能{verb}"


class Fired(str):
    """The status after ``fire`` (a ``str``), and whether the event was ignored as a repeat."""

    ignored: bool

    def __new__(cls, status: str, *, ignored: bool = False) -> Fired:
        value = super().__new__(cls, status)
        value.ignored = ignored
        return value


class InvalidTransition(Conflict):
    error_code = "invalid_transition"
    message = "当前状态不允许此操作"


class ConcurrentChange(Conflict):
    error_code = "concurrent_change"
    message = "已被他人处理，请刷新后重试"


class StateMachine:
    def __init__(
        self,
        model: type,
        transitions: Mapping[tuple[str, str], Transition],
        *,
        entity: str,
        messages: Mapping[str, str] | None = None,
        labels: Labels | None = None,
    ):
        self.model = model
        self.transitions = {(str(s), str(a)): tr for (s, a), tr in transitions.items()}
        self.entity = entity
        self.messages = dict(messages or {})
        self.labels = labels

    # --- reading the table -------------------------------------------------------------------------

    def actions_for(self, status: str, roles: Iterable[str]) -> list[str]:
        roles = set(roles)
        return sorted(a for (s, a), tr in self.transitions.items() if s == str(status) and tr.allows(roles))

    def target(self, status: str, action: str) -> Transition | None:
        return self.transitions.get((str(status), str(action)))

    def sources(self, action: str) -> list[str]:
        """Every status ``action`` may start from (for set-based moves: ``WHERE status IN …``)."""
        return sorted({s for (s, a) in self.transitions if a == str(action)})

    def leads_to(self, action: str, status: str, roles: Iterable[str] | None = None, *,
                 repeatable: bool = False) -> bool:
        """Whether ``action`` ends in ``status`` from some status (for ``roles``, when given; only by a
        repeatable transition, when asked)."""
        return any(a == str(action) and tr.to == str(status) and (roles is None or tr.allows(roles))
                   and (tr.repeatable or not repeatable)
                   for (_s, a), tr in self.transitions.items())

    def bulk(self, action: str, *where: Any, **values: Any) -> Update:
        """A set-based move of every row matching ``where`` that is in a status ``action`` starts from,
        to the action's one target: ``UPDATE … SET status = :to WHERE status IN (:sources) AND …``.
        For high-volume moves of workers (an outbox's batches) whose table says why they are not
        audited row by row; add ``.returning(…)`` to learn which rows moved."""
        targets = {tr.to for (_s, a), tr in self.transitions.items() if a == str(action)}
        if len(targets) != 1:
            raise ValueError(f"{self.entity}: {action!r} has {len(targets)} targets; a bulk move needs exactly one")
        return (update(self.model)
                .where(self.model.status.in_(self.sources(action)), *where)
                .values(status=targets.pop(), **values)
                .execution_options(synchronize_session=False))

    # --- errors ------------------------------------------------------------------------------------

    def invalid(self, status: str, action: str) -> InvalidTransition:
        message = (self.labels.invalid(status, action) if self.labels else None) \
            or self.messages.get("invalid_transition", InvalidTransition.message)
        return InvalidTransition(f"{self.entity}.invalid_transition", message)

    def forbidden(self) -> Forbidden:
        return Forbidden(f"{self.entity}.forbidden", self.messages.get("forbidden", Forbidden.message))

    def check(self, status: str, action: str, roles: Iterable[str]) -> Transition:
        """The transition for ``(status, action)`` if ``roles`` may fire it; else 409 or 403."""
        transition = self.target(status, action)
        if transition is None:
            raise self.invalid(status, action)
        if not transition.allows(roles):
            raise self.forbidden()
        return transition

    # --- moving --------------------------------------------------------------------------------------

    def is_repeat(self, obj: Any, action: str, *, roles: Iterable[str] = (), check_roles: bool = True,
                  repeat: Mapping[str, Any] | bool | None = None) -> bool:
        """Whether firing ``action`` on ``obj`` now would be ignored as a repeat (see the module doc)."""
        if repeat is None or repeat is False or self.target(obj.status, action) is not None:
            return False
        if not self.leads_to(action, obj.status, roles if check_roles else None, repeatable=True):
            return False
        return repeat is True or all(getattr(obj, column) == value for column, value in repeat.items())

    def fire(
        self,
        obj: Any,
        action: str,
        *,
        actor_id: int | None,
        roles: Iterable[str] = (),
        values: Mapping[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        check_roles: bool = True,
        expect: Mapping[str, Any] | None = None,
        repeat: Mapping[str, Any] | bool | None = None,
    ) -> Fired:
        """Move ``obj`` by ``action``; return the new status. Flushes, never commits.

        ``expect`` adds columns to the compare-and-set (``{"assignee_id": 7}``: only if the ticket is
        still assigned to 7), for rules that depend on more than the status; ``None`` means IS NULL.
        ``repeat`` makes a repeat of an event that already happened a success that changes nothing
        (``True``: the status alone tells; a mapping: those columns must match too); without it a
        repeat is invalid like any other event the table does not have.
        """
        roles = set(roles)
        current = str(obj.status)
        if self.is_repeat(obj, action, roles=roles, check_roles=check_roles, repeat=repeat):
            log.info("state event ignored: already done", extra={
                "entity": self.entity, "entity_id": obj.id, "action": action, "status": current, "actor": actor_id})
            return Fired(current, ignored=True)
        transition = self.check(current, action, roles) if check_roles else self.target(current, action)
        if transition is None:
            raise self.invalid(current, action)
        model = self.model
        changes: dict[str, Any] = {"status": transition.to, **(values or {})}
        if hasattr(model, "updated_at"):
            changes.setdefault("updated_at", clock.now())
        db.session.flush()
        conditions = [model.id == obj.id, model.status == current]
        for column, value in (expect or {}).items():
            attr = getattr(model, column)
            conditions.append(attr.is_(None) if value is None else attr == value)
        result = db.session.execute(
            update(model)
            .where(*conditions)
            .values(**changes)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise ConcurrentChange(
                f"{self.entity}.concurrent_change",
                self.messages.get("concurrent_change", ConcurrentChange.message),
            )
        db.session.refresh(obj)
        audit.record(
            self.entity,
            obj.id,
            action,
            actor_id=actor_id,
            before={"status": current},
            after={"status": transition.to},
            data=data,
        )
        return Fired(transition.to)
