"""月报: one month's key figures per module against the previous month, from the domains' own service
functions with the viewer as actor.

A module whose service refuses the viewer (Forbidden) is left out, as on 首页, so the report shows
exactly what the API would let that person see. Each figure carries its definition (口径), shown on
hover and written into the .xlsx.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from app.canteen import service as canteen_service
from app.core import audit, clock
from app.core.auth import Actor
from app.core.errors import Forbidden, ValidationFailed
from app.core.sheets import write_workbook
from app.fees import service as fees_service
from app.meetings import service as meetings_service
from app.notifications import service as notifications_service
from app.payments import service as payments_service
from app.repairs import service as repairs_service

MONTH_FORMAT = "YYYY-MM"


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return self.next.first - timedelta(days=1)

    @property
    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    @property
    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year} 年 {self.month} 月"

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def start(self) -> datetime:
        """Midnight of the month's first day, school time (an aware datetime)."""
        return datetime.combine(self.first, time(0), clock.school_zone())


def this_month() -> Month:
    today = clock.local_now().date()
    return Month(today.year, today.month)


def parse_month(text: str | None) -> Month:
    """``YYYY-MM`` (this month when empty): 422 for anything else, a month before 2000 or after this one."""
    if not text:
        return this_month()
    parts = text.split("-")
    if (len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2
            or not all(p.isascii() and p.isdigit() for p in parts) or not 1 <= int(parts[1]) <= 12):
        raise ValidationFailed(message=f"月份格式应为 {MONTH_FORMAT}，例如 2026-09",
                               errors={"month": ["月份格式不正确"]})
    month = Month(int(parts[0]), int(parts[1]))
    if month.year < 2000:
        raise ValidationFailed(message="月份应在 2000 年之后", errors={"month": ["月份超出范围"]})
    if month.first > this_month().first:
        raise ValidationFailed(message="不能查看未来月份的月报", errors={"month": ["月份晚于本月"]})
    return month


@dataclass
class Figure:
    """One key figure of the month and of the month before. ``comparable`` is False for a figure that is
    not sliced by month (a term's running total): no difference is shown."""

    key: str
    label: str
    definition: str
    value: float | int | None
    previous: float | int | None
    unit: str = ""
    href: str | None = None
    comparable: bool = True
    digits: int = 0
    better: bool | None = True
    """Whether more is better (green up), worse (red up), or neither (no colour: more reports)."""

    @property
    def delta(self) -> float | int | None:
        if not self.comparable or self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, self.digits) if self.digits else self.value - self.previous

    def show(self, value: float | int | None, *, signed: bool = False) -> str:
        """A value as the page prints it: ``—`` when there is none, ``digits`` decimals, thousands apart."""
        if value is None:
            return "—"
        return f"{value:{'+' if signed else ''},.{self.digits}f}"

    @property
    def trend(self) -> str:
        """``better`` / ``worse`` than the previous month, or empty (no change, no judgement, nothing to compare)."""
        delta = self.delta
        if not delta or self.better is None:
            return ""
        return "better" if (delta > 0) == self.better else "worse"

    @property
    def arrow(self) -> str:
        delta = self.delta
        if delta is None:
            return ""
        return "↑" if delta > 0 else "↓" if delta < 0 else "→"


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure]
    charts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    month: Month
    sections: list[Section]

    def charts(self) -> dict[str, Any]:
        return {s.key: s.charts for s in self.sections if s.charts}


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _yuan(fen: int | None) -> float | None:
    return None if fen is None else round(fen / 100, 2)


