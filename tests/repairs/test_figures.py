"""The repair figures of the managers' console: open work now and reports per day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core.errors import Forbidden
from app.repairs import service
from app.users import service as users_service
from tests.repairs.conftest import category_id, report, user_id


def distinct(n: int) -> list[dict]:
    """``n`` reports that are not duplicates of each other (another category each)."""
    return [{"category_id": category_id(code)} for code in ("water_electric", "network", "aircon")[:n]]


def as_role(role: str):
    return users_service.load_actor(user_id(role))


def test_workload_counts_open_overdue_and_unassigned(login, clock):
    teacher = login("teacher")
    first, second, third = distinct(3)
    first = report(teacher, **first)["repair"]["id"]
    report(teacher, **second)
    cancelled = report(teacher, **third)["repair"]["id"]
    assert teacher.post(f"/api/v1/repairs/{cancelled}/cancel", json={"reason": "自己修好了"}).status_code == 200
    login("worker").post(f"/api/v1/repairs/{first}/accept")
    now = service.workload(actor=as_role("dispatcher"))
    queue = login("dispatcher").get("/api/v1/repairs/queue?page_size=100").json
    unassigned = login("dispatcher").get("/api/v1/repairs/queue?unassigned=true&page_size=100").json
    assert (now.open, now.overdue, now.unassigned) == (2, 0, len(unassigned)) and len(queue) == 2
    clock.shift(days=30)
    later = service.workload(actor=as_role("admin"))
    overdue = login("dispatcher").get("/api/v1/repairs/queue?overdue=true&page_size=100").json
    assert later.open == 2 and later.overdue == len(overdue) == 2


def test_daily_reports_lists_every_day(login, clock):
    teacher = login("teacher")
    first, second, third = distinct(3)
    report(teacher, **first)
    report(teacher, **second)
    clock.shift(days=2)
    report(login("teacher"), **third)
    today = date(2026, 10, 14)
    days = service.daily_reports(actor=as_role("dispatcher"), date_from=today - timedelta(days=1),
                                 date_to=today + timedelta(days=3))
    assert days == [(date(2026, 10, 13), 0), (today, 2), (date(2026, 10, 15), 0), (date(2026, 10, 16), 1),
                    (date(2026, 10, 17), 0)]


def test_figures_are_for_dispatchers_and_admins(demo):
    for role in ("teacher", "finance", "worker"):
        with pytest.raises(Forbidden):
            service.workload(actor=as_role(role))
        with pytest.raises(Forbidden):
            service.daily_reports(actor=as_role(role), date_from=date(2026, 10, 1), date_to=date(2026, 10, 14))
