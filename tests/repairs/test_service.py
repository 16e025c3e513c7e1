"""Repair rules: dispatch, the queue, declines, holds, reopening, cancelling, notifications, costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import select, update

from app.core import clock as app_clock
from app.core.db import db
from app.core.errors import ValidationFailed
from app.notifications.models import Notification
from app.repairs import service
from app.repairs.models import DispatchRule, Repair, RepairDeadline, WorkerGroup, WorkerGroupMember
from app.users import seed as users_seed
from app.users import service as users_service
from tests.repairs.conftest import (
    Statements,
    category_id,
    demo_group_id,
    place_id,
    repair,
    report,
    staff_users,
    user_id,
)
from tests.support import race


def _on_duty(user: int, on_duty: bool = True, group: int | None = None) -> None:
    group = group or demo_group_id()
    member = db.session.scalar(select(WorkerGroupMember).where(WorkerGroupMember.group_id == group,
                                                               WorkerGroupMember.user_id == user))
    if member is None:
        db.session.add(WorkerGroupMember(group_id=group, user_id=user, on_duty=on_duty))
    else:
        member.on_duty = on_duty
    db.session.commit()


def _alerts(role: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user_id(role), Notification.event == "repairs.alert").order_by(Notification.id)))


# --- dispatch ---------------------------------------------------------------------------------------------


def test_auto_dispatch_picks_the_on_duty_worker_with_the_least_open_work(login, second_worker):
    w1, w2 = user_id("worker"), second_worker.user["id"]
    _on_duty(w2)
    teacher = login("teacher")
    assignees = [report(teacher, insist=True)["repair"]["assignee_id"] for _ in range(4)]
    assert assignees == [w1, w2, w1, w2]  # ties go to whoever waited longest
    second_worker.post(f"/api/v1/repairs/{_open_of(w2)[0]}/accept")
    login("worker").post(f"/api/v1/repairs/{_open_of(w1)[0]}/decline", json={"reason": "不会修"})
    # w1 now has 1 open, w2 still 2 (accepted counts as open work)
    assert report(teacher, insist=True)["repair"]["assignee_id"] == w1


def _open_of(user: int) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(Repair.id).where(Repair.assignee_id == user, Repair.status == "assigned")
                                   .order_by(Repair.id)))


def test_reports_dispatched_at_the_same_moment_go_to_different_workers(app, login, second_worker):
    _on_duty(second_worker.user["id"])
    teacher = login("teacher")
    water = category_id()

    def submit(place: int) -> int:
        return report(teacher, category_id=water, place_id=place)["repair"]["assignee_id"]

    results = race([partial(submit, place_id(p)) for p in ("E-ADM-101", "E-ADM-102")], timeout=20)
    assert sorted(results) == sorted([user_id("worker"), second_worker.user["id"]])


def test_three_reports_at_once_spread_over_two_workers_and_a_worker_coming_on_duty_meanwhile(app, login,
                                                                                            second_worker):
    """Dispatch and a dispatcher's on-duty change take the group's lock in the same order: no deadlock,
    every report is assigned, nobody gets all of them."""
    teacher, dispatcher = login("teacher"), login("dispatcher")
    water, w1, w2, group = category_id(), user_id("worker"), second_worker.user["id"], demo_group_id()
    places = [place_id(p) for p in ("E-ADM-101", "E-ADM-102", "E-ADM-103")]
    _on_duty(w2, False)
    db.session.remove()

    def submit(place: int) -> int:
        return report(teacher, category_id=water, place_id=place)["repair"]["assignee_id"]

    def come_on_duty() -> int:
        return dispatcher.put(f"/api/v1/repairs/groups/{group}/members/{w2}", json={"on_duty": True}).status_code

    *assignees, status = race([*(partial(submit, place) for place in places), come_on_duty], timeout=30)
    assert status == 200
    assert None not in assignees and set(assignees) <= {w1, w2}
    counts = sorted(assignees.count(w) for w in (w1, w2))
    assert counts in ([1, 2], [0, 3])  # w2 may come on duty after all three were dispatched ...
    if counts == [0, 3]:  # ... and only then is everything with the one worker who was there
        assert assignees.count(w1) == 3


def test_off_duty_workers_get_nothing_the_queue_alerts_dispatchers_and_duty_picks_it_up(login):
    _on_duty(user_id("worker"), False)
    r = report(login("teacher"))["repair"]
    assert (r["status"], r["assignee_id"]) == ("submitted", None)
    [alert] = _alerts("dispatcher")
    assert alert.title == "待派单：水电 · 行政楼 3F 301" and "暂无在岗维修工" in alert.body
    resp = login("dispatcher").put(f"/api/v1/repairs/groups/{demo_group_id()}/members/{user_id('worker')}",
                                   json={"on_duty": True})
    assert resp.status_code == 200
    assert (repair(r["id"]).status, repair(r["id"]).assignee_id) == ("assigned", user_id("worker"))


def test_the_most_specific_rule_wins(app, demo):
    groups = {}
    for name in ("水电班", "行政楼组", "行政楼水电"):
        db.session.add(WorkerGroup(name=name))
        db.session.flush()
        groups[name] = db.session.scalar(select(WorkerGroup.id).where(WorkerGroup.name == name))
    water, network = category_id("water_electric"), category_id("network")
    adm, ta = place_id("E-ADM"), place_id("E-TA")
    db.session.add_all([DispatchRule(category_id=water, building_id=None, group_id=groups["水电班"]),
                        DispatchRule(category_id=None, building_id=adm, group_id=groups["行政楼组"]),
                        DispatchRule(category_id=water, building_id=adm, group_id=groups["行政楼水电"])])
    db.session.commit()
    assert service.resolve_group(water, adm).name == "行政楼水电"
    assert service.resolve_group(water, ta).name == "水电班"
    assert service.resolve_group(network, adm).name == "行政楼组"
    assert service.resolve_group(network, ta).name == "综合维修组"
    db.session.execute(update(WorkerGroup).where(WorkerGroup.name == "行政楼水电").values(active=False))
    assert service.resolve_group(water, adm).name == "水电班"  # a retired group is skipped


def test_no_matching_group_leaves_it_queued_for_a_dispatcher(login):
    db.session.execute(update(WorkerGroup).values(active=False))
    db.session.commit()
    r = report(login("teacher"))["repair"]
    assert (r["status"], r["group_id"]) == ("submitted", None)
    assert "没有匹配的维修组" in _alerts("dispatcher")[0].body
    assigned = login("dispatcher").post(f"/api/v1/repairs/{r['id']}/assign", json={"worker_id": user_id("worker")})
    assert assigned.status_code == 200 and assigned.json["assignee_name"] == "李师傅"


def test_a_decline_goes_to_another_worker_never_back_to_the_decliner(login, second_worker):
    _on_duty(second_worker.user["id"], False)
    rid = report(login("teacher"))["repair"]["id"]
    worker = login("worker")
    resp = worker.post(f"/api/v1/repairs/{rid}/decline", json={"reason": "没有梯子"})
    assert resp.status_code == 200 and resp.json["actions"] == []
    assert worker.get(f"/api/v1/repairs/{rid}").status_code == 404  # back in the queue: no longer theirs
    assert (repair(rid).status, repair(rid).declined_by) == ("submitted", [user_id("worker")])
    assert len(_alerts("dispatcher")) == 1
    _on_duty(second_worker.user["id"], True)
    assert service.redispatch_queued() == 1
    db.session.commit()
    assert repair(rid).assignee_id == second_worker.user["id"]
    timeline = login("dispatcher").get(f"/api/v1/repairs/{rid}").json["timeline"]
    assert [t["action"] for t in timeline] == ["submit", "assign", "decline", "assign"]
    assert timeline[2]["note"] == "没有梯子"
    reporter_view = login("teacher").get(f"/api/v1/repairs/{rid}").json["timeline"]
    assert reporter_view[2]["action"] == "decline" and reporter_view[2]["note"] is None  # staff-only reason


def test_transfer_moves_the_task_and_tells_both_workers(login, second_worker):
    rid = report(login("teacher"))["repair"]["id"]
    login("worker").post(f"/api/v1/repairs/{rid}/accept")
    resp = login("dispatcher").post(f"/api/v1/repairs/{rid}/transfer",
                                    json={"worker_id": second_worker.user["id"], "reason": "李师傅请假"})
    assert resp.status_code == 200 and (resp.json["status"], resp.json["assignee_name"]) == ("assigned", "郑师傅")
    titles = db.session.execute(select(Notification.user_id, Notification.title).where(
        Notification.event == "repairs.task").order_by(Notification.id)).all()
    assert [(uid, title.split("：")[0]) for uid, title in titles] == [
        (user_id("worker"), "新维修任务"), (second_worker.user["id"], "新维修任务"), (user_id("worker"), "任务已转派")]
    assert login("dispatcher").post(f"/api/v1/repairs/{rid}/transfer",
                                    json={"worker_id": second_worker.user["id"]}).json["error_code"] == \
        "repairs.same_worker"
    assert login("dispatcher").post(f"/api/v1/repairs/{rid}/transfer",
                                    json={"worker_id": user_id("teacher")}).json["error_code"] == "repairs.not_a_worker"


# --- deadlines in the workflow ------------------------------------------------------------------------------


def _deadline(rid: int, kind: str, level: int = 1, round_: int | None = None) -> RepairDeadline:
    db.session.expire_all()
    r = db.session.get(Repair, rid)
    return db.session.scalar(select(RepairDeadline).where(
        RepairDeadline.repair_id == rid, RepairDeadline.kind == kind, RepairDeadline.level == level,
        RepairDeadline.round == (round_ or r.sla_round)))


def test_deadlines_follow_the_policy_and_the_calendar(login, clock, long_tokens):
    clock.move_to("2026-09-30T07:00:00Z")  # Wednesday 15:00, the day before the National Day holiday
    rid = report(login("teacher"))["repair"]["id"]
    assert _deadline(rid, "accept").due_at.isoformat() == "2026-09-30T07:30:00+00:00"
    assert _deadline(rid, "accept", 2).due_at.isoformat() == "2026-09-30T08:00:00+00:00"
    assert _deadline(rid, "arrive").due_at.isoformat() == "2026-10-01T07:00:00+00:00"  # clock hours
    # 3 working days: the rest of Wednesday (9 h), Oct 1–7 off, Thu 8 and Fri 9 (48 h), then Saturday 10 — a
    # make-up working day — until 15:00 local
    assert _deadline(rid, "finish").due_at.isoformat() == "2026-10-10T07:00:00+00:00"
    # level 2: another 3 working days — the rest of Saturday, Sunday off, Monday, Tuesday, Wednesday 15:00
    assert _deadline(rid, "finish", 2).due_at.isoformat() == "2026-10-14T07:00:00+00:00"
    assert repair(rid).due_at == _deadline(rid, "accept").due_at


def test_time_on_hold_does_not_count(login, clock, long_tokens):
    clock.move_to("2026-11-23T01:00:00Z")
    teacher, worker = login("teacher"), login("worker")
    rid = report(teacher, urgency="urgent")["repair"]["id"]  # finish within 24 h
    worker.post(f"/api/v1/repairs/{rid}/accept")
    worker.post(f"/api/v1/repairs/{rid}/start")
    finish = _deadline(rid, "finish").due_at
    clock.shift(hours=1)
    held = worker.post(f"/api/v1/repairs/{rid}/hold", json={"reason": "等配件"})
    assert held.json["due_at"] is None and held.json["status_label"] == "暂停中"
    clock.shift(hours=30)  # past the finish deadline while waiting for parts
    assert service.check_deadline(_deadline(rid, "finish").id) is False
    resumed = worker.post(f"/api/v1/repairs/{rid}/resume")
    assert resumed.status_code == 200
    assert _deadline(rid, "finish").due_at == finish + timedelta(hours=30)
    assert _deadline(rid, "finish").escalated_at is None
    assert resumed.json["due_at"] == (finish + timedelta(hours=30)).isoformat()


def test_cancel_voids_the_deadlines_and_tells_the_worker_not_the_canceller(login):
    teacher = login("teacher")
    rid = report(teacher)["repair"]["id"]
    resp = teacher.post(f"/api/v1/repairs/{rid}/cancel", json={"reason": "自己修好了"})
    assert resp.status_code == 200 and resp.json["due_at"] is None
    assert all(d.voided_at for d in db.session.scalars(select(RepairDeadline).where(RepairDeadline.repair_id == rid)))
    told = db.session.scalars(select(Notification).where(Notification.title.like("任务已取消%"))).one()
    assert told.user_id == user_id("worker") and told.body == "自己修好了"
    assert not db.session.scalars(select(Notification).where(Notification.user_id == user_id("teacher"))).all()


def test_the_reporter_hears_about_progress(login):
    teacher, worker = login("teacher"), login("worker")
    rid = report(teacher)["repair"]["id"]
    for action, body in (("accept", None), ("start", None), ("hold", {"reason": "等配件"}), ("resume", None),
                         ("complete", {"labour_minutes": 20})):
        assert worker.post(f"/api/v1/repairs/{rid}/{action}", json=body).status_code == 200
    messages = db.session.scalars(select(Notification).where(Notification.user_id == user_id("teacher"))
                                  .order_by(Notification.id)).all()
    assert [m.title.split("：")[0] for m in messages] == ["已接单", "维修中", "暂停中", "维修中", "待确认"]
    assert messages[0].body == "李师傅已接单，将尽快上门" and messages[2].body == "暂停维修：等配件"
    assert {m.event for m in messages} == {"repairs.status"}
    assert messages[-1].data["state"] == "待确认"


def test_reopen_within_seven_days_goes_back_to_the_same_worker_with_new_deadlines(login, clock, long_tokens):
    clock.move_to("2026-11-23T01:00:00Z")
    teacher, worker = login("teacher"), login("worker")
    rid = report(teacher)["repair"]["id"]
    for action, body in (("accept", None), ("start", None), ("complete", {"labour_minutes": 20})):
        worker.post(f"/api/v1/repairs/{rid}/{action}", json=body)
    teacher.post(f"/api/v1/repairs/{rid}/confirm", json={"rating": 5})
    clock.shift(days=3)
    resp = teacher.post(f"/api/v1/repairs/{rid}/reopen", json={"reason": "又不亮了"})
    assert resp.status_code == 200, resp.json
    assert (resp.json["status"], resp.json["assignee_name"], resp.json["rating"]) == ("assigned", "李师傅", None)
    assert repair(rid).sla_round == 2
    assert _deadline(rid, "accept").due_at == app_clock.now() + timedelta(minutes=30)
    assert _deadline(rid, "accept", round_=1).met_at is not None
    assert [d["met_at"] for d in resp.json["deadlines"]] == [None, None, None]
    for action, body in (("accept", None), ("start", None), ("complete", {"labour_minutes": 10})):
        worker.post(f"/api/v1/repairs/{rid}/{action}", json=body)
    teacher.post(f"/api/v1/repairs/{rid}/confirm", json={"rating": 4})
    assert (repair(rid).labour_minutes, repair(rid).rating) == (30, 4)
    clock.shift(days=8)
    late = login("teacher").post(f"/api/v1/repairs/{rid}/reopen", json={"reason": "还是不行"})
    assert late.status_code == 422 and late.json["error_code"] == "repairs.reopen_window"


def test_material_costs_are_rounded_to_the_fen_and_add_up(login):
    teacher, worker = login("teacher"), login("worker")
    materials = {m["name"]: m for m in worker.get("/api/v1/repairs/materials").json}
    rid = report(teacher)["repair"]["id"]
    worker.post(f"/api/v1/repairs/{rid}/accept")
    worker.post(f"/api/v1/repairs/{rid}/start")
    resp = worker.post(f"/api/v1/repairs/{rid}/complete", json={"labour_minutes": 45, "note": "换了开关", "materials": [
        {"material_id": materials["开关面板"]["id"], "quantity": "0.33"},  # 15.00 元 × 0.33 = 4.95 元
        {"material_id": materials["PPR 水管 20mm"]["id"], "quantity": "2.5"}]})  # 6.00 元 × 2.5 = 15.00 元
    assert resp.status_code == 200
    assert [m["cost_fen"] for m in resp.json["materials"]] == [495, 1500]
    assert (resp.json["material_cost_fen"], resp.json["labour_minutes"], resp.json["completion_note"]) == (
        1995, 45, "换了开关")


def test_the_timeline_shows_what_the_worker_wrote_on_completion(login):
    teacher, worker = login("teacher"), login("worker")
    rid = report(teacher)["repair"]["id"]
    worker.post(f"/api/v1/repairs/{rid}/accept")
    worker.post(f"/api/v1/repairs/{rid}/start")
    done = worker.post(f"/api/v1/repairs/{rid}/complete", json={"labour_minutes": 10, "note": "换了开关，已测试"})
    assert done.json["timeline"][-1] | {"at": None} == {
        "action": "complete", "label": "维修完成", "actor_name": "李师傅", "status": "completed",
        "note": "换了开关，已测试", "at": None}
    for session in (teacher, login("dispatcher")):
        entry = session.get(f"/api/v1/repairs/{rid}").json["timeline"][-1]
        assert (entry["action"], entry["note"]) == ("complete", "换了开关，已测试")


# --- the users helpers this domain added ---------------------------------------------------------------------


def test_display_names_and_current_role_holders(app, demo):
    ids = users_seed.demo_user_ids()
    names = users_service.display_names([ids["teacher"], ids["worker"], ids["parent"], None])
    assert names == {ids["teacher"]: "张老师", ids["worker"]: "李师傅", ids["parent"]: "陈同学家长"}
    assert users_service.display_names([]) == {}
    assert users_service.with_role([ids["worker"], ids["teacher"], ids["dispatcher"]], "worker") == {ids["worker"]}
    assert users_service.with_role([ids["teacher"]], "student") == set()  # not a staff role


def test_pool_groups_tell_every_on_duty_member_and_wait(login, second_worker):
    db.session.execute(update(WorkerGroup).values(dispatch_mode="pool"))
    db.session.commit()
    _on_duty(second_worker.user["id"], False)
    r = report(login("teacher"))["repair"]
    assert r["status"] == "submitted"
    told = db.session.scalars(select(Notification.user_id).where(Notification.event == "repairs.task")).all()
    assert told == [user_id("worker")]  # the off-duty member is not disturbed
    assert service.redispatch_queued() == 0  # pool work waits to be taken
    taken = login("worker").post(f"/api/v1/repairs/{r['id']}/accept")
    assert (taken.json["status"], taken.json["assignee_name"]) == ("accepted", "李师傅")
    assert _deadline(r["id"], "accept").met_at is not None


def test_a_pool_task_tells_every_on_duty_member_in_one_statement_keyed_as_before(login):
    db.session.execute(update(WorkerGroup).values(dispatch_mode="pool"))
    workers = staff_users(40, "worker")
    db.session.add_all([WorkerGroupMember(group_id=demo_group_id(), user_id=uid, on_duty=True) for uid in workers])
    db.session.commit()
    teacher = login("teacher")
    with Statements("INSERT INTO notifications") as inserts:
        rid = report(teacher)["repair"]["id"]
    assert inserts.count == 1
    step = repair(rid).step
    keys = dict(db.session.execute(select(Notification.user_id, Notification.idempotency_key).where(
        Notification.event == "repairs.task")).all())
    assert keys == {uid: f"repairs:{rid}:{step}:task:{uid}" for uid in [*workers, user_id("worker")]}


def test_a_worker_who_binds_joins_the_default_team(login, client, sim):
    sim.register_login_code("w2-code", openid="w2-openid")
    token = client.post("/api/v1/auth/wechat-login", json={"code": "w2-code"}).json["access_token"]
    resp = client.post("/api/v1/me/bind", headers={"Authorization": f"Bearer {token}"},
                       json={"kind": "staff", "number": "W0002", "name": "郑师傅"})
    assert resp.status_code == 200, resp.json
    members = db.session.execute(select(WorkerGroupMember.user_id, WorkerGroupMember.on_duty).where(
        WorkerGroupMember.group_id == demo_group_id())).all()
    w2 = users_service.get_or_create_wechat_user(openid="w2-openid", unionid=None).id
    assert sorted(members) == sorted([(user_id("worker"), True), (w2, True)])
    teacher = login("teacher")
    assert [report(teacher, insist=True)["repair"]["assignee_id"] for _ in range(2)] == [user_id("worker"), w2]


@dataclass
class _Page:
    page: int = 1
    page_size: int = 20
    item_count: int | None = None


def test_the_queue_filters_by_category_and_building_and_sorts_four_ways(login, clock):
    teacher = login("teacher")
    water = report(teacher)["repair"]["id"]  # 行政楼, due first
    clock.shift(minutes=5)
    urgent = report(teacher, category_id=category_id("network"), place_id=place_id("E-TA-101"),
                    urgency="urgent")["repair"]["id"]  # 教学楼A, reported later, its accept deadline is sooner
    dispatcher = users_service.load_actor(user_id("dispatcher"))

    def ids(**kw) -> list[int]:
        return [r.id for r in service.list_queue(actor=dispatcher, params=_Page(), **kw)]

    assert ids(category_id=category_id("network")) == [urgent]
    assert ids(building_id=place_id("E-ADM")) == [water]
    assert ids(building_id=place_id("E-ADM"), category_id=category_id("network")) == []
    assert ids(sort="newest") == [urgent, water] and ids(sort="oldest") == [water, urgent]
    assert ids(sort="urgent")[0] == urgent
    due = {r.id: r.due_at for r in service.list_queue(actor=dispatcher, params=_Page())}
    assert ids() == sorted(due, key=lambda i: due[i])  # nothing overdue yet: by the next deadline
    with pytest.raises(ValidationFailed) as refused:
        ids(sort="whenever")
    assert refused.value.message == "排序方式不正确"