def _repairs(actor: Actor, month: Month) -> Section:
    rows = {r.key: r for r in repairs_service.statistics(actor=actor, by="month", date_from=month.previous.first,
                                                         date_to=month.last)}
    now, before = rows.get(month.key), rows.get(month.previous.key)

    def pick(get: Callable[[repairs_service.StatsRow], Any], empty: Any = 0) -> tuple[Any, Any]:
        return (get(now) if now else empty), (get(before) if before else empty)

    def hours(r: repairs_service.StatsRow) -> float | None:
        return _round(r.avg_repair_minutes / 60, 1) if r.avg_repair_minutes is not None else None

    figures = [
        Figure("repairs-reported", "报修数", "当月（学校时区）提交的报修单数，不含已撤销的",
               *pick(lambda r: r.reports), better=None),
        Figure("repairs-completed", "已完成", "当月提交的报修单中已维修完成的单数", *pick(lambda r: r.completed)),
        Figure("repairs-sla", "接单时限达标率",
               "当月提交、首个时限已有结果的报修单中，在时限内接单（一级时限未超）的比例",
               *pick(lambda r: r.sla_compliance, None), unit="%", digits=1),
        Figure("repairs-repair-hours", "平均修复用时",
               "当月提交且已完成的报修单，从提交到维修完成的平均用时（小时）",
               *pick(hours, None), unit=" 小时", digits=1, better=False),
        Figure("repairs-satisfaction", "满意度",
               "当月提交的报修单中，报修人亲自评价的平均星级（1–5 星，不含超时自动好评）",
               *pick(lambda r: r.avg_rating, None), unit=" 星", digits=2),
        Figure("repairs-cost", "材料费", "当月提交的报修单登记的材料费合计（元）",
               *pick(lambda r: _yuan(r.material_cost_fen), 0.0), unit=" 元", digits=2, better=None),
    ]
    daily = repairs_service.daily_reports(actor=actor, date_from=month.first, date_to=month.last)
    categories = repairs_service.statistics(actor=actor, by="category", date_from=month.first, date_to=month.last)
    charts = {"daily": {"labels": [f"{d.month}/{d.day}" for d, _ in daily], "values": [n for _, n in daily]},
              "categories": [{"name": r.label, "value": r.reports} for r in categories if r.reports]}
    return Section("repairs", "报修", figures, charts)


def _meetings(actor: Actor, month: Month) -> Section:
    now = meetings_service.overall(actor=actor, start=month.first, end=month.last)
    before = meetings_service.overall(actor=actor, start=month.previous.first, end=month.previous.last)

    def percent(figures: dict[str, Any]) -> float | None:
        return None if figures["rate"] is None else round(figures["rate"] * 100, 1)

    return Section("meetings", "会议", [
        Figure("meetings-held", "会议场数", "当月开始、已结束签到的会议场数（不含已取消的）",
               now["meetings"], before["meetings"], better=None),
        Figure("meetings-rate", "出勤率", "当月已结束签到的会议（不含已取消的）：签到人次 ÷（应到人次 − 请假人次）",
               percent(now), percent(before), unit="%", digits=1),
        Figure("meetings-absent", "缺席人次", "当月已结束签到的会议中，既未签到也未请假的人次",
               now["absent"], before["absent"], better=False),
    ], {"comparison": {"labels": [month.previous.label, month.label],
                       "checked_in": [before["checked_in"], now["checked_in"]],
                       "absent": [before["absent"], now["absent"]]}})


def _notifications(actor: Actor, month: Month) -> Section:
    """Deliveries created in each month, by their status now (each month's own rows: the created_at index)."""
    counts = {m: notifications_service.delivery_counts(actor=actor, since=m.start(), until=m.next.start())
              for m in (month.previous, month)}

    def created(m: Month, *statuses: str) -> int:
        return sum(counts[m][s] for s in statuses)

    return Section("notifications", "消息推送", [
        Figure("notifications-sent", "已发送", "当月创建、已成功发到微信或企业微信的推送数",
               created(month, "sent"), created(month.previous, "sent"), better=None),
        Figure("notifications-failed", "发送失败", "当月创建、目前发送失败（等待重试或已停止发送）的推送数",
               created(month, "failed", "dead"), created(month.previous, "failed", "dead"), better=False),
        Figure("notifications-skipped", "未推送", "当月创建、因未订阅或非教职工等原因未推送的消息数（站内信仍可见）",
               created(month, "skipped"), created(month.previous, "skipped"), better=None),
    ])


