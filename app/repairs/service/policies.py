"""Deadline policies: the school's working-day calendar (weekends plus the days admins mark as holidays or
make-up working days, one at a time or a whole year's list at once) and the SLA policies (accept / arrive /
finish spans per category and urgency)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import NotFound
from app.core.schemas import MAX_YEAR, MIN_YEAR, text_problem
from app.core.sheets import RowErrors
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


CALENDAR_KINDS = {"休": "holiday", "假": "holiday", "放假": "holiday", "休息": "holiday", "holiday": "holiday",
                  "班": "workday", "上班": "workday", "补班": "workday", "调休上班": "workday", "workday": "workday"}
"""The words a pasted calendar line may use for its kind: a day off, or a make-up working day (调休上班)."""
MAX_CALENDAR_LINES = 400
MAX_CALENDAR_TEXT = 20_000
MAX_CALENDAR_RANGE_DAYS = 31
_DAY = r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
_CALENDAR_LINE = re.compile(rf"^{_DAY}(?:\s*(?:~|～|至|到)\s*{_DAY})?\s+(\S+)(?:\s+(.+))?$")
_SEPARATORS = re.compile(r"[,，、;；\t]+")
_WEEKDAYS = "一二三四五六日"


@dataclass
class CalendarImport:
    """What a list of days does (``dry_run``: would do): new days, days whose kind or name changes, and
    days already exactly so (left alone)."""

    dry_run: bool
    days: list[tuple[date, str, str]] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    @property
    def holidays(self) -> int:
        return sum(kind == "holiday" for _day, kind, _name in self.days)

    @property
    def workdays(self) -> int:
        return sum(kind == "workday" for _day, kind, _name in self.days)


def _calendar_day(parts: tuple[str, str, str]) -> date | str:
    try:
        day = date(*map(int, parts))
    except ValueError:
        return f"日期不存在：{'-'.join(parts)}"
    return day if MIN_YEAR <= day.year <= MAX_YEAR else f"日期应在 {MIN_YEAR} 年到 {MAX_YEAR} 年之间"


def _calendar_line(line: str) -> list[tuple[date, str, str]] | str:
    """``2026-10-01~2026-10-07 休 国庆节``, ``2026-09-27 班 国庆调休`` → the days it names, or why not."""
    match = _CALENDAR_LINE.match(_SEPARATORS.sub(" ", line).strip())
    if match is None:
        return "格式应为：日期（或 日期~日期） 休/班 名称，例如 2026-10-01~2026-10-07 休 国庆节"
    first = _calendar_day(match.group(1, 2, 3))
    last = _calendar_day(match.group(4, 5, 6)) if match[4] else first
    for problem in (first, last):
        if isinstance(problem, str):
            return problem
    kind, name = CALENDAR_KINDS.get(match[7]), (match[8] or "").strip()
    if kind is None:
        return f"类型“{match[7]}”无法识别：放假写“休”，调休上班写“班”"
    if last < first:
        return "结束日期早于开始日期"
    if (last - first).days >= MAX_CALENDAR_RANGE_DAYS:
        return f"一行最多 {MAX_CALENDAR_RANGE_DAYS} 天"
    if len(name) > 20:
        return "名称最多 20 个字"
    if problem := text_problem(name):
        return f"名称{problem}"
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if kind == "workday" and (weekday := next((d for d in days if d.weekday() < 5), None)):
        return f"{weekday} 是星期{_WEEKDAYS[weekday.weekday()]}，本来就上班，不必设为调休上班"
    return [(d, kind, name) for d in days]


def import_calendar(*, actor: Actor, text: str, dry_run: bool = False) -> CalendarImport:
    """A whole list of holidays and make-up working days at once (a year's 放假安排 pasted line by line:
    ``日期[~日期] 休|班 [名称]``; empty lines and lines starting with ``#`` are skipped): every line or none.
    A 422 lists every bad line (``errors.rows``: line number and reason) and writes nothing; ``dry_run``
    checks and counts only. Each day written is ``set_calendar_day``'s (audited); days already exactly so
    are left alone."""
    require_roles(actor, "admin")
    if len(text) > MAX_CALENDAR_TEXT:
        raise invalid("text", f"内容太长，最多 {MAX_CALENDAR_TEXT} 个字")
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.strip().startswith("#")]
    if not lines:
        raise invalid("text", "请填写要添加的日期，每行一条")
    if len(lines) > MAX_CALENDAR_LINES:
        raise invalid("text", f"一次最多 {MAX_CALENDAR_LINES} 行")
    errors, result, seen = RowErrors(), CalendarImport(dry_run=dry_run), {}
    for number, line in lines:
        parsed = _calendar_line(line)
        if isinstance(parsed, str):
            errors.add(number, None, parsed)
            continue
        if twice := next((d for d, _kind, _name in parsed if d in seen), None):
            errors.add(number, None, f"{twice} 与第 {seen[twice]} 行重复")
            continue
        seen.update((d, number) for d, _kind, _name in parsed)
        result.days += parsed
    errors.raise_if_any("repairs.calendar_invalid", f"有 {len(errors.errors)} 行有误，未添加任何日期")
    result.days.sort()
    existing = {day: (kind, name) for day, kind, name in db.session.execute(
        select(CalendarDay.day, CalendarDay.kind, CalendarDay.name).where(CalendarDay.day.in_(list(seen))))}
    for day, kind, name in result.days:
        before = existing.get(day)
        if before == (kind, name):
            result.unchanged += 1
            continue
        result.new += before is None
        result.changed += before is not None
        if not dry_run:
            set_calendar_day(actor=actor, day=day, kind=kind, name=name)
    return result


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
