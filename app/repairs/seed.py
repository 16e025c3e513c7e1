"""Demo data for repairs (``flask seed-demo`` runs it through ``app.seed``); idempotent.

The policy data is data, not code: the categories and materials are in ``data/demo.json``, the 2026 holiday
calendar in ``data/calendar_2026.json`` (both read from the source tree, where the app runs).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core.db import db
from app.repairs.models import (
    CalendarDay,
    DispatchRule,
    Material,
    RepairCategory,
    SlaPolicy,
    WorkerGroup,
    WorkerGroupMember,
)
from app.repairs.states import DEFAULT_SLA
from app.users import service as users_service

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_FILE = "demo.json"
CALENDAR_FILE = "calendar_2026.json"
DEMO_GROUP = "综合维修组"


def load_data(name: str) -> dict[str, Any]:
    """A data file of ``app/repairs/data/``."""
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def seed_demo() -> None:
    """Categories, materials, the default SLA policies, the 2026 calendar and a demo worker group with
    W0001 李师傅 on duty, sent every repair by a catch-all rule. Existing rows are kept."""
    demo = load_data(DEMO_FILE)
    calendar_2026 = load_data(CALENDAR_FILE)
    for order, category in enumerate(demo["categories"]):
        db.session.execute(insert(RepairCategory).values(
            code=category["code"], name=category["name"], icon=category["icon"], color=category["color"],
            sort_order=order).on_conflict_do_nothing(index_elements=["code"]))
    for material in demo["materials"]:
        db.session.execute(insert(Material).values(
            name=material["name"], unit=material["unit"], unit_cost_fen=material["unit_cost_fen"])
            .on_conflict_do_nothing(index_elements=["name"]))
    for urgency, spans in DEFAULT_SLA.items():
        exists_ = db.session.scalar(select(SlaPolicy.id).where(SlaPolicy.category_id.is_(None),
                                                                SlaPolicy.urgency == str(urgency)))
        if exists_ is None:
            db.session.add(SlaPolicy(category_id=None, urgency=str(urgency), accept_span=spans["accept"],
                                     arrive_span=spans["arrive"], finish_span=spans["finish"]))
    for holiday in calendar_2026["holidays"]:
        day, end = date.fromisoformat(holiday["first"]), date.fromisoformat(holiday["last"])
        while day <= end:
            db.session.execute(insert(CalendarDay).values(day=day, kind="holiday", name=holiday["name"])
                               .on_conflict_do_nothing(index_elements=["day"]))
            day += timedelta(days=1)
    for workday in calendar_2026["makeup_workdays"]:
        db.session.execute(insert(CalendarDay).values(day=date.fromisoformat(workday["day"]), kind="workday",
                                                      name=workday["name"])
                           .on_conflict_do_nothing(index_elements=["day"]))
    db.session.execute(insert(WorkerGroup).values(name=DEMO_GROUP, dispatch_mode="auto")
                       .on_conflict_do_nothing(index_elements=["name"]))
    group_id = db.session.scalar(select(WorkerGroup.id).where(WorkerGroup.name == DEMO_GROUP))
    for user_id in users_service.users_with_roles("worker"):
        db.session.execute(insert(WorkerGroupMember).values(group_id=group_id, user_id=user_id, on_duty=True)
                           .on_conflict_do_nothing(index_elements=["group_id", "user_id"]))
    if db.session.scalar(select(DispatchRule.id).where(DispatchRule.category_id.is_(None),
                                                       DispatchRule.building_id.is_(None))) is None:
        db.session.add(DispatchRule(category_id=None, building_id=None, group_id=group_id))
    db.session.flush()
