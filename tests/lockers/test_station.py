"""What the mini-program's pages need beyond deposit and pickup: the courier's recipient search and parcels to
take back, the pickup QR, the fee due on my parcels, and the station's compartments (restoring one), counter
parcels and hand-over."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.db import db
from app.lockers import service
from app.lockers.models import LockerCompartment, Parcel
from app.notifications.models import Notification
from app.users.models import SchoolClass, Student, User
from tests.lockers.conftest import parcel_row, wait_status
from tests.lockers.test_deposit import deposit
from tests.lockers.test_pickup import stored
from tests.support import race, wait_for


def search(session, q):
    return session.get("/api/v1/lockers/recipients", query_string={"q": q})


def test_a_courier_finds_a_recipient_by_part_of_a_name_phone_or_number_and_sees_no_more_than_needed(login):
    courier, student = login("courier"), login("student")
    found = search(courier, "同学")
    assert found.status_code == 200
    body = found.get_json()
    assert [(m["name"], m["kind"], m["unit"]) for m in body] == [("陈同学", "student", "高一(1)班")]  # the bound one
    assert set(body[0]) == {"user_id", "name", "kind", "unit", "phone_masked"}  # no 学号, no phone
    assert body[0]["user_id"] == student.user["id"]
    by_number = search(courier, "T0001").get_json()
    assert [(m["name"], m["unit"]) for m in by_number] == [("张老师", "语文教研组")]
    assert search(courier, "T000").get_json() == []  # a number is matched whole, never by its prefix
    assert search(courier, "%").get_json() == [] and search(courier, "_").get_json() == []


def test_the_search_is_for_couriers_and_staff_only_and_refuses_bad_input(login):
    courier, teacher, admin = login("courier"), login("teacher"), login("admin")
    refused = search(teacher, "张")
    assert refused.status_code == 403 and "name" not in refused.get_data(as_text=True)
    assert search(admin, "张老师").status_code == 200
    assert search(courier, "").status_code == 422
    assert search(courier, "a" * 51).status_code == 422
    assert search(courier, "张\n老师").status_code == 422
    assert courier.get("/api/v1/lockers/recipients").status_code == 422


def test_the_search_shows_at_most_ten_with_masked_phones(login):
    courier = login("courier")
    klass = db.session.scalar(select(SchoolClass).where(SchoolClass.name == "高二(2)班"))
    for i in range(12):
        student = Student(number=f"S2024{i:03d}", name=f"周同学{i:02d}", class_id=klass.id)
        db.session.add(student)
        db.session.flush()
        db.session.add(User(openid=f"openid-zhou-{i}", student_id=student.id, phone=f"1390000{i:04d}"))
    db.session.commit()
    body = search(courier, "周同学").get_json()
    assert len(body) == 10
    assert [m["name"] for m in body] == [f"周同学{i:02d}" for i in range(10)]
    assert body[3]["phone_masked"] == "139****0003" and body[3]["unit"] == "高二(2)班"
    phone = search(courier, "13900000011").get_json()
    assert [m["name"] for m in phone] == ["周同学11"]


def test_a_deposit_for_the_person_chosen_in_the_search(login, bank):
    courier, student = login("courier"), login("student")
    chosen = search(courier, "陈同学").get_json()[0]["user_id"]
    resp = deposit(courier, bank, "PICK0001", recipient_id=chosen)
    assert resp.status_code == 201, resp.get_json()
    wait_status(resp.get_json()["id"], "stored")
    assert [p["tracking_no"] for p in student.get("/api/v1/lockers/parcels").get_json()] == ["PICK0001"]
    unknown = deposit(courier, bank, "PICK0002", recipient_id=10**12)
    assert unknown.status_code == 422 and unknown.get_json()["error_code"] == "lockers.recipient_not_found"
    assert deposit(courier, bank, "PICK0003", recipient_id=0).status_code == 422
    assert deposit(courier, bank, "PICK0004", recipient_id="7").status_code == 422


def test_my_parcels_say_their_state_in_chinese_and_the_fee_due(login, bank):
    parcel = stored(login("courier"), bank)
    mine = login("teacher").get("/api/v1/lockers/parcels").get_json()
    assert [(p["id"], p["status_label"], p["fee_due_fen"]) for p in mine] == [(parcel.id, "待取件", 0)]


def test_the_pickup_qr_is_the_recipients_and_the_proxys_only(login, bank):
    courier, teacher, student, parent = login("courier"), login("teacher"), login("student"), login("parent")
    parcel = stored(courier, bank)
    qr = teacher.get(f"/api/v1/lockers/parcels/{parcel.id}/qr")
    assert qr.status_code == 200 and qr.mimetype == "image/png" and qr.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert qr.headers["X-Code-Source"] == "qr"
    for someone in (courier, student, parent):
        refused = someone.get(f"/api/v1/lockers/parcels/{parcel.id}/qr")
        assert refused.status_code == 404 and refused.get_json()["error_code"] == "lockers.parcel_not_found"
    assert teacher.get("/api/v1/lockers/parcels/999999/qr").status_code == 404
    teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/share", json={"number": "S2026001"})
    assert student.get(f"/api/v1/lockers/parcels/{parcel.id}/qr").status_code == 200
    assert teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/open").status_code == 200
    wait_status(parcel.id, "picked_up")
    gone = teacher.get(f"/api/v1/lockers/parcels/{parcel.id}/qr")
    assert gone.status_code == 404 and gone.get_json()["error_code"] == "lockers.no_code"


def jammed_to_counter(login, make_bank):
    """A bank whose only S compartment jams at the deposit: it is out of service, the parcel on the counter."""
    bank = make_bank("SM")
    bank.sim.jam(bank.device_code, "A01")
    resp = deposit(login("courier"), bank, "JAM00001", size="S")
    parcel = wait_status(resp.get_json()["id"], "stored")
    assert parcel.storage == "counter"
    unit = db.session.scalar(select(LockerCompartment).where(LockerCompartment.bank_id == bank.id,
                                                             LockerCompartment.label == "A01"))
    assert unit.status == "out_of_service"
    return bank, parcel, unit


def test_station_staff_see_a_banks_compartments_others_may_not(login, make_bank):
    bank, _parcel, _unit = jammed_to_counter(login, make_bank)
    admin, courier, teacher = login("admin"), login("courier"), login("teacher")
    listed = admin.get(f"/api/v1/lockers/banks/{bank.id}/compartments").get_json()
    assert [(c["label"], c["size"], c["status"], c["status_label"], c["holds_parcel"]) for c in listed] == [
        ("A01", "S", "out_of_service", "停用", False), ("A02", "M", "free", "空闲", False)]
    for someone in (courier, teacher):
        assert someone.get(f"/api/v1/lockers/banks/{bank.id}/compartments").status_code == 403
    missing = admin.get("/api/v1/lockers/banks/999999/compartments")
    assert missing.status_code == 404 and missing.get_json()["error_code"] == "lockers.bank_not_found"


def test_two_staff_restoring_at_once_make_one_transition_and_one_audit_row(app, login, make_bank):
    bank, _parcel, unit = jammed_to_counter(login, make_bank)
    first, second = login("admin"), login("admin")
    courier = login("courier")
    assert courier.post(f"/api/v1/lockers/compartments/{unit.id}/restore").status_code == 403
    assert first.post("/api/v1/lockers/compartments/999999/restore").status_code == 404
    db.session.remove()
    answers = race([lambda s=s: s.post(f"/api/v1/lockers/compartments/{unit.id}/restore") for s in (first, second)])
    assert sorted(a.status_code for a in answers) == [200, 409], [a.get_json() for a in answers]
    won = next(a for a in answers if a.status_code == 200).get_json()
    assert (won["label"], won["status"]) == ("A01", "free")
    lost = next(a for a in answers if a.status_code == 409).get_json()
    assert lost["message"]  # 格口空闲，不能恢复 or a concurrent change: either way in Chinese
    restores = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "locker_compartment",
                                                           AuditEvent.entity_id == unit.id,
                                                           AuditEvent.action == "restore")).all()
    assert len(restores) == 1 and restores[0].actor_id == first.user["id"]
    assert db.session.get(LockerCompartment, unit.id).status == "free"
    again = first.post(f"/api/v1/lockers/compartments/{unit.id}/restore")
    assert again.status_code == 409 and "空闲" in again.get_json()["message"]


def test_a_mended_door_with_the_parcel_inside_holds_it_again_and_the_recipient_collects_it(login, bank):
    courier, teacher, admin = login("courier"), login("teacher"), login("admin")
    parcel = stored(courier, bank)
    unit_id = parcel.compartment_id
    label = db.session.get(LockerCompartment, unit_id).label
    bank.sim.jam(bank.device_code, label)
    assert teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/open").status_code == 200
    assert wait_for(lambda: db.session.rollback() or db.session.get(
        LockerCompartment, unit_id, populate_existing=True).status == "out_of_service"), "the door did not fail"

    bank.sim.unjam(bank.device_code, label)  # the worker mends the door
    restored = admin.post(f"/api/v1/lockers/compartments/{unit_id}/restore")
    assert restored.status_code == 200 and restored.get_json()["status"] == "occupied"
    db.session.rollback()
    unit = db.session.get(LockerCompartment, unit_id, populate_existing=True)
    assert unit.status == "occupied" and unit.holder_key == f"parcel:{parcel.id}"
    told = db.session.scalars(select(Notification).where(Notification.user_id == parcel.recipient_id,
                                                         Notification.event == "lockers.door_mended")).all()
    assert [n.title for n in told] == ["柜门已修好，可以取件了"]
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "locker_compartment",
                                                                AuditEvent.entity_id == unit_id)).all()
    assert "restore_held" in events
    again = admin.post(f"/api/v1/lockers/compartments/{unit_id}/restore")
    assert again.status_code == 409  # restored once

    assert teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/open").status_code == 200  # the code works again
    assert wait_for(lambda: db.session.rollback() or db.session.get(
        Parcel, parcel.id, populate_existing=True).status == "picked_up"), "not collected"


def test_the_counters_waiting_parcels_for_staff_paginated_without_codes(login, make_bank):
    bank, parcel, _unit = jammed_to_counter(login, make_bank)
    admin, courier = login("admin"), login("courier")
    second = deposit(courier, bank, "JAM00002", size="S").get_json()  # no S left: the counter at once
    assert second["storage"] == "counter"
    page = admin.get("/api/v1/lockers/counter/parcels", query_string={"page": 1, "page_size": 1})
    assert page.status_code == 200
    assert json.loads(page.headers["X-Pagination"])["total"] == 2
    (row,) = page.get_json()
    assert (row["id"], row["shelf_code"], row["recipient_name"], row["pickup_code"]) == (
        parcel.id, parcel.shelf_code, "张老师", None)
    assert courier.get("/api/v1/lockers/counter/parcels").status_code == 403
    assert admin.get("/api/v1/lockers/counter/parcels", query_string={"page": 0}).status_code == 422
    handed = admin.post("/api/v1/lockers/counter/hand-over", json={"code": parcel.pickup_code})
    assert handed.status_code == 200
    left = admin.get("/api/v1/lockers/counter/parcels").get_json()
    assert [p["id"] for p in left] == [second["id"]]


def test_a_courier_sees_the_parcels_to_take_back_and_staff_see_all(login, bank):
    courier, admin, teacher = login("courier"), login("admin"), login("teacher")
    kept = stored(courier, bank, "BACK0001")
    expired = stored(courier, bank, "BACK0002")
    assert service.expire(expired.id)
    db.session.commit()
    mine = courier.get("/api/v1/lockers/parcels/to-return")
    assert mine.status_code == 200 and json.loads(mine.headers["X-Pagination"])["total"] == 1
    (row,) = mine.get_json()
    assert (row["id"], row["status"], row["status_label"], row["pickup_code"]) == (
        expired.id, "to_return", "待退回", None)
    assert row["compartment"]
    assert [p["id"] for p in admin.get("/api/v1/lockers/parcels/to-return").get_json()] == [expired.id]
    assert teacher.get("/api/v1/lockers/parcels/to-return").status_code == 403
    assert parcel_row(kept.id).status == "stored"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == "parcel", AuditEvent.entity_id == expired.id, AuditEvent.action == "expire")) == 1
