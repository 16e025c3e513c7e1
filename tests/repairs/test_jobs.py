"""Repair jobs on a real RQ worker with a moved clock: thumbnails, deadline escalation, auto-confirmation,
and the sweep that catches lost timers. Each job, run twice, acts once."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from PIL import Image
from sqlalchemy import func, select, update

from app.core import audit, timers
from app.core.db import db
from app.core.jobs import enqueue
from app.core.storage import get_storage
from app.core.timers import Timer
from app.notifications.models import Notification
from app.repairs import jobs, service
from app.repairs.models import RepairDeadline, RepairPhoto, WorkerGroupMember
from tests.conftest import drain
from tests.repairs.conftest import Statements, jpeg, repair, report, staff_users, upload, user_id

MONDAY_9AM = "2026-11-23T01:00:00Z"  # 09:00 in Shanghai, a working day, outside quiet hours


def _messages(role: str, event: str = "repairs.alert") -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user_id(role), Notification.event == event).order_by(Notification.id)))


def _deadline(rid: int, kind: str, level: int = 1) -> RepairDeadline:
    db.session.expire_all()
    return db.session.scalar(select(RepairDeadline).where(
        RepairDeadline.repair_id == rid, RepairDeadline.kind == kind, RepairDeadline.level == level))


def test_thumbnails_are_made_by_a_worker_once(app, login):
    teacher = login("teacher")
    photo_id = upload(teacher, jpeg((1600, 1200), noise=True)).json["id"]
    assert db.session.get(RepairPhoto, photo_id).thumb_key is None
    drain(app)
    db.session.expire_all()
    photo = db.session.get(RepairPhoto, photo_id)
    assert photo.thumb_key and photo.thumb_key != photo.key
    thumb = Image.open(io.BytesIO(get_storage().get(photo.thumb_key)))
    assert thumb.size == (480, 360)
    assert jobs.make_thumbnail(photo_id) is False  # a second run does nothing
    served = teacher.get(f"/api/v1/repairs/photos/{photo_id}?size=thumb")
    assert Image.open(io.BytesIO(served.data)).size == (480, 360)


def test_a_missed_accept_deadline_escalates_to_dispatchers_then_admins(app, login, clock):
    clock.move_to(MONDAY_9AM)
    rid = report(login("teacher"))["repair"]["id"]
    clock.shift(minutes=29)
    drain(app)
    assert _messages("dispatcher") == []  # not yet due
    clock.shift(minutes=2)
    drain(app)  # the timer fires on a real worker
    [alert] = _messages("dispatcher")
    assert alert.title == "超时：水电 · 行政楼 3F 301" and alert.body == "接单已超时（待接单），维修工：李师傅"
    assert alert.link == f"/packageRepairs/pages/detail/detail?id={rid}"
    assert [m.title for m in _messages("worker", "repairs.task")][-1] == "任务已超时：水电 · 行政楼 3F 301"
    assert _messages("admin") == []
    assert _deadline(rid, "accept").escalated_at is not None
    detail = login("dispatcher").get(f"/api/v1/repairs/{rid}").json
    assert detail["overdue"] is True and detail["deadlines"][0]["escalated"] is True
    assert detail["timeline"][-1]["note"] == "接单超时"
    assert login("teacher").get(f"/api/v1/repairs/{rid}").json["timeline"][-1]["action"] == "assign"  # internal

    clock.shift(minutes=30)  # the same span again: 督办
    drain(app)
    [urge] = _messages("admin")
    assert urge.title.startswith("督办：") and urge.urgency == "urgent"
    assert len(_messages("dispatcher")) == 1

    assert service.sweep()["escalated"] == 0  # the sweep finds nothing left to do
    db.session.commit()
    assert (len(_messages("dispatcher")), len(_messages("admin"))) == (1, 1)
    assert [e.data["level"] for e in audit.history("repairs", rid) if e.action == "escalate"] == [1, 2]


def test_deadlines_met_in_time_never_escalate(app, login, clock):
    clock.move_to(MONDAY_9AM)
    rid = report(login("teacher"), urgency="urgent")["repair"]["id"]
    clock.shift(minutes=10)
    worker = login("worker")
    worker.post(f"/api/v1/repairs/{rid}/accept")
    worker.post(f"/api/v1/repairs/{rid}/start")
    clock.shift(hours=3)  # past the accept (30 min) and arrival (2 h) deadlines
    drain(app)
    assert _messages("dispatcher") == []
    assert service.check_deadline(_deadline(rid, "accept").id) is False


def test_the_sweep_catches_a_lost_timer_and_a_late_timer_then_does_nothing(app, login, clock, redis_conn):
    clock.move_to(MONDAY_9AM)
    rid = report(login("teacher"))["repair"]["id"]
    redis_conn.flushdb()  # Redis lost the timers
    clock.shift(minutes=31)
    drain(app)
    assert _messages("dispatcher") == []
    assert service.sweep()["escalated"] == 1
    db.session.commit()
    assert len(_messages("dispatcher")) == 1
    assert jobs.check_deadline(_deadline(rid, "accept").id) is False  # the timer arrives after all
    assert service.sweep()["escalated"] == 0
    db.session.commit()
    assert len(_messages("dispatcher")) == 1


def test_timer_and_sweep_racing_escalate_once(app, login, clock):
    clock.move_to(MONDAY_9AM)
    rid = report(login("teacher"))["repair"]["id"]
    clock.shift(minutes=31)
    deadline_id = _deadline(rid, "accept").id
    assert jobs.check_deadline(deadline_id) is True
    assert jobs.check_deadline(deadline_id) is False
    assert len(_messages("dispatcher")) == 1


def test_unconfirmed_work_auto_confirms_after_seven_days_flagged_automatic(app, login, clock, long_tokens):
    clock.move_to(MONDAY_9AM)
    teacher, worker = login("teacher"), login("worker")
    rid = report(teacher)["repair"]["id"]
    for action, body in (("accept", None), ("start", None), ("complete", {"labour_minutes": 20})):
        worker.post(f"/api/v1/repairs/{rid}/{action}", json=body)
    clock.shift(days=6)
    drain(app)
    assert jobs.auto_confirm(rid) is False and repair(rid).status == "completed"
    clock.shift(days=1, minutes=1)
    drain(app)
    done = repair(rid)
    assert (done.status, done.rating, done.rating_auto) == ("confirmed", 5, True)
    assert jobs.auto_confirm(rid) is False
    assert _messages("teacher", "repairs.status")[-1].title.startswith("已完成")
    rating = teacher.get(f"/api/v1/repairs/{rid}").json["rating"]
    assert rating["stars"] == 5 and rating["auto"] is True
    stats = login("admin").get("/api/v1/repairs/stats").json[0]
    assert (stats["avg_rating"], stats["ratings"], stats["auto_ratings"]) == (None, 0, 1)


def test_the_sweep_auto_confirms_when_the_timer_was_lost(app, login, clock, long_tokens, redis_conn):
    clock.move_to(MONDAY_9AM)
    teacher, worker = login("teacher"), login("worker")
    rid = report(teacher)["repair"]["id"]
    for action, body in (("accept", None), ("start", None), ("complete", {"labour_minutes": 20})):
        worker.post(f"/api/v1/repairs/{rid}/{action}", json=body)
    redis_conn.flushdb()
    clock.shift(days=8)
    assert service.sweep()["auto_confirmed"] == 1
    db.session.commit()
    assert repair(rid).status == "confirmed"


def test_the_sweep_deletes_photos_nobody_used(app, login, clock, long_tokens):
    clock.move_to(MONDAY_9AM)
    teacher = login("teacher")
    used = report(teacher, photos=1)["repair"]["photos"][0]["id"]
    loose = upload(teacher).json["id"]
    drain(app)
    key = db.session.get(RepairPhoto, loose).key
    clock.shift(hours=25)
    assert service.sweep()["photos_deleted"] == 1
    db.session.commit()
    assert db.session.get(RepairPhoto, loose) is None and not get_storage().exists(key)
    assert db.session.get(RepairPhoto, used) is not None
    assert db.session.scalar(select(func.count()).select_from(RepairPhoto)) == 1


def test_the_sweep_dispatches_queued_work_when_someone_is_on_duty(app, login):
    db.session.execute(update(WorkerGroupMember).values(on_duty=False))
    db.session.commit()
    rid = report(login("teacher"))["repair"]["id"]
    assert service.sweep()["dispatched"] == 0
    db.session.execute(update(WorkerGroupMember).values(on_duty=True))
    assert service.sweep()["dispatched"] == 1
    db.session.commit()
    assert repair(rid).assignee_id == user_id("worker")


def test_the_sweep_dispatches_at_most_its_limit(app, login):
    db.session.execute(update(WorkerGroupMember).values(on_duty=False))
    db.session.commit()
    teacher = login("teacher")
    for _ in range(3):
        report(teacher, insist=True)
    db.session.execute(update(WorkerGroupMember).values(on_duty=True))
    assert service.sweep(limit=2)["dispatched"] == 2
    assert service.sweep(limit=2)["dispatched"] == 1


def test_each_step_hands_the_timer_to_the_next_deadline(app, login, clock, long_tokens):
    clock.move_to(MONDAY_9AM)
    rid = report(login("teacher"))["repair"]["id"]  # normal: accept 30 min, arrive 24 h
    clock.shift(minutes=10)
    login("worker").post(f"/api/v1/repairs/{rid}/accept")
    clock.shift(hours=23, minutes=49)
    drain(app)
    assert _messages("dispatcher") == []
    clock.shift(minutes=2)  # Tuesday 09:01: the worker never arrived
    drain(app)
    assert [m.body for m in _messages("dispatcher")] == ["到场已超时（已接单），维修工：李师傅"]
    assert _deadline(rid, "arrive").escalated_at is not None and _deadline(rid, "accept").escalated_at is None


# --- the timers (app.core.timers: one per repair and kind) ---------------------------------------------------


def _timers(rid: int) -> dict[str, datetime]:
    db.session.expire_all()
    # the repairs' timers only: the demo data's canteen menus have timers whose subject ids look alike
    return dict(db.session.execute(select(Timer.kind, Timer.due_at).where(
        Timer.subject_id == rid, Timer.kind.like("repairs.%"))).all())


def test_one_deadline_timer_per_repair_follows_each_step(app, login, clock, long_tokens):
    clock.move_to(MONDAY_9AM)
    teacher, worker = login("teacher"), login("worker")
    rid = report(teacher, urgency="urgent")["repair"]["id"]
    assert _timers(rid) == {"repairs.deadline": _deadline(rid, "accept").due_at}
    worker.post(f"/api/v1/repairs/{rid}/accept")
    assert _timers(rid) == {"repairs.deadline": _deadline(rid, "arrive").due_at}
    worker.post(f"/api/v1/repairs/{rid}/start")
    assert _timers(rid) == {"repairs.deadline": _deadline(rid, "finish").due_at}
    worker.post(f"/api/v1/repairs/{rid}/hold", json={"reason": "等配件"})
    assert _timers(rid) == {}  # nothing escalates on hold
    clock.shift(hours=2)
    worker.post(f"/api/v1/repairs/{rid}/resume")
    assert _timers(rid) == {"repairs.deadline": _deadline(rid, "finish").due_at}
    worker.post(f"/api/v1/repairs/{rid}/complete", json={"labour_minutes": 20})
    assert _timers(rid) == {"repairs.auto_confirm": repair(rid).completed_at + timedelta(days=7)}
    teacher.post(f"/api/v1/repairs/{rid}/confirm", json={"rating": 5})
    assert _timers(rid) == {}


def test_reopening_drops_the_auto_confirmation_and_cancelling_drops_the_deadline_timer(app, login, long_tokens):
    teacher, worker = login("teacher"), login("worker")
    rid = report(teacher)["repair"]["id"]
    for action, body in (("accept", None), ("start", None), ("complete", {"labour_minutes": 20})):
        worker.post(f"/api/v1/repairs/{rid}/{action}", json=body)
    assert set(_timers(rid)) == {"repairs.auto_confirm"}
    teacher.post(f"/api/v1/repairs/{rid}/reopen", json={"reason": "又坏了"})
    assert _timers(rid) == {"repairs.deadline": repair(rid).due_at}  # the new round's accept deadline
    login("dispatcher").post(f"/api/v1/repairs/{rid}/cancel", json={"reason": "重复报修"})
    assert _timers(rid) == {}


def test_a_timer_that_finds_several_deadlines_due_escalates_them_in_order(app, login, clock, redis_conn):
    clock.move_to(MONDAY_9AM)
    rid = report(login("teacher"))["repair"]["id"]
    redis_conn.flushdb()  # the job was lost, and the sweep came late: level 1 and level 2 are both due
    clock.shift(minutes=61)
    assert service.sweep()["escalated"] == 1  # one repair
    db.session.commit()
    assert [e.data["level"] for e in audit.history("repairs", rid) if e.action == "escalate"] == [1, 2]
    assert (len(_messages("dispatcher")), len(_messages("admin"))) == (1, 1)
    assert _timers(rid) == {"repairs.deadline": _deadline(rid, "arrive").due_at}


def test_jobs_scheduled_under_the_old_paths_still_run(app, login, clock, long_tokens):
    """Before the upgrade a deadline had its own RQ job (``app.repairs.jobs.check_deadline``, the deadline's
    id) and a completion one for auto-confirmation (``app.repairs.jobs.auto_confirm``, the repair's id)."""
    clock.move_to(MONDAY_9AM)
    teacher, worker = login("teacher"), login("worker")
    rid = report(teacher)["repair"]["id"]
    accept = _deadline(rid, "accept")
    timers.cancel("repairs.deadline", rid)  # a repair of before the upgrade: no timer row, an old job
    enqueue("app.repairs.jobs.check_deadline", accept.id, _at=accept.due_at)
    db.session.commit()
    clock.shift(minutes=31)
    drain(app)
    assert len(_messages("dispatcher")) == 1 and _deadline(rid, "accept").escalated_at is not None
    assert _timers(rid) == {"repairs.deadline": _deadline(rid, "accept", 2).due_at}  # the chain goes on as a timer
    for action, body in (("accept", None), ("start", None), ("complete", {"labour_minutes": 20})):
        worker.post(f"/api/v1/repairs/{rid}/{action}", json=body)
    timers.cancel("repairs.auto_confirm", rid)
    enqueue("app.repairs.jobs.auto_confirm", rid, _at=repair(rid).completed_at + timedelta(days=7))
    db.session.commit()
    clock.shift(days=7, minutes=1)
    drain(app)
    assert (repair(rid).status, repair(rid).rating_auto) == ("confirmed", True)


# --- many recipients -----------------------------------------------------------------------------------------


def test_an_escalation_tells_every_dispatcher_in_one_statement_keyed_as_before(app, login, clock):
    clock.move_to(MONDAY_9AM)
    dispatchers = staff_users(60, "dispatcher")
    rid = report(login("teacher"))["repair"]["id"]
    accept = _deadline(rid, "accept")
    before = dispatchers[0]  # told by a job that ran before the upgrade, then retried
    db.session.add(Notification(user_id=before, event="repairs.alert", title="超时", data={},
                                idempotency_key=f"repairs:deadline:{accept.id}:{before}"))
    db.session.commit()
    clock.shift(minutes=31)
    with Statements("INSERT INTO notifications") as inserts:
        assert service.escalate_due(rid) == 1
    db.session.commit()
    assert inserts.count == 2  # the dispatchers at once, and the worker's reminder
    keys = dict(db.session.execute(select(Notification.user_id, Notification.idempotency_key).where(
        Notification.event == "repairs.alert")).all())
    assert keys == {uid: f"repairs:deadline:{accept.id}:{uid}" for uid in [*dispatchers, user_id("dispatcher")]}
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == before)) == 1
