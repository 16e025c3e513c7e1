"""Deadlines and their escalation.

**Deadlines** are rows (``RepairDeadline``): accept / arrive / finish, each at level 1 (the deadline)
and level 2 (the same span again). One timer per repair (``app.core.timers``, kind ``repairs.deadline``,
subject the repair) waits for the deadline that can escalate next; when it fires it escalates what is due
and re-checks, and every step moves it to the next one (``schedule_pending``; none pending: cancelled), so a
report keeps one timer, not six. The timers' sweep fires one whose job was lost. Escalating is a
conditional UPDATE of ``escalated_at`` and the notifications carry idempotency keys, so two firings never
notify twice. Level 1 tells the dispatchers (and reminds the worker); level 2 tells the admins (督办). Time
on hold does not count against the finish deadline: while on hold nothing escalates, and leaving
``on_hold`` moves the open deadlines by the time spent there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from app.core import audit, clock, timers
from app.core.db import db
from app.notifications import service as notifications
from app.repairs import events
from app.repairs.models import Repair, RepairDeadline
from app.repairs.service.lifecycle import ENTITY, OPEN
from app.repairs.service.notices import ALERT, TASK, link_to, name_of, notice_data, repair_title
from app.repairs.service.policies import calendar
from app.repairs.states import DEADLINE_LABELS, MET_BY_ACTION, STATUS_LABELS, DeadlineKind, Status, Urgency
from app.users import service as users_service

DEADLINE_TIMER = "repairs.deadline"
"""The timer kind of a repair's next deadline (subject: the repair); its handler is ``escalate_due``."""


def deadline_plan(spans: dict[str, str], start: datetime) -> list[tuple[str, int, datetime]]:
    """``(kind, level, due)`` of a round starting at ``start``: level 2 is the same span after level 1."""
    cal = calendar()
    plan = []
    for kind in DeadlineKind:
        due1 = cal.add(start, spans[kind])
        plan += [(str(kind), 1, due1), (str(kind), 2, cal.add(due1, spans[kind]))]
    return plan


def add_deadlines(repair: Repair, plan: list[tuple[str, int, datetime]]) -> None:
    rows = [RepairDeadline(repair_id=repair.id, round=repair.sla_round, kind=kind, level=level, due_at=due)
            for kind, level, due in plan]
    db.session.add_all(rows)
    db.session.flush()
    schedule_pending(repair, rows)


def schedule_pending(repair: Repair, rows: list[RepairDeadline] | None = None) -> None:
    """Move the repair's timer to the deadline that can escalate next (a level 1, or a level 2 whose level 1
    did); cancel it when none can (met, voided, escalated, on hold, closed).

    Whatever moves the deadlines (a step met, an escalation, a hold, a resume, a new urgency) calls this
    again; a timer that fires early finds nothing due and is armed again."""
    first = None
    if _watched(repair):
        first = _next_pending(deadlines_of(repair, current_round=True) if rows is None else rows)
    if first is None:
        timers.cancel(DEADLINE_TIMER, repair.id)
    elif timers.pending(DEADLINE_TIMER, repair.id) != first.due_at:
        timers.schedule(DEADLINE_TIMER, repair.id, first.due_at)


def _watched(repair: Repair) -> bool:
    """Open and not on hold: its deadlines run."""
    return repair.status in OPEN and repair.status != Status.ON_HOLD


def _next_pending(rows: list[RepairDeadline]) -> RepairDeadline | None:
    escalated_first = {d.kind for d in rows if d.level == 1 and d.escalated_at is not None}
    pending = [d for d in rows if not (d.met_at or d.voided_at or d.escalated_at)
               and (d.level == 1 or d.kind in escalated_first)]
    return min(pending, key=lambda d: (d.due_at, d.id)) if pending else None


def replan(repair: Repair, plan: list[tuple[str, int, datetime]]) -> None:
    """The round's deadlines not yet met follow a new plan (a new urgency); the timer follows them."""
    for kind, level, due in plan:
        db.session.execute(update(RepairDeadline).where(
            RepairDeadline.repair_id == repair.id, RepairDeadline.round == repair.sla_round,
            RepairDeadline.kind == kind, RepairDeadline.level == level, RepairDeadline.met_at.is_(None))
            .values(due_at=due))
    schedule_pending(repair)


def deadlines_of(repair: Repair, *, current_round: bool = False) -> list[RepairDeadline]:
    stmt = select(RepairDeadline).where(RepairDeadline.repair_id == repair.id)
    if current_round:
        stmt = stmt.where(RepairDeadline.round == repair.sla_round)
    stmt = stmt.order_by(RepairDeadline.round, RepairDeadline.id).execution_options(populate_existing=True)
    return list(db.session.scalars(stmt))  # fresh: deadlines change by conditional UPDATEs


