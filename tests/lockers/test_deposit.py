"""A courier's deposit: a compartment held and opened through the controller, stored when the door closes,
the recipient told; a jammed door; a full bank; a bank cut off; races between couriers (500 deposits for
100 compartments)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.db import db
from app.lockers.models import LockerCompartment, Parcel
from app.notifications.models import Notification
from app.repairs.models import Repair, RepairCategory
from tests.lockers.conftest import compartment_of, parcel_row, wait_status
from tests.support import race_many, wait_for


def deposit(courier, bank, tracking_no="SF1000000001", size="M", **who):
    body = {"bank_id": bank.id, "tracking_no": tracking_no, "size": size, **(who or {"number": "T0001"})}
    return courier.post("/api/v1/lockers/parcels", json=body)


def test_deposit_opens_a_door_and_the_recipient_gets_a_code_when_it_closes(login, bank):
    courier, teacher = login("courier"), login("teacher")
    resp = deposit(courier, bank)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "depositing" and body["storage"] == "locker"
    assert body["pickup_code"] is None  # never shown to the courier

    parcel = wait_status(body["id"], "stored")
    assert [o["compartment"] for o in bank.state()["opened"]] == [compartment_of(parcel.id).label]
    assert compartment_of(parcel.id).status == "occupied"
    mine = teacher.get("/api/v1/lockers/parcels").get_json()
    assert [(p["tracking_no"], p["status"], p["pickup_code"]) for p in mine] == [
        ("SF1000000001", "stored", parcel.pickup_code)]
    assert len(parcel.pickup_code) == 6
    note = db.session.scalar(select(Notification).where(Notification.user_id == teacher.user["id"]))
    assert parcel.pickup_code in note.body and "B1 号快递柜" in note.body
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "locker_compartment")))
    assert {"door_open_requested", "door_opened", "door_closed", "reserve", "fill"} <= actions


def test_a_recipient_found_by_phone_or_by_name(login, bank):
    courier, student = login("courier"), login("student")
    assert deposit(courier, bank, "YT0001", name="陈同学").status_code == 201
    assert deposit(courier, bank, "YT0002", name="无此人").get_json()["error_code"] == "lockers.recipient_not_found"
    assert deposit(courier, bank, "YT0003", number="S2026001").status_code == 201
    assert wait_for(lambda: len(student.get("/api/v1/lockers/parcels").get_json()) == 2)


def test_only_couriers_deposit_and_a_tracking_number_is_not_deposited_twice(login, bank):
    teacher, courier = login("teacher"), login("courier")
    assert deposit(teacher, bank).status_code == 403
    assert deposit(courier, bank).status_code == 201
    again = deposit(courier, bank)
    assert again.status_code == 409 and again.get_json()["error_code"] == "lockers.duplicate_tracking_no"


def test_a_jammed_door_takes_its_compartment_out_of_service_opens_another_and_reports_a_repair(login, bank):
    courier, admin = login("courier"), login("admin")
    bank.sim.jam(bank.device_code, "A05")  # the first M compartment
    resp = deposit(courier, bank, size="M")
    assert resp.status_code == 201
    parcel = wait_status(resp.get_json()["id"], "stored")
    assert compartment_of(parcel.id).label == "A06"
    assert [o["compartment"] for o in bank.state()["opened"]] == ["A05", "A06"]
    broken = db.session.scalar(select(LockerCompartment).where(LockerCompartment.bank_id == bank.id,
                                                               LockerCompartment.label == "A05"))
    assert broken.status == "out_of_service" and broken.holder_key is None
    repair = db.session.scalar(select(Repair))
    category = db.session.get(RepairCategory, repair.category_id)
    assert (category.name, repair.place_id) == ("快递柜", bank.place_id)
    assert "A05" in repair.description and "door_jammed" in repair.description
    mine = bank_view(admin, bank)
    assert mine["out_of_service"] == 1 and mine["free"]["M"] == 2 and mine["parcels_waiting"] == 1


def test_a_full_bank_puts_the_parcel_on_the_counter_with_a_shelf_code(login, make_bank):
    bank = make_bank("S")
    courier, teacher, admin = login("courier"), login("teacher"), login("admin")
    first = deposit(courier, bank, "ZT0001", size="S").get_json()
    wait_status(first["id"], "stored")
    second = deposit(courier, bank, "ZT0002", size="S")
    assert second.status_code == 201
    body = second.get_json()
    assert (body["status"], body["storage"], body["compartment"]) == ("stored", "counter", None)
    assert body["shelf_code"]
    parcel = parcel_row(body["id"])
    note = db.session.scalars(select(Notification).where(Notification.user_id == teacher.user["id"])
                              .order_by(Notification.id.desc())).first()
    assert parcel.pickup_code in note.body and body["shelf_code"] in note.body
    refused = teacher.post(f"/api/v1/lockers/parcels/{body['id']}/open")
    assert refused.get_json()["error_code"] == "lockers.at_counter"
    handed = admin.post("/api/v1/lockers/counter/hand-over", json={"code": parcel.pickup_code})
    assert handed.status_code == 200 and handed.get_json()["status"] == "picked_up"


def test_a_bank_cut_off_is_offline_and_refuses_deposits_clearly(login, bank, clock):
    courier = login("courier")
    bank.sim.cut(bank.device_code)
    resp = deposit(courier, bank, "JD0001")  # its heartbeat is still recent: the door itself does not answer
    assert resp.status_code == 503 and resp.get_json()["error_code"] == "devices.offline"
    assert db.session.scalar(select(func.count()).select_from(Parcel)) == 0  # nothing kept
    assert db.session.scalar(select(func.count()).select_from(LockerCompartment)
                             .where(LockerCompartment.holder_key.is_not(None))) == 0
    clock.shift(seconds=app_offline_seconds(courier) + 1)
    assert bank_view(courier, bank)["online"] is False
    resp = deposit(courier, bank, "JD0002")
    assert resp.status_code == 409 and resp.get_json()["error_code"] == "lockers.bank_offline"


def bank_view(session, bank) -> dict:
    return next(b for b in session.get("/api/v1/lockers/banks").get_json() if b["id"] == bank.id)


def app_offline_seconds(session) -> int:
    return session.client.application.config["DEVICE_OFFLINE_SECONDS"]


def test_five_hundred_deposits_for_a_hundred_compartments_never_share_one(app, login, make_bank):
    """500 deposits at once for a bank of 100 free compartments: 100 parcels in lockers, each in its own
    compartment (and each door opened once), the 400 others on the counter's shelf with a shelf code."""
    bank = make_bank("S" * 30 + "M" * 40 + "L" * 30)
    courier = login("courier")
    db.session.remove()
    sizes = "SML"
    answers = race_many([lambda i=i: deposit(courier, bank, f"RACE{i:04d}", size=sizes[i % 3]) for i in range(500)])
    assert all(a.status_code == 201 for a in answers), [a.get_json() for a in answers if a.status_code != 201][:3]
    bodies = [a.get_json() for a in answers]
    in_lockers = [b for b in bodies if b["storage"] == "locker"]
    on_counter = [b for b in bodies if b["storage"] == "counter"]
    assert len(in_lockers) == 100 and len(on_counter) == 400
    assert all(b["shelf_code"] for b in on_counter) and len({b["shelf_code"] for b in on_counter}) == 400
    held = db.session.scalars(select(LockerCompartment.holder_key).where(LockerCompartment.holder_key.is_not(None)))
    assert sorted(held) == sorted(f"parcel:{b['id']}" for b in in_lockers)
    opened = [o["compartment"] for o in bank.state()["opened"]]
    assert len(opened) == len(set(opened)) == 100
    assert wait_for(lambda: db.session.scalar(select(func.count()).select_from(LockerCompartment)
                                              .where(LockerCompartment.status == "occupied",
                                                     LockerCompartment.bank_id == bank.id)
                                              .execution_options(populate_existing=True)) == 100
                    or db.session.rollback(), seconds=120)


def test_when_the_last_compartment_of_the_size_jams_the_parcel_goes_to_the_counter(login, make_bank):
    bank = make_bank("SL")
    courier, teacher = login("courier"), login("teacher")
    bank.sim.jam(bank.device_code, "A01")
    resp = deposit(courier, bank, "LAST0001", size="S")
    parcel = wait_status(resp.get_json()["id"], "stored")
    assert (parcel.storage, parcel.compartment_id) == ("counter", None) and parcel.shelf_code
    assert [o["compartment"] for o in bank.state()["opened"]] == ["A01"]  # the L one was never taken for an S
    assert db.session.scalar(select(func.count()).select_from(Repair)) == 1
    note = db.session.scalars(select(Notification).where(Notification.user_id == teacher.user["id"])).one()
    assert parcel.shelf_code in note.body
