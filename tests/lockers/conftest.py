"""A demo school with one bank of lockers whose controller is the locker simulator."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.core.db import db
from app.devices.models import Device
from app.devices.simulator_control import LockerSimulatorControl
from app.lockers import service
from app.lockers.models import LockerCompartment, Parcel
from app.places.models import Place
from tests.support import wait_for


@dataclass
class Bank:
    id: int
    code: str
    device_code: str
    secret: str
    place_id: int
    labels: list[str]
    sim: LockerSimulatorControl

    def state(self) -> dict:
        return self.sim.state(self.device_code)


@pytest.fixture
def make_bank(app, demo, locker_sim, served_url):
    made = []

    def make(sizes: str = "SSSSMMMMLLLL", code: str = "B1") -> Bank:
        place_id = db.session.scalar(select(Place.id).order_by(Place.id).limit(1))
        labels = [f"A{i + 1:02d}" for i in range(len(sizes))]
        device_code, secret = f"locker-{code.lower()}", f"secret-of-{code}-0123456789"
        bank = service.create_bank(actor=None, code=code, name=f"{code} 号快递柜", place_id=place_id,
                                   device_code=device_code, secret=secret,
                                   base_url=locker_sim.controller_url(device_code),
                                   compartments=list(zip(labels, sizes, strict=True)))
        db.session.commit()
        locker_sim.add_controller(device_code, secret=secret, server_url=served_url, compartments=labels)
        made.append(bank.id)
        assert wait_for(lambda: db.session.scalar(select(Device.last_heartbeat_at).where(
            Device.code == device_code).execution_options(populate_existing=True)) is not None), "no heartbeat"
        db.session.rollback()
        return Bank(bank.id, code, device_code, secret, place_id, labels, locker_sim)

    return make


@pytest.fixture
def bank(make_bank) -> Bank:
    return make_bank()


def parcel_row(parcel_id: int) -> Parcel:
    db.session.rollback()
    return db.session.get(Parcel, parcel_id, populate_existing=True)


def compartment_of(parcel_id: int) -> LockerCompartment | None:
    parcel = parcel_row(parcel_id)
    return db.session.get(LockerCompartment, parcel.compartment_id) if parcel.compartment_id else None


def wait_status(parcel_id: int, status: str, seconds: float = 20) -> Parcel:
    assert wait_for(lambda: parcel_row(parcel_id).status == status, seconds=seconds), \
        f"parcel {parcel_id} is {parcel_row(parcel_id).status}, not {status}"
    return parcel_row(parcel_id)