def meet(repair: Repair, action: str, when: datetime) -> None:
    """The step's deadlines are met; the timer moves on to the next one."""
    kind = MET_BY_ACTION[action]
    db.session.execute(update(RepairDeadline).where(
        RepairDeadline.repair_id == repair.id, RepairDeadline.round == repair.sla_round,
        RepairDeadline.kind == str(kind), RepairDeadline.met_at.is_(None), RepairDeadline.voided_at.is_(None))
        .values(met_at=when).execution_options(synchronize_session=False))
    schedule_pending(repair)


def end_hold(repair: Repair, held_at: datetime | None) -> None:
    """Time on hold does not count: push the open deadlines back by it and re-arm the timer."""
    if held_at is None:
        return
    paused = clock.now() - held_at
    db.session.execute(update(RepairDeadline).where(
        RepairDeadline.repair_id == repair.id, RepairDeadline.round == repair.sla_round,
        RepairDeadline.met_at.is_(None), RepairDeadline.voided_at.is_(None))
        .values(due_at=RepairDeadline.due_at + paused))
    schedule_pending(repair)


def refresh_due(repair: Repair) -> None:
    """``due_at`` = the earliest open level-1 deadline of the round (nothing while on hold or done)."""
    due = None
    if _watched(repair):
        due = db.session.scalar(select(func.min(RepairDeadline.due_at)).where(
            RepairDeadline.repair_id == repair.id, RepairDeadline.round == repair.sla_round,
            RepairDeadline.level == 1, RepairDeadline.met_at.is_(None), RepairDeadline.voided_at.is_(None)))
    if repair.due_at != due:
        repair.due_at = due
        db.session.flush()


def escalate_due(repair_id: int) -> int:
    """Timer ``repairs.deadline`` fired: escalate every deadline of the repair that is due now, in order (a
    level 2 only once its level 1 has), then arm the timer for the next one. Re-checks everything (a
    stale or early timer does nothing); returns how many escalated."""
    repair = db.session.get(Repair, repair_id)
    if repair is None:
        return 0
    escalated = 0
    if _watched(repair):
        now = clock.now()
        while (deadline := _next_pending(deadlines_of(repair, current_round=True))) is not None \
                and deadline.due_at <= now and _escalate(repair, deadline):
            escalated += 1
    schedule_pending(repair)
    return escalated


def check_deadline(deadline_id: int) -> bool:
    """Escalate this one deadline if it is due and still unmet (re-checked; idempotent). The entry point
    of the per-deadline RQ jobs scheduled before the repairs' timers moved to ``app.core.timers``."""
    deadline = db.session.get(RepairDeadline, deadline_id)
    if deadline is None or deadline.met_at or deadline.voided_at or deadline.escalated_at:
        return False
    repair = db.session.get(Repair, deadline.repair_id)
    if repair.sla_round != deadline.round or not _watched(repair):
        return False
    if deadline.due_at > clock.now():
        return False  # moved later (urgency lowered, time on hold): the repair's timer watches it
    if not _escalate(repair, deadline):
        return False
    schedule_pending(repair)
    return True


def _escalate(repair: Repair, deadline: RepairDeadline) -> bool:
    now = clock.now()
    won = db.session.execute(update(RepairDeadline).where(
        RepairDeadline.id == deadline.id, RepairDeadline.escalated_at.is_(None), RepairDeadline.met_at.is_(None),
        RepairDeadline.voided_at.is_(None)).values(escalated_at=now).returning(RepairDeadline.id)).first()
    if won is None:
        return False
    kind_label = DEADLINE_LABELS[DeadlineKind(deadline.kind)]
    level2 = deadline.level == 2
    recipients = users_service.users_with_roles("admin" if level2 else "dispatcher")
    title = f"{'督办' if level2 else '超时'}：{repair_title(repair)}"
    body = f"{kind_label}已超时（{STATUS_LABELS[Status(repair.status)]}）" + (
        f"，维修工：{name_of(repair.assignee_id)}" if repair.assignee_id else "，尚无人接单")
    data = notice_data(repair, due=deadline.due_at.isoformat(), kind=deadline.kind, level=deadline.level)
    urgency = "urgent" if (level2 or repair.urgency == Urgency.URGENT) else "normal"
    notifications.notify_many(user_ids=recipients, event=ALERT.event, title=title, body=body, data=data,
                              link=link_to(repair), urgency=urgency, idempotency_key=f"repairs:deadline:{deadline.id}")
    if not level2 and repair.assignee_id:
        notifications.notify(user_id=repair.assignee_id, event=TASK.event, title=f"任务已超时：{repair_title(repair)}",
                             body=f"{kind_label}已超时，请尽快处理", data=notice_data(repair), link=link_to(repair),
                             urgency=urgency, idempotency_key=f"repairs:deadline:{deadline.id}:worker")
    audit.record(ENTITY, repair.id, "escalate", actor_id=None,
                 data={"kind": deadline.kind, "level": deadline.level, "due_at": deadline.due_at.isoformat(),
                       "notified": len(recipients)})
    events.deadline_missed.send(repair.id, kind=deadline.kind, level=deadline.level)
    return True
