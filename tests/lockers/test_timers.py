"""Reminders after 24 hours and return to sender after 3 days (timers), on the moved clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.db import db
from app.devices.models import Device
from app.notifications.models import Notification
from tests.conftest import drain
from tests.lockers.conftest import compartment_of, parcel_row, wait_status
from tests.lockers.test_pickup import compartment_of_label, stored
from tests.support import wait_for


def events_of(user_id):
    db.session.rollback()
    return [n.event for n in db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                                .order_by(Notification.id))]


def online_again(bank, since):
    def beat():
        db.session.rollback()
        last = db.session.scalar(select(Device.last_heartbeat_at).where(Device.code == bank.device_code)
                                 .execution_options(populate_existing=True))
        return last is not None and last >= since
    assert wait_for(beat), "no heartbeat on the moved clock"


def test_a_day_later_a_reminder_and_three_days_later_back_to_the_sender(app, login, bank, clock):
    courier, teacher = login("courier"), login("teacher")
    parcel = stored(courier, bank)
    label = compartment_of(parcel.id).label
    clock.move_to(parcel.stored_at + timedelta(hours=23, minutes=59))
    drain(app)
    assert events_of(teacher.user["id"]) == ["lockers.stored"]
    clock.shift(minutes=2)
    drain(app)
    assert events_of(teacher.user["id"]) == ["lockers.stored", "lockers.reminder"]
    drain(app)  # once
    assert events_of(teacher.user["id"]) == ["lockers.stored", "lockers.reminder"]
    assert parcel_row(parcel.id).status == "stored"

    clock.shift(days=2)
    drain(app)
    returning = parcel_row(parcel.id)
    assert returning.status == "to_return"
    assert events_of(teacher.user["id"])[-1] == "lockers.returned"
    assert events_of(courier.user["id"]) == ["lockers.to_return"]
    assert bank.sim.type_code(bank.device_code, parcel.pickup_code)["status"] == 404  # the code no longer works
    courier, teacher = login("courier"), login("teacher")  # three days on: yesterday's tokens have expired
    assert teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/open").status_code == 409
    assert teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/return").status_code == 403

    online_again(bank, returning.updated_at)
    resp = courier.post(f"/api/v1/lockers/parcels/{parcel.id}/return")
    assert resp.status_code == 200, resp.get_json()
    done = wait_status(parcel.id, "returned")
    assert done.returned_at is not None and done.picked_up_by == courier.user["id"]
    assert wait_for(lambda: compartment_of_label(bank, label) == ("free", None))


def test_a_parcel_collected_in_time_is_neither_reminded_nor_returned(app, login, bank, clock):
    courier, teacher = login("courier"), login("teacher")
    parcel = stored(courier, bank)
    assert teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/open").status_code == 200
    wait_status(parcel.id, "picked_up")
    clock.shift(days=4)
    drain(app)
    assert login("teacher").get("/api/v1/lockers/parcels").get_json()[0]["status"] == "picked_up"
    assert events_of(teacher.user["id"]) == ["lockers.stored"]
    assert parcel_row(parcel.id).status == "picked_up"
