"""Deadline arithmetic: clock spans, working days, holidays and make-up days (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.repairs.sla import Calendar, parse_span, span_label

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


PLAIN = Calendar(SHANGHAI, {})
# 2026: Oct 1–7 off (National Day), Sat Oct 10 worked (调休)
NATIONAL_DAY = Calendar(SHANGHAI, {**{date(2026, 10, d): "holiday" for d in range(1, 8)},
                                   date(2026, 10, 10): "workday"})


@pytest.mark.parametrize(("text", "amount", "unit", "working"), [
    ("30m", 30, "m", False), ("2h", 2, "h", False), ("1d", 1, "d", False), ("8wh", 8, "wh", True),
    ("3wd", 3, "wd", True)])
def test_parse_span(text, amount, unit, working):
    span = parse_span(text)
    assert (span.amount, span.unit, span.working, str(span)) == (amount, unit, working, text)


@pytest.mark.parametrize("text", ["", "0m", "30", "m", "3 wd", "2x", "-1h", "1.5h", "123456m"])
def test_bad_spans_are_refused(text):
    with pytest.raises(ValueError):
        parse_span(text)


def test_span_labels():
    assert [span_label(s) for s in ("30m", "2h", "1d", "8wh", "3wd")] == [
        "30分钟", "2小时", "1天", "8个工作小时", "3个工作日"]


def test_clock_spans_ignore_the_calendar():
    start = local(2026, 10, 3, 23, 50)  # a holiday Saturday night
    assert NATIONAL_DAY.add(start, "30m") == local(2026, 10, 4, 0, 20)
    assert NATIONAL_DAY.add(start, "2h") == local(2026, 10, 4, 1, 50)
    assert NATIONAL_DAY.add(start, "1d").astimezone(UTC) == local(2026, 10, 4, 23, 50).astimezone(UTC)


def test_three_working_days_from_friday_afternoon_end_on_wednesday():
    assert PLAIN.add(local(2026, 11, 20, 15, 0), "3wd") == local(2026, 11, 25, 15, 0)


def test_a_weekend_report_starts_counting_on_monday():
    assert PLAIN.add(local(2026, 11, 21, 10, 0), "3wd") == local(2026, 11, 26, 0, 0)  # end of Wednesday
    assert PLAIN.add(local(2026, 11, 22, 23, 0), "8wh") == local(2026, 11, 23, 8, 0)


def test_holidays_do_not_count_and_make_up_days_do():
    # Tue Sep 29 10:00 + 3 working days: Tue(14h) Wed(24h) — Oct 1–7 off — Thu Oct 8 (24h) - ends Fri Oct 9 10:00
    assert NATIONAL_DAY.add(local(2026, 9, 29, 10, 0), "3wd") == local(2026, 10, 9, 10, 0)
    # Fri Oct 9 12:00 + 1 working day: the rest of Friday, then Saturday Oct 10 is a working day
    assert NATIONAL_DAY.add(local(2026, 10, 9, 12, 0), "1wd") == local(2026, 10, 10, 12, 0)
    assert NATIONAL_DAY.is_working_day(date(2026, 10, 10)) and not NATIONAL_DAY.is_working_day(date(2026, 10, 5))


def test_result_is_utc_and_naive_times_are_refused():
    result = PLAIN.add(local(2026, 11, 20, 15, 0), "3wd")
    assert result.tzinfo == UTC
    with pytest.raises(ValueError):
        PLAIN.add(datetime(2026, 11, 20, 15, 0), "1h")


def test_a_calendar_without_working_days_stops():
    with pytest.raises(ValueError, match="no working days"):
        Calendar(SHANGHAI, {date(2026, 1, 1): "holiday"} | {
            date.fromordinal(date(2026, 1, 1).toordinal() + i): "holiday" for i in range(1200)}).add(
            local(2026, 1, 1, 0, 0), "1wd")
