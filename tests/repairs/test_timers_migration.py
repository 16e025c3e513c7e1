"""The data migration ``repairs timers``: the timers of the repairs that existed before the upgrade are the
ones the application itself would have written, and running it again changes nothing."""

from __future__ import annotations

import importlib.util
from datetime import timedelta

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import delete, select, update

from app.config import ROOT_DIR
from app.core.db import db
from app.core.timers import Timer
from app.repairs import service
from tests.repairs.conftest import report

MIGRATION = next((ROOT_DIR / "migrations" / "versions").glob("*_repairs_timers.py"))


def _upgrade() -> None:
    spec = importlib.util.spec_from_file_location("repairs_timers_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        module.upgrade()


def _rows() -> dict[tuple[str, int], object]:
    db.session.expire_all()
    # the repairs' timers only: the demo data's other domains have theirs (the canteen's pickup windows)
    timers = db.session.scalars(select(Timer).where(Timer.kind.like("repairs.%")))
    return {(t.kind, t.subject_id): t.due_at for t in timers}


def test_the_migration_writes_the_timers_the_application_writes(app, login, clock, long_tokens):
    clock.move_to("2026-11-23T01:00:00Z")  # Monday 09:00 in Shanghai
    teacher, worker = login("teacher"), login("worker")
    late, held, completed, cancelled, confirmed = (report(teacher, insist=True)["repair"]["id"] for _ in range(5))
    steps = {held: ["accept", "start", "hold"], completed: ["accept", "start", "complete"],
             confirmed: ["accept", "start", "complete"]}
    bodies = {"hold": {"reason": "等配件"}, "complete": {"labour_minutes": 20}}
    for rid, actions in steps.items():
        for action in actions:
            assert worker.post(f"/api/v1/repairs/{rid}/{action}", json=bodies.get(action)).status_code == 200
    teacher.post(f"/api/v1/repairs/{cancelled}/cancel", json={})
    teacher.post(f"/api/v1/repairs/{confirmed}/confirm", json={"rating": 5})
    clock.shift(minutes=31)
    assert service.sweep()["escalated"] == 1  # `late`: its accept deadline escalated, level 2 is next
    db.session.commit()
    written = _rows()
    assert set(written) == {("repairs.deadline", late), ("repairs.auto_confirm", completed)}

    db.session.execute(delete(Timer))  # the database as it was before the upgrade
    db.session.commit()
    _upgrade()
    assert _rows() == written

    moved = written[("repairs.deadline", late)] + timedelta(minutes=5)  # the application moved one since
    db.session.execute(update(Timer).where(Timer.subject_id == late).values(due_at=moved))
    db.session.commit()
    _upgrade()
    assert _rows() == written | {("repairs.deadline", late): moved}
