"""Statistics for dispatchers and admins (time to accept, time to repair, deadlines met, satisfaction,
cost) by category, building, worker or month, and their export as a workbook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, extract, func, or_, select

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.sheets import write_workbook
from app.places import service as places_service
from app.repairs.models import Repair, RepairCategory, RepairDeadline
from app.repairs.states import OPEN_STATUSES, STATUS_LABELS, URGENCY_LABELS, Status, Urgency
from app.users import service as users_service

DIMENSIONS = ("category", "building", "worker", "month")
DIMENSION_LABELS = {"category": "类别", "building": "楼栋", "worker": "维修工", "month": "月份"}


@dataclass
class StatsRow:
    key: str
    label: str
    reports: int
    completed: int
    avg_accept_minutes: float | None
    avg_repair_minutes: float | None
    sla_decided: int
    sla_met: int
    avg_rating: float | None
    ratings: int
    auto_ratings: int
    material_cost_fen: int
    labour_minutes: int

    @property
    def sla_compliance(self) -> float | None:
        return round(100.0 * self.sla_met / self.sla_decided, 1) if self.sla_decided else None


def _range(date_from: date | None, date_to: date | None) -> list[Any]:
    zone = clock.school_zone()
    conditions = [Repair.status != Status.CANCELLED]
    if date_from:
        conditions.append(Repair.created_at >= datetime.combine(date_from, time(0), zone))
    if date_to:
        conditions.append(Repair.created_at < datetime.combine(date_to + timedelta(days=1), time(0), zone))
    return conditions


def _sla_columns(now: datetime):
    """Per repair: decided (some level-1 deadline was met or passed) and breached (one was missed)."""
    d = RepairDeadline
    base = [d.repair_id == Repair.id, d.level == 1, d.voided_at.is_(None)]
    decided = exists().where(*base, or_(d.met_at.is_not(None), d.due_at < now))
    breached = exists().where(*base, or_(d.met_at > d.due_at, and_(d.met_at.is_(None), d.due_at < now)))
    return decided, breached


def statistics(*, actor: Actor, by: str = "category", date_from: date | None = None,
               date_to: date | None = None) -> list[StatsRow]:
    """Time to accept, time to repair, SLA compliance, satisfaction and cost per category, building,
    worker or month (cancelled repairs left out). Satisfaction counts only ratings people gave;
    automatic ratings are counted apart."""
    require_roles(actor, "dispatcher", "admin")
    now = clock.now()
    zone_name = str(clock.school_zone())
    if by == "category":
        key = Repair.category_id
    elif by == "building":
        key = Repair.building_id
    elif by == "worker":
        key = Repair.assignee_id
    else:
        key = func.to_char(func.timezone(zone_name, Repair.created_at), "YYYY-MM")
    decided, breached = _sla_columns(now)
    manual = and_(Repair.rating.is_not(None), Repair.rating_auto.is_(False))
    stmt = (
        select(
            key.label("key"),
            func.count().label("reports"),
            func.count(Repair.completed_at).label("completed"),
            func.avg(_minutes(Repair.accepted_at, Repair.created_at)).label("accept"),
            func.avg(_minutes(Repair.completed_at, Repair.created_at)).label("repair"),
            func.count().filter(decided).label("decided"),
            func.count().filter(and_(decided, ~breached)).label("met"),
            func.avg(Repair.rating).filter(manual).label("rating"),
            func.count().filter(manual).label("ratings"),
            func.count().filter(Repair.rating_auto.is_(True)).label("auto_ratings"),
            func.coalesce(func.sum(Repair.material_cost_fen), 0).label("cost"),
            func.coalesce(func.sum(Repair.labour_minutes), 0).label("labour"),
        )
        .where(*_range(date_from, date_to))
        .group_by(key)
        .order_by(key)
    )
    rows = db.session.execute(stmt).all()
    labels = _labels(by, [r.key for r in rows])
    return [StatsRow(
        key="" if r.key is None else str(r.key), label=labels.get(r.key, "未分配" if r.key is None else str(r.key)),
        reports=r.reports, completed=r.completed, avg_accept_minutes=_round(r.accept),
        avg_repair_minutes=_round(r.repair), sla_decided=r.decided, sla_met=r.met, avg_rating=_round(r.rating, 2),
        ratings=r.ratings, auto_ratings=r.auto_ratings, material_cost_fen=int(r.cost), labour_minutes=int(r.labour),
    ) for r in rows]


@dataclass
class Workload:
    """Open work now: open repairs, those past their deadline, those nobody has been given."""

    open: int
    overdue: int
    unassigned: int


def workload(*, actor: Actor) -> Workload:
    """The dispatcher's queue in three numbers (the same conditions as ``list_queue``'s filters)."""
    require_roles(actor, "dispatcher", "admin")
    now = clock.now()
    is_open = Repair.status.in_([str(s) for s in OPEN_STATUSES])
    row = db.session.execute(select(
        func.count().filter(is_open),
        func.count().filter(and_(is_open, Repair.due_at <= now)),
        func.count().filter(and_(is_open, Repair.assignee_id.is_(None))),
    )).one()
    return Workload(*(int(v or 0) for v in row))


def daily_reports(*, actor: Actor, date_from: date, date_to: date) -> list[tuple[date, int]]:
    """Repairs reported per school day from ``date_from`` to ``date_to`` (cancelled ones left out),
    every day listed, those without a report as 0."""
    require_roles(actor, "dispatcher", "admin")
    day = func.date(func.timezone(str(clock.school_zone()), Repair.created_at))
    counts = dict(db.session.execute(
        select(day, func.count()).where(*_range(date_from, date_to)).group_by(day)).all())
    days = (date_to - date_from).days + 1
    return [(d, int(counts.get(d, 0))) for d in (date_from + timedelta(days=i) for i in range(max(days, 0)))]


def _minutes(later, earlier):
    return extract("epoch", later - earlier) / 60


def _round(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    present = [k for k in keys if k is not None]
    if by == "category":
        return dict(db.session.execute(select(RepairCategory.id, RepairCategory.name).where(
            RepairCategory.id.in_(present))).all()) if present else {}
    if by == "worker":
        return users_service.display_names(present)
    if by == "building":
        return {k: places_service.get_place(k).name for k in present}
    return {k: str(k) for k in present}


STATS_HEADER = ["", "报修数", "已完成", "平均接单(分钟)", "平均修复(分钟)", "时限达标率(%)", "满意度(星)", "评价数",
                "自动好评数", "材料费(元)", "工时(分钟)"]
DETAIL_HEADER = ["单号", "报修时间", "类别", "地点", "紧急程度", "状态", "维修工", "接单用时(分钟)", "修复用时(分钟)",
                 "时限达标", "评分", "自动评价", "材料费(元)", "工时(分钟)"]
MAX_EXPORT_ROWS = 50_000


def export_statistics(*, actor: Actor, date_from: date | None = None, date_to: date | None = None) -> bytes:
    """The statistics by every dimension plus one row per repair, as .xlsx (the export is audited)."""
    require_roles(actor, "dispatcher", "admin")
    sheets = []
    for by in DIMENSIONS:
        rows = statistics(actor=actor, by=by, date_from=date_from, date_to=date_to)
        header = [DIMENSION_LABELS[by], *STATS_HEADER[1:]]
        sheets.append((f"按{DIMENSION_LABELS[by]}", header, [_stats_cells(r) for r in rows]))
    sheets.append(("明细", DETAIL_HEADER, _detail_rows(date_from, date_to)))
    audit.record("repair_export", 0, "export", actor_id=actor.user_id,
                 data={"from": date_from.isoformat() if date_from else None,
                       "to": date_to.isoformat() if date_to else None})
    return write_workbook(sheets)


def _stats_cells(r: StatsRow) -> list[Any]:
    return [r.label, r.reports, r.completed, r.avg_accept_minutes, r.avg_repair_minutes, r.sla_compliance,
            r.avg_rating, r.ratings, r.auto_ratings, r.material_cost_fen / 100, r.labour_minutes]


def _detail_rows(date_from: date | None, date_to: date | None) -> list[list[Any]]:
    now = clock.now()
    decided, breached = _sla_columns(now)
    stmt = (select(Repair, decided.label("decided"), breached.label("breached"))
            .where(*_range(date_from, date_to)).order_by(Repair.id).limit(MAX_EXPORT_ROWS))
    rows = db.session.execute(stmt).all()
    names = users_service.display_names({r.Repair.assignee_id for r in rows})
    out = []
    for repair, was_decided, was_breached in rows:
        accept = (repair.accepted_at - repair.created_at).total_seconds() / 60 if repair.accepted_at else None
        fixed = (repair.completed_at - repair.created_at).total_seconds() / 60 if repair.completed_at else None
        out.append([
            repair.id, clock.to_local(repair.created_at).strftime("%Y-%m-%d %H:%M"), repair.category.name,
            repair.place_name, URGENCY_LABELS[Urgency(repair.urgency)], STATUS_LABELS[Status(repair.status)],
            names.get(repair.assignee_id, ""), _round(accept), _round(fixed),
            ("否" if was_breached else "是") if was_decided else "", repair.rating, "是" if repair.rating_auto else "",
            repair.material_cost_fen / 100, repair.labour_minutes,
        ])
    return out
