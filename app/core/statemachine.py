"""State machines as tables.

A domain's ``states.py`` declares its statuses and a ``TRANSITIONS`` table
``{(status, action): Transition(to=..., roles=...)}`` — pure data. Its service builds a
``StateMachine`` over the model and calls ``fire()``, the only writer of ``status``: it checks the
table and the actor's roles, does a compare-and-set ``UPDATE … WHERE id = :id AND status =
:expected`` (a concurrent change loses with 409, never silently overwrites), and appends an audit
row with actor, before and after.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from app.core import audit, clock
from app.core.db import db
from app.core.errors import Conflict, Forbidden


@dataclass(frozen=True)
class Transition:
    to: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def allows(self, roles: Iterable[str]) -> bool:
        return not self.roles or bool(self.roles.intersection(roles))


def t(to: str, *roles: str) -> Transition:
    """Shorthand for transition tables: ``t("accepted", "worker")``."""
    return Transition(to=str(to), roles=frozenset(str(r) for r in roles))


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
    ):
        self.model = model
        self.transitions = {(str(s), str(a)): tr for (s, a), tr in transitions.items()}
        self.entity = entity
        self.messages = dict(messages or {})

    def actions_for(self, status: str, roles: Iterable[str]) -> list[str]:
        roles = set(roles)
        return sorted(a for (s, a), tr in self.transitions.items() if s == str(status) and tr.allows(roles))

    def target(self, status: str, action: str) -> Transition | None:
        return self.transitions.get((str(status), str(action)))

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
    ) -> str:
        """Move ``obj`` by ``action``; return the new status. Flushes, never commits.

        ``expect`` adds columns to the compare-and-set (``{"assignee_id": 7}``: only if the ticket is
        still assigned to 7), for rules that depend on more than the status; ``None`` means IS NULL.
        """
        current = str(obj.status)
        transition = self.target(current, action)
        if transition is None:
            raise InvalidTransition(
                f"{self.entity}.invalid_transition",
                self.messages.get("invalid_transition", InvalidTransition.message),
            )
        if check_roles and not transition.allows(roles):
            raise Forbidden(f"{self.entity}.forbidden", self.messages.get("forbidden", Forbidden.message))
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
        return transition.to
