"""Peak days: the pickup slot a stored parcel's message suggests (the least-loaded half hour of the pickup
hours) and the compartments the capacity view expects to become free per coming hour — on the fixed clock
(Wednesday 2026-10-14 10:00 school time) or a clock moved to the evening."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Forbidden
from app.lockers import service
from app.lockers.models import Parcel
from app.lockers.service import peak, slots
from app.lockers.states import RELEASE_HORIZON_HOURS
from app.notifications.models import Notification
from app.places.models import Place
from app.users.models import User
from tests.lockers.conftest import wait_status
from tests.lockers.test_pickup import stored

SCHOOL = ZoneInfo("Asia/Shanghai")
STAFF = Actor(user_id=0, roles=frozenset({"admin"}))


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SCHOOL)


# --- the slot rule, pure -------------------------------------------------------------------------------------


def test_pickup_hours_are_read_from_the_setting_and_anything_unreadable_means_no_suggestion():
    assert slots.pickup_windows("11:30-13:30, 17:00-22:00") == [(time(11, 30), time(13, 30)), (time(17), time(22))]
    for bad in ("", "19:00", "20:00-19:00", "七点-八点"):
        assert slots.pickup_windows(bad) == []


def test_the_candidates_are_the_slots_not_started_yet_else_tomorrows():
    windows = slots.pickup_windows("12:00-13:00,19:00-20:00")
    assert slots.candidates(windows, local("2026-10-14T10:00")) == [
        local("2026-10-14T12:00"), local("2026-10-14T12:30"), local("2026-10-14T19:00"), local("2026-10-14T19:30")]
    assert slots.candidates(windows, local("2026-10-14T19:10")) == [local("2026-10-14T19:30")]
    assert slots.candidates(windows, local("2026-10-14T19:30")) == [local("2026-10-14T19:30")]
    assert slots.candidates(windows, local("2026-10-14T19:31")) == [
        local("2026-10-15T12:00"), local("2026-10-15T12:30"), local("2026-10-15T19:00"), local("2026-10-15T19:30")]


def test_the_least_loaded_slot_wins_the_earliest_on_a_tie():
    a, b, c = local("2026-10-14T19:00"), local("2026-10-14T19:30"), local("2026-10-14T20:00")
    assert slots.least_loaded([a, b, c], {}) == a
    assert slots.least_loaded([a, b, c], {a: 3, b: 1, c: 1}) == b
    assert slots.least_loaded([a, b, c], {a: 0, b: 0, c: 0}) == a
    assert slots.least_loaded([], {}) is None


# --- in the recipient's message --------------------------------------------------------------------------


def test_the_stored_message_suggests_the_least_loaded_evening_slot(app, clock, monkeypatch, login, make_bank):
    monkeypatch.setitem(app.config, "LOCKERS_PICKUP_SLOTS", "19:00-20:00")
    clock.move_to("2026-10-14T18:50:00+08:00")
    bank = make_bank()
    courier = login("courier")
    parcels = [stored(courier, bank, f"SF30000000{i}") for i in range(3)]
    assert [p.pickup_slot_at for p in parcels] == [
        local("2026-10-14T19:00"), local("2026-10-14T19:30"), local("2026-10-14T19:00")]
    bodies = [db.session.scalar(select(Notification.body).where(Notification.event == "lockers.stored",
                                                                Notification.data["parcel_id"].as_integer() == p.id))
              for p in parcels]
    assert bodies[0].endswith("。建议 19:00–19:30 取件，此时段人少")
    assert bodies[1].endswith("。建议 19:30–20:00 取件，此时段人少")
    assert parcels[0].pickup_code in bodies[0]


def test_a_parcel_collected_no_longer_loads_its_slot(app, clock, monkeypatch, login, make_bank):
    monkeypatch.setitem(app.config, "LOCKERS_PICKUP_SLOTS", "19:00-20:00")
    clock.move_to("2026-10-14T18:50:00+08:00")
    bank = make_bank()
    courier = login("courier")
    first = stored(courier, bank, "SF3100000001")
    assert bank.sim.type_code(bank.device_code, first.pickup_code)["status"] == 200
    wait_status(first.id, "picked_up")
    assert stored(courier, bank, "SF3100000002").pickup_slot_at == first.pickup_slot_at  # 19:00 again


def test_late_in_the_evening_tomorrows_slot_is_suggested_and_said_so(app, clock, demo, monkeypatch):
    monkeypatch.setitem(app.config, "LOCKERS_PICKUP_SLOTS", "12:00-13:00,19:00-20:00")
    clock.move_to("2026-10-14T21:45:00+08:00")
    slot = slots.suggest()
    assert slot == local("2026-10-15T12:00")
    assert slots.phrase(slot) == "建议 明天 12:00–12:30 取件，此时段人少"
    monkeypatch.setitem(app.config, "LOCKERS_PICKUP_SLOTS", "")
    assert slots.suggest() is None


# --- expected releases -----------------------------------------------------------------------------------


def _parcel(bank_id: int, n: int, stored_at: str, *, slot: str | None = None, storage: str = "locker",
            status: str = "stored") -> None:
    user = db.session.scalar(select(User.id).order_by(User.id).limit(1))
    db.session.add(Parcel(tracking_no=f"PK{n:06d}", bank_id=bank_id, size="M", storage=storage, status=status,
                          recipient_id=user, courier_id=user, stored_at=local(stored_at),
                          pickup_slot_at=local(slot) if slot else None))


@pytest.fixture
def two_banks(app, demo):
    place = db.session.scalar(select(Place.id).order_by(Place.id).limit(1))
    ids = []
    for code in ("P1", "P2"):
        bank = service.create_bank(actor=None, code=code, name=f"{code} 柜", place_id=place,
                                   device_code=f"locker-{code}", secret="s" * 32, base_url="http://127.0.0.1:9/",
                                   compartments=[("A01", "M"), ("A02", "M")])
        ids.append(bank.id)
    db.session.flush()
    return ids


def test_the_release_rule_for_one_parcel():
    hour = local("2026-10-14T10:00")
    assert peak.expected_at(stored_at=local("2026-10-14T09:30"), pickup_slot_at=None,
                            hour_start=hour) == local("2026-10-14T13:30")
    assert peak.expected_at(stored_at=local("2026-10-14T09:30"), pickup_slot_at=local("2026-10-14T19:30"),
                            hour_start=hour) == local("2026-10-14T19:30")
    late = local("2026-10-11T15:00")  # expected 19:00 three days ago: returned at 15:00 today
    assert peak.expected_at(stored_at=late, pickup_slot_at=None, hour_start=hour) == local("2026-10-14T15:00")
    assert peak.expected_at(stored_at=local("2026-10-10T15:00"), pickup_slot_at=None, hour_start=hour) is None


def test_expected_releases_per_hour_from_the_current_one(app, two_banks):
    one, two = two_banks
    _parcel(one, 1, "2026-10-14T09:30")  # + 4 h → 13:30
    _parcel(one, 2, "2026-10-14T08:00", slot="2026-10-14T12:00")  # its slot → 12:00
    _parcel(one, 3, "2026-10-12T14:00")  # late; back to the sender on the 15th: beyond the horizon
    _parcel(one, 4, "2026-10-11T15:00")  # late; back to the sender today at 15:00
    _parcel(one, 5, "2026-10-14T09:30", storage="counter")  # on the shelf: holds no compartment
    _parcel(one, 6, "2026-10-14T09:50", status="picked_up")
    _parcel(two, 7, "2026-10-14T09:45", slot="2026-10-14T19:00")  # the other bank
    _parcel(two, 8, "2026-10-14T17:00")  # + 4 h → 21:00, the last hour shown
    _parcel(two, 9, "2026-10-14T18:30")  # + 4 h → 22:30, past the horizon
    db.session.commit()
    every = service.expected_releases(actor=STAFF)
    assert every["hours"] == [f"{h:02d}:00" for h in range(10, 10 + RELEASE_HORIZON_HOURS)]
    assert every["releases"] == [0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 1]
    assert service.expected_releases(actor=STAFF, bank_id=one)["releases"] == [0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0]


def test_expected_releases_are_for_staff_only(app, two_banks):
    for roles in ({"courier"}, {"dispatcher"}, {"finance"}):
        with pytest.raises(Forbidden):
            service.expected_releases(actor=Actor(user_id=1, roles=frozenset(roles)))
