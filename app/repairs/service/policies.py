"""Deadline policies: the school's working-day calendar (weekends plus the days admins mark as holidays or
make-up working days) and the SLA policies (accept / arrive / finish spans per category and urgency)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import NotFound
from app.repairs.models import CalendarDay, RepairCategory, SlaPolicy
from app.repairs.service.errors import invalid
from app.repairs.sla import Calendar
from app.repairs.states import DEFAULT_SLA, Urgency


def calendar() -> Calendar:
    """The school's working-day calendar (weekends + the admin-managed exceptions)."""
    overrides = dict(db.session.execute(select(CalendarDay.day, CalendarDay.kind)).all())
    return Calendar(clock.school_zone(), overrides)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise invalid("day", "日期格式应为 YYYY-MM-DD") from exc


def list_calendar(*, actor: Actor, year: int) -> list[CalendarDay]:
    require_roles(actor, "dispatcher", "admin")
    stmt = select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return list(db.session.scalars(stmt.order_by(CalendarDay.day)))


def set_calendar_day(*, actor: Actor, day: date, kind: str, name: str = "") -> CalendarDay:
    require_roles(actor, "admin")
    stmt = insert(CalendarDay).values(day=day, kind=kind, name=name)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["day"], set_={
        "kind": stmt.excluded.kind, "name": stmt.excluded.name, "updated_at": clock.now()}))
    row = db.session.scalars(select(CalendarDay).where(CalendarDay.day == day)).one()
    db.session.refresh(row)
    audit.record("repair_calendar", row.id, "set", actor_id=actor.user_id,
                 after={"day": day.isoformat(), "kind": kind, "name": name})
    return row


def delete_calendar_day(*, actor: Actor, day: date) -> None:
    require_roles(actor, "admin")
    removed = db.session.execute(delete(CalendarDay).where(CalendarDay.day == day).returning(CalendarDay.id)).first()
    if removed is None:
        raise NotFound("repairs.calendar_day_not_found", "该日期没有特殊安排")
    audit.record("repair_calendar", removed[0], "delete", actor_id=actor.user_id, before={"day": day.isoformat()})


def list_sla_policies(*, actor: Actor) -> list[SlaPolicy]:
    require_roles(actor, "dispatcher", "admin")
    stmt = select(SlaPolicy).order_by(SlaPolicy.category_id.nulls_first(), SlaPolicy.urgency)
    return list(db.session.scalars(stmt))


def put_sla_policy(*, actor: Actor, category_id: int | None, urgency: str, accept_span: str, arrive_span: str,
                   finish_span: str) -> SlaPolicy:
    """Create or replace the policy of (category or default, urgency). Applies to new reports (and to
    a repair whose urgency is changed); deadlines already set stay as promised."""
    require_roles(actor, "admin")
    if category_id is not None and db.session.get(RepairCategory, category_id) is None:
        raise invalid("category_id", "类别不存在")
    policy = db.session.scalars(select(SlaPolicy).where(
        SlaPolicy.urgency == urgency,
        SlaPolicy.category_id.is_(None) if category_id is None else SlaPolicy.category_id == category_id)).first()
    spans = {"accept_span": accept_span, "arrive_span": arrive_span, "finish_span": finish_span}
    before = None
    if policy is None:
        policy = SlaPolicy(category_id=category_id, urgency=urgency, **spans)
        db.session.add(policy)
    else:
        before = {k: getattr(policy, k) for k in spans}
        for key, value in spans.items():
            setattr(policy, key, value)
    db.session.flush()
    audit.record("repair_sla_policy", policy.id, "put", actor_id=actor.user_id, before=before,
                 after={"category_id": category_id, "urgency": urgency, **spans})
    return policy


def sla_spans(category_id: int, urgency: str) -> dict[str, str]:
    """The spans for a new repair: the category's own policy, else the default policy, else the
    school's written policy (``DEFAULT_SLA``)."""
    policy = db.session.scalars(
        select(SlaPolicy)
        .where(SlaPolicy.urgency == urgency, or_(SlaPolicy.category_id == category_id, SlaPolicy.category_id.is_(None)))
        .order_by(SlaPolicy.category_id.nulls_last()).limit(1)
    ).first()
    if policy is None:
        return dict(DEFAULT_SLA[Urgency(urgency)])
    return {"accept": policy.accept_span, "arrive": policy.arrive_span, "finish": policy.finish_span}
