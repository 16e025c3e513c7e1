"""Pickup: by code at the locker (rate-limited), from the mini-program (recipient or proxy only), the
compartment freed when the door closes; a code never valid for two stored parcels."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core.audit import AuditEvent
from app.core.db import db
from app.lockers.models import LockerCompartment, Parcel
from app.lockers.service import lifecycle
from app.lockers.states import CODE_ATTEMPTS
from app.repairs.models import Repair
from tests.lockers.conftest import compartment_of, parcel_row, wait_status
from tests.lockers.test_deposit import bank_view, deposit
from tests.support import wait_for


def stored(courier, bank, tracking_no="SF2000000001", **who) -> Parcel:
    resp = deposit(courier, bank, tracking_no, **who)
    assert resp.status_code == 201, resp.get_json()
    return wait_status(resp.get_json()["id"], "stored")


def test_a_code_typed_at_the_locker_opens_the_door_and_the_closed_door_frees_the_compartment(login, bank):
    courier, admin = login("courier"), login("admin")
    parcel = stored(courier, bank)
    label = compartment_of(parcel.id).label
    answer = bank.sim.type_code(bank.device_code, parcel.pickup_code)
    assert answer["status"] == 200 and answer["answer"]["compartment"] == label
    done = wait_status(parcel.id, "picked_up")
    assert done.picked_up_by == parcel.recipient_id
    assert_freed(admin, bank, label)
    again = bank.sim.type_code(bank.device_code, parcel.pickup_code)
    assert again["status"] == 404 and again["answer"]["error_code"] == "lockers.code_not_found"


def assert_freed(admin, bank, label):
    assert wait_for(lambda: compartment_of_label(bank, label) == ("free", None)), compartment_of_label(bank, label)
    assert bank_view(admin, bank)["free"]["M"] == 4


def compartment_of_label(bank, label):
    db.session.rollback()
    row = db.session.scalar(select(LockerCompartment).where(LockerCompartment.bank_id == bank.id,
                                                            LockerCompartment.label == label)
                            .execution_options(populate_existing=True))
    return row.status, row.holder_key


def test_wrong_codes_are_refused_and_the_keypad_is_limited(login, bank):
    parcel = stored(login("courier"), bank)
    wrong = "000000" if parcel.pickup_code != "000000" else "000001"
    for _ in range(CODE_ATTEMPTS):
        answer = bank.sim.type_code(bank.device_code, wrong)
        assert answer["status"] == 404
    limited = bank.sim.type_code(bank.device_code, parcel.pickup_code)
    assert limited["status"] == 429 and limited["answer"]["error_code"] == "lockers.too_many_attempts"
    assert parcel_row(parcel.id).status == "stored"
    assert [o["txn_id"].split("-")[0] for o in bank.state()["opened"]] == ["deposit"]


def test_the_recipient_opens_from_the_mini_program_and_nobody_else_can(login, bank):
    courier, teacher, parent = login("courier"), login("teacher"), login("parent")
    parcel = stored(courier, bank)
    for someone in (parent, courier):
        resp = someone.post(f"/api/v1/lockers/parcels/{parcel.id}/open")
        assert resp.status_code == 404 and resp.get_json()["error_code"] == "lockers.parcel_not_found"
    assert parent.get("/api/v1/lockers/parcels").get_json() == []
    resp = teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/open")
    assert resp.status_code == 200, resp.get_json()
    wait_status(parcel.id, "picked_up")
    assert teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/open").status_code == 409


def test_proxy_pickup_by_sharing_with_a_named_user(login, bank):
    courier, teacher, student = login("courier"), login("teacher"), login("student")
    parcel = stored(courier, bank)
    assert student.post(f"/api/v1/lockers/parcels/{parcel.id}/open").status_code == 404
    shared = teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/share", json={"number": "S2026001"})
    assert shared.status_code == 200 and shared.get_json()["shared_with"] == student.user["id"]
    seen = student.get("/api/v1/lockers/parcels").get_json()
    assert [(p["id"], p["pickup_code"]) for p in seen] == [(parcel.id, parcel.pickup_code)]
    assert student.post(f"/api/v1/lockers/parcels/{parcel.id}/share", json={"number": "T0001"}).status_code == 404
    assert student.post(f"/api/v1/lockers/parcels/{parcel.id}/open").status_code == 200
    done = wait_status(parcel.id, "picked_up")
    assert done.picked_up_by == student.user["id"]
    recorded = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "parcel",
                                                           AuditEvent.entity_id == parcel.id)).all()
    assert ("share", teacher.user["id"], {"proxy": student.user["id"]}) in [
        (e.action, e.actor_id, e.data) for e in recorded]
    assert any(e.action == "open_from_app" and e.data["as"] == "proxy" for e in recorded)


def test_a_code_is_never_valid_for_two_stored_parcels_and_is_reused_after_pickup(login, bank, monkeypatch):
    draws = itertools.chain(["111111", "111111", "222222"], itertools.repeat("111111"))
    monkeypatch.setattr(lifecycle, "new_code", lambda: next(draws))
    courier = login("courier")
    first = stored(courier, bank, "CODE0001")
    second = stored(courier, bank, "CODE0002")
    assert (first.pickup_code, second.pickup_code) == ("111111", "222222")
    with pytest.raises(IntegrityError):  # the database itself refuses a second stored parcel with the code
        db.session.execute(update(Parcel).where(Parcel.id == second.id).values(pickup_code="111111"))
        db.session.flush()
    db.session.rollback()
    assert bank.sim.type_code(bank.device_code, "111111")["status"] == 200
    wait_status(first.id, "picked_up")
    third = stored(courier, bank, "CODE0003")
    assert third.pickup_code == "111111"


def test_a_door_that_fails_at_pickup_is_taken_out_of_service_and_reported(login, bank):
    courier, teacher = login("courier"), login("teacher")
    parcel = stored(courier, bank)
    label = compartment_of(parcel.id).label
    bank.sim.jam(bank.device_code, label)
    assert teacher.post(f"/api/v1/lockers/parcels/{parcel.id}/open").status_code == 200
    assert wait_for(lambda: compartment_of_label(bank, label)[0] == "out_of_service")
    db.session.rollback()
    repair = db.session.scalars(select(Repair)).one()
    assert repair.reporter_id == teacher.user["id"] and label in repair.description
    assert parcel_row(parcel.id).status == "stored"  # still inside: staff take it out when the door is mended