def _fees(actor: Actor, month: Month) -> Section | None:
    """The term's collection rate (fees: finance and admins) and the month's WeChat Pay takings
    (payments: finance and admins); each part the viewer's services refuse is left out."""
    figures = []
    try:
        until = month.next.start()
        now = payments_service.paid_figures(actor=actor, since=month.start(), until=until)
        before = payments_service.paid_figures(actor=actor, since=month.previous.start(), until=month.start())
        figures.append(Figure(
            "fees-paid", "微信支付收款",
            "当月（学校时区）支付成功的微信支付金额合计（缴费与食堂；含之后退款的，退款另计）",
            _yuan(now["amount_fen"]), _yuan(before["amount_fen"]), unit=" 元", digits=2))
        figures.append(Figure("fees-paid-count", "收款笔数", "当月支付成功的微信支付笔数",
                              now["count"], before["count"]))
    except Forbidden:
        pass
    try:
        term = fees_service.current_term(month.last)
        figures_term = fees_service.term_collection(actor=actor, term=term)
        rate = None if figures_term["rate"] is None else round(figures_term["rate"] * 100, 1)
        so_far = "截至现在，学期累计，不按月比较"
        figures.append(Figure(
            "fees-term-collected", f"{term} 已收", f"本学期（{term}）所有缴费项目已缴账单的金额合计（{so_far}）",
            _yuan(figures_term["paid_fen"]), None, unit=" 元", comparable=False, digits=2))
        figures.append(Figure(
            "fees-term-rate", f"{term} 收缴率",
            f"本学期（{term}）所有缴费项目：已缴账单金额 ÷ 应缴账单金额（不含已减免的，已退费的不算已缴；{so_far}）",
            rate, None, unit="%", comparable=False, digits=1))
    except Forbidden:
        pass
    return Section("fees", "缴费", figures) if figures else None


def _canteen_month(actor: Actor, month: Month) -> tuple[list[int], int, int]:
    orders = [canteen_service.day_figures(actor=actor, day=d)["orders"] for d in month.days()]
    revenue = waste = 0
    for canteen in canteen_service.list_canteens():
        for row in canteen_service.sales(actor=actor, canteen_id=canteen.id, date_from=month.first,
                                         date_to=month.last):
            revenue += row.revenue_fen
            waste += row.waste
    return orders, revenue, waste


def _canteen(actor: Actor, month: Month) -> Section:
    canteen_service.require_staff(actor)
    orders, revenue, waste = _canteen_month(actor, month)
    orders_before, revenue_before, waste_before = _canteen_month(actor, month.previous)
    return Section("canteen", "食堂", [
        Figure("canteen-orders", "订单数", "当月各食堂菜单上已支付的订单数（含已取餐、未取餐的）",
               sum(orders), sum(orders_before)),
        Figure("canteen-sales", "销售额", "当月各食堂售出份数的实付金额合计（元，已取消订单的退款不在内）",
               _yuan(revenue), _yuan(revenue_before), unit=" 元", digits=2),
        Figure("canteen-waste", "损耗份数", "当月做了而没有被吃掉的份数：未取餐的份数加未售出的份数",
               waste, waste_before, better=False),
    ], {"daily": {"labels": [f"{d.month}/{d.day}" for d in month.days()], "values": orders}})


def monthly_report(*, actor: Actor, month: Month) -> Report:
    """The sections this person may see, in a fixed order (报修, 会议, 消息推送, 缴费, 食堂)."""
    sections: list[Section] = []
    for build in (_repairs, _meetings, _notifications, _fees, _canteen):
        try:
            section = build(actor, month)
        except Forbidden:
            continue
        if section is not None:
            sections.append(section)
    return Report(month, sections)


REPORT_HEADER = ["模块", "指标", "本月", "上月", "变化", "单位", "口径"]


def export_report(*, actor: Actor, report: Report) -> bytes:
    """The report as .xlsx (openpyxl write-only): the figures, then the charts' data (the export is
    audited)."""
    figures = [[s.title, f.label, f.value, f.previous if f.comparable else None, f.delta, f.unit.strip(), f.definition]
               for s in report.sections for f in s.figures]
    sheets: list[tuple[str, list[str], list[list[Any]]]] = [(f"月报 {report.month.key}", REPORT_HEADER, figures)]
    for section in report.sections:
        daily = section.charts.get("daily")
        if daily:
            points = zip(daily["labels"], daily["values"], strict=True)
            sheets.append((f"{section.title}每日", ["日期", "数量"], [list(p) for p in points]))
    audit.record("console_report", 0, "export", actor_id=actor.user_id,
                 data={"month": report.month.key, "sections": [s.key for s in report.sections]})
    return write_workbook(sheets)
