"""What the canteen tells people: "可以取餐了" when the pickup window opens and "取餐即将结束" 15 minutes
before it ends to everyone whose paid order is not picked up (bulk, once per order and kind, with the
clock moving through the window), and "退款成功" once the refund went through."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.canteen import service
from app.core.db import commit_scope, db
from app.notifications.models import Notification
from app.payments.models import Refund
from app.users import service as users_service
from tests.canteen.conftest import fresh_order, pay, placed
from tests.conftest import drain

OPENS = datetime.fromisoformat("2026-10-14T17:00:00+08:00")  # tonight's dinner: pickup 17:00–19:00
ENDS = datetime.fromisoformat("2026-10-14T19:00:00+08:00")


def _notes(event: str) -> list[Notification]:
    db.session.rollback()
    return list(db.session.scalars(select(Notification).where(Notification.event == event)
                                   .order_by(Notification.user_id)))


def test_ready_and_closing_go_once_to_everyone_not_picked_up(app, sim, kitchen, teacher, student, parent, cook,
                                                            clock):
    menu = kitchen.menu()
    collected = placed(teacher, menu)["order"]["id"]
    forgotten = placed(student, menu)["order"]["id"]
    placed(parent, menu)  # never paid: expires, told nothing
    pay(app, sim, collected)
    pay(app, sim, forgotten)

    clock.move_to(OPENS - timedelta(seconds=5))
    drain(app)
    assert _notes("canteen.pickup_ready") == []
    clock.move_to(OPENS + timedelta(seconds=1))
    drain(app)
    ready = _notes("canteen.pickup_ready")
    assert sorted(n.user_id for n in ready) == sorted([teacher.user["id"], student.user["id"]])
    assert all("已可取餐" in n.title + n.body and "19:00" in n.body for n in ready)

    assert cook.post("/api/v1/canteen/pickups", json={"code": fresh_order(collected).pickup_code}).status_code == 200
    clock.move_to(ENDS - timedelta(minutes=15, seconds=5))
    drain(app)
    assert _notes("canteen.pickup_closing") == []
    clock.move_to(ENDS - timedelta(minutes=15) + timedelta(seconds=1))
    drain(app)
    closing = _notes("canteen.pickup_closing")
    assert [n.user_id for n in closing] == [student.user["id"]] and "19:00 结束" in closing[0].body

    # the timers fired again (a retried job, the sweep): nothing new
    with commit_scope():
        assert service.pickup_start_due(menu["id"]) == 0
        assert service.pickup_closing_due(menu["id"]) == 0
    assert len(_notes("canteen.pickup_ready")) == 2 and len(_notes("canteen.pickup_closing")) == 1
    assert fresh_order(forgotten).status == "paid"


def test_a_department_order_is_one_order_for_the_reminders(app, kitchen, cook, teacher, clock):
    chinese = next(d.id for d in users_service.list_departments() if d.name == "语文教研组")
    cook.post(f"/api/v1/canteen/departments/{chinese}/orderers", json={"user_id": teacher.user["id"]})
    menu = kitchen.menu()
    resp = teacher.post(f"/api/v1/canteen/departments/{chinese}/orders", json={
        "menu_id": menu["id"], "headcount": 6, "request_id": "dept-remind-01",
        "lines": [{"menu_item_id": menu["items"]["红烧肉"], "quantity": 6}]})
    assert resp.status_code == 201
    clock.move_to(OPENS + timedelta(seconds=1))
    drain(app)
    assert [n.user_id for n in _notes("canteen.pickup_ready")] == [teacher.user["id"]]


def test_moving_past_the_whole_window_sends_no_late_closing_reminder(app, sim, kitchen, student, clock):
    menu = kitchen.menu()
    order_id = placed(student, menu)["order"]["id"]
    pay(app, sim, order_id)
    clock.move_to(ENDS + timedelta(seconds=1))
    drain(app)
    assert _notes("canteen.pickup_closing") == []
    assert fresh_order(order_id).status == "no_show"


def test_the_orderer_is_told_once_when_the_refund_went_through(app, sim, kitchen, teacher):
    menu = kitchen.menu()
    order_id = placed(teacher, menu, {"红烧肉": 2})["order"]["id"]
    pay(app, sim, order_id)
    assert teacher.post(f"/api/v1/canteen/orders/{order_id}/cancel").status_code == 200
    drain(app)
    assert _notes("canteen.refunded") == []  # asked for, not through yet
    refund = db.session.scalars(select(Refund)).one()
    end = sim.end_refund(refund.out_refund_no, copies=2)
    sim.wait_pay_deliveries(end["notification_id"], attempts=2, timeout=30)
    drain(app)
    notes = _notes("canteen.refunded")
    assert [n.user_id for n in notes] == [teacher.user["id"]] and "20.00 元已原路退回" in notes[0].body
