"""The calendar's list import (``import_calendar``: every line or none) and who may see retired
categories (``list_all_categories``), at the service: the console's pages are their callers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Forbidden, ValidationFailed
from app.repairs import service
from app.repairs.models import CalendarDay
from tests.repairs.conftest import user_id

ADMIN = Actor(user_id=0, roles=frozenset({"admin"}))
DISPATCHER = Actor(user_id=0, roles=frozenset({"dispatcher"}))


def admin() -> Actor:
    return Actor(user_id=user_id("admin"), roles=frozenset({"admin"}))


def test_a_list_counts_new_changed_and_unchanged_days_and_feeds_the_working_day_rule(demo):
    result = service.import_calendar(actor=admin(), text="2026-10-01 休 国庆节\n2026-10-07 休 校庆\n"
                                                         "2026-12-31~2027-01-01 休 元旦\n2027-01-03 班", dry_run=True)
    assert (result.new, result.changed, result.unchanged, result.holidays, result.workdays) == (3, 1, 1, 4, 1)
    assert db.session.scalar(select(CalendarDay.name).where(CalendarDay.day == date(2026, 10, 7))) == "国庆节"
    service.import_calendar(actor=admin(), text="2026-10-07 休 校庆\n2027-01-03 班")
    db.session.commit()
    assert db.session.scalar(select(CalendarDay.name).where(CalendarDay.day == date(2026, 10, 7))) == "校庆"
    cal = service.calendar()
    assert cal.is_working_day(date(2027, 1, 3))  # a Sunday worked
    friday = datetime(2027, 1, 1, 2, tzinfo=UTC)  # 10:00 school time on a Friday, not yet a holiday
    assert cal.add(friday, "1wd") == datetime(2027, 1, 3, 2, tzinfo=UTC)  # Friday's rest, then Sunday


def test_every_bad_line_is_listed_and_nothing_is_written(demo):
    before = db.session.scalar(select(func.count()).select_from(CalendarDay))
    with pytest.raises(ValidationFailed) as refused:
        service.import_calendar(actor=admin(), text="2027-01-01 休 元旦\n2027-01-01 休\n2027-1-32 休\n"
                                                    "2027-03-01~2027-04-15 休 太长\n2027-01-04 假 " + "名" * 21)
    assert refused.value.error_code == "repairs.calendar_invalid" and refused.value.message.startswith("有 4 行有误")
    assert [(r["row"], r["reason"]) for r in refused.value.errors["rows"]] == [
        (2, "2027-01-01 与第 1 行重复"), (3, "日期不存在：2027-1-32"), (4, "一行最多 31 天"), (5, "名称最多 20 个字")]
    assert db.session.scalar(select(func.count()).select_from(CalendarDay)) == before


def test_only_admins_import_and_only_staff_see_retired_categories(demo):
    with pytest.raises(Forbidden):
        service.import_calendar(actor=DISPATCHER, text="2027-01-01 休", dry_run=True)
    with pytest.raises(Forbidden):
        service.list_all_categories(actor=Actor(user_id=0, roles=frozenset({"teacher", "finance"})))
    water = service.list_categories()[0]
    service.update_category(actor=admin(), category_id=water.id, active=False)
    assert water not in service.list_categories() and water in service.list_all_categories(actor=DISPATCHER)
