"""首页: today's and this month's figures per module, from the domains' own service functions.

Each section asks its domain with the viewer as actor; a section the viewer may not see (the domain's
service answers Forbidden) is left out, so the console shows exactly what the API would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from app.canteen import service as canteen_service
from app.core import clock
from app.core.auth import Actor
from app.core.errors import Forbidden
from app.fees import service as fees_service
from app.meetings import service as meetings_service
from app.notifications import service as notifications_service
from app.payments import service as payments_service
from app.repairs import service as repairs_service


@dataclass
class Period:
    """Repair figures of a period (cancelled repairs left out), summed over categories."""

    reports: int = 0
    completed: int = 0
    sla_decided: int = 0
    sla_met: int = 0
    ratings: int = 0
    rating_sum: float = 0.0

    @property
    def sla_percent(self) -> float | None:
        return round(100.0 * self.sla_met / self.sla_decided, 1) if self.sla_decided else None

    @property
    def satisfaction(self) -> float | None:
        return round(self.rating_sum / self.ratings, 2) if self.ratings else None


@dataclass
class Dashboard:
    today: date
    month_start: date
    week_start: date
    repairs: dict[str, Any] | None = None
    meetings: dict[str, Any] | None = None
    notifications: dict[str, Any] | None = None
    finance: dict[str, Any] | None = None
    canteen: dict[str, int] | None = None
    charts: dict[str, Any] = field(default_factory=dict)


def _period(rows: list[repairs_service.StatsRow]) -> Period:
    p = Period()
    for r in rows:
        p.reports += r.reports
        p.completed += r.completed
        p.sla_decided += r.sla_decided
        p.sla_met += r.sla_met
        p.ratings += r.ratings
        p.rating_sum += (r.avg_rating or 0) * r.ratings
    return p


def _repairs(actor: Actor, today: date, month_start: date, charts: dict[str, Any]) -> dict[str, Any]:
    workload = repairs_service.workload(actor=actor)
    month_rows = repairs_service.statistics(actor=actor, by="category", date_from=month_start, date_to=today)
    today_rows = repairs_service.statistics(actor=actor, by="category", date_from=today, date_to=today)
    daily = repairs_service.daily_reports(actor=actor, date_from=month_start, date_to=today)
    charts["daily"] = {"labels": [f"{d.month}/{d.day}" for d, _ in daily], "values": [n for _, n in daily]}
    charts["categories"] = [{"name": r.label, "value": r.reports} for r in month_rows if r.reports]
    return {"workload": workload, "today": _period(today_rows), "month": _period(month_rows)}


def _notifications(actor: Actor, today: date) -> dict[str, Any]:
    since = datetime.combine(today, time(0), clock.school_zone())
    return {"all": notifications_service.delivery_counts(actor=actor, statuses=("failed", "dead")),
            "today": notifications_service.delivery_counts(actor=actor, since=since)}


def _finance(actor: Actor, today: date) -> dict[str, Any] | None:
    """Today's payments and open alerts (payments: finance), this term's collection rate (fees: finance and
    admins); each part the viewer's services refuse is left out."""
    out: dict[str, Any] = {}
    try:
        start = datetime.combine(today, time(0), clock.school_zone())
        out["today"] = payments_service.paid_figures(actor=actor, since=start, until=start + timedelta(days=1))
        out["open_alerts"] = payments_service.open_alert_count(actor=actor)
    except Forbidden:
        pass
    try:
        out["term"] = fees_service.term_collection(actor=actor, term=fees_service.current_term(today))
    except Forbidden:
        pass
    return out or None


def dashboard(*, actor: Actor) -> Dashboard:
    today = clock.local_now().date()
    board = Dashboard(today=today, month_start=today.replace(day=1), week_start=today - timedelta(days=today.weekday()))
    try:
        board.repairs = _repairs(actor, today, board.month_start, board.charts)
    except Forbidden:
        pass
    try:
        board.meetings = meetings_service.overall(actor=actor, start=board.week_start, end=today)
    except Forbidden:
        pass
    try:
        board.notifications = _notifications(actor, today)
    except Forbidden:
        pass
    board.finance = _finance(actor, today)
    if canteen_service.is_staff(actor):
        board.canteen = canteen_service.day_figures(actor=actor, day=today)
    return board
