"""Deadline arithmetic: spans like ``30m``, ``24h``, ``3wd`` and the school's working-day calendar.

Pure functions (no database): the service loads the calendar and passes it in, tests call them directly.

* ``m`` / ``h`` / ``d`` are clock time: a burst pipe does not wait for Monday.
* ``wh`` / ``wd`` are *working time*: only the hours of working days count, a working day counting as
  24 hours. "3 working days" from Friday 15:00 therefore ends on Wednesday 15:00, and a report made on
  Saturday starts counting on Monday 00:00 (ending at the end of Wednesday). Counting whole days rather
  than office hours keeps the rule the one people say out loud ("three working days") without a
  second table of office hours, and is what the school's policy means by it.
* A working day is a weekday that is not a holiday, or a make-up working day (调休上班) on a weekend;
  dates are the school's (``SCHOOL_TIMEZONE``), so a deadline falls where people expect it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.repairs.states import SPAN_PATTERN

_SPAN_RE = re.compile(SPAN_PATTERN)
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
          "wh": timedelta(hours=1), "wd": timedelta(days=1)}
_MAX_DAYS_WALKED = 3 * 366
"""A calendar that has no working day for three years is a mistake; stop rather than loop."""


@dataclass(frozen=True)
class Span:
    amount: int
    unit: str

    @property
    def working(self) -> bool:
        return self.unit in {"wh", "wd"}

    @property
    def length(self) -> timedelta:
        return self.amount * _UNITS[self.unit]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_span(text: str) -> Span:
    match = _SPAN_RE.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"invalid span {text!r}: use e.g. 30m, 2h, 1d, 8wh, 3wd")
    return Span(int(match[1]), match[2])


def span_label(text: str) -> str:
    """``3wd`` -> ``3个工作日`` (for people)."""
    span = parse_span(text)
    return f"{span.amount}" + {"m": "分钟", "h": "小时", "d": "天", "wh": "个工作小时", "wd": "个工作日"}[span.unit]


@dataclass(frozen=True)
class Calendar:
    """The school's calendar: ``overrides`` maps a date to ``"holiday"`` (a weekday off) or
    ``"workday"`` (a weekend day worked); every other weekday works, every other weekend day does not."""

    zone: ZoneInfo
    overrides: Mapping[date, str]

    def is_working_day(self, day: date) -> bool:
        kind = self.overrides.get(day)
        if kind == "holiday":
            return False
        if kind == "workday":
            return True
        return day.weekday() < 5

    def add(self, start: datetime, span: Span | str) -> datetime:
        """``start`` plus the span; UTC-aware in, UTC-aware out."""
        if start.tzinfo is None:
            raise ValueError("naive datetime")
        span = parse_span(span) if isinstance(span, str) else span
        if not span.working:
            return (start.astimezone(UTC) + span.length).astimezone(UTC)
        return self.add_working(start, span.length)

    def add_working(self, start: datetime, length: timedelta) -> datetime:
        """The instant when ``length`` of working-day time has passed since ``start``."""
        remaining = length
        current = start.astimezone(UTC)
        for _ in range(_MAX_DAYS_WALKED):
            local = current.astimezone(self.zone)
            day = local.date()
            next_midnight = datetime.combine(day + timedelta(days=1), time(0), self.zone).astimezone(UTC)
            if self.is_working_day(day):
                available = next_midnight - current
                if remaining <= available:
                    return current + remaining
                remaining -= available
            current = next_midnight
        raise ValueError("the calendar has no working days ahead")
