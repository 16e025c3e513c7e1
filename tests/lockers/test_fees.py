"""The overdue fee: free for 18 hours, then ¥0.5 per 12 hours begun, at most ¥3 — paid through the payable
contract (WeChat Pay, here the simulator) before the door opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.lockers.states import overdue_fee
from app.payments.models import Payment
from tests.conftest import drain
from tests.lockers.conftest import parcel_row, wait_status
from tests.lockers.test_pickup import stored
from tests.lockers.test_timers import online_again
from tests.payments.conftest import delivered, fresh

T = datetime(2026, 10, 14, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(("after", "fen"), [
    (timedelta(hours=18), 0),
    (timedelta(hours=18, seconds=1), 50),
    (timedelta(hours=30), 50),
    (timedelta(hours=30, seconds=1), 100),
    (timedelta(hours=78), 250),
    (timedelta(hours=78, seconds=1), 300),
    (timedelta(days=30), 300),
    (timedelta(0), 0),
])
def test_the_fee_at_its_boundaries(after, fen):
    assert overdue_fee(T, T + after) == fen


def test_within_18_hours_the_door_opens_without_paying(app, login, bank, clock):
    courier = login("courier")
    parcel = stored(courier, bank)
    clock.move_to(parcel.stored_at + timedelta(hours=18) - timedelta(seconds=5))
    online_again(bank, parcel.stored_at + timedelta(hours=17))
    teacher = login("teacher")
    assert teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/open").status_code == 200
    wait_status(parcel.id, "picked_up")


def test_past_18_hours_the_fee_is_paid_first_then_the_door_opens(app, login, bank, clock, sim):
    courier = login("courier")
    parcel = stored(courier, bank)
    clock.move_to(parcel.stored_at + timedelta(hours=30, minutes=1))
    online_again(bank, parcel.stored_at + timedelta(hours=30))
    teacher = login("teacher")
    assert [p["fee_due_fen"] for p in teacher.get("/api/v1/lockers/parcels").get_json()] == [100]
    refused = teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/open")
    assert refused.status_code == 409 and refused.get_json()["error_code"] == "lockers.fee_due"
    due = refused.get_json()["errors"]
    assert due["amount_fen"] == 100
    assert bank.sim.type_code(bank.device_code, parcel.pickup_code)["answer"]["error_code"] == "lockers.fee_due"
    assert [o["txn_id"].split("-")[0] for o in bank.state()["opened"]] == ["deposit"]  # no door opened

    payment = fresh(Payment, due["payment_id"])
    assert (payment.amount_fen, payment.biz_type, payment.payer_id) == (100, "lockers.fee", teacher.user["id"])
    assert teacher.post(f"/api/v1/payments/{payment.id}/checkout").status_code == 200
    note = sim.pay_order(payment.out_trade_no)
    delivered(sim, note["notification_id"])
    drain(app)
    assert parcel_row(parcel.id).fee_paid_fen == 100

    assert teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/open").status_code == 200
    wait_status(parcel.id, "picked_up")
