"""Installing a bank (station staff): compartments by size labelled A01 … small first, the controller
registered with a secret shown once, through the service and ``flask lockers-add-bank`` (the console's
新增快递柜 form: tests/console/test_lockers.py); bad input or a taken code writes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Forbidden, ValidationFailed
from app.devices import signing
from app.devices.models import Device
from app.lockers import service
from app.lockers.models import LockerBank, LockerCompartment
from app.places import service as places

STAFF = Actor(user_id=1, roles=frozenset({"admin"}))
URL = "http://127.0.0.1:9/controllers/x"


def banks() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(LockerBank))


def place_id() -> int:
    return places.get_by_code("E-DORM1").id


def test_a_bank_with_its_compartments_by_size_and_a_secret_made_once(app, demo):
    made = service.add_bank(actor=STAFF, code="DORM2", name="宿舍2号楼快递柜", place_id=place_id(),
                            sizes={"S": 2, "M": 3, "L": 1}, base_url=URL)
    db.session.commit()
    units = db.session.execute(select(LockerCompartment.label, LockerCompartment.size, LockerCompartment.status)
                               .where(LockerCompartment.bank_id == made.bank_id)
                               .order_by(LockerCompartment.label)).all()
    assert [tuple(u) for u in units] == [("A01", "S", "free"), ("A02", "S", "free"), ("A03", "M", "free"),
                                         ("A04", "M", "free"), ("A05", "M", "free"), ("A06", "L", "free")]
    device = db.session.scalar(select(Device).where(Device.code == "locker-dorm2"))
    assert made.device_code == "locker-dorm2" and made.compartments == 6
    assert device.secret == made.secret and len(made.secret) == 40 and device.base_url == URL
    again = service.add_bank(actor=STAFF, code="DORM3", name="宿舍3号楼快递柜", place_id=place_id(),
                             sizes={"M": 1}, base_url=URL)
    assert again.secret != made.secret  # never a shared or derived secret
    headers = signing.sign(made.device_code, made.secret, "POST", "/x", b"{}")
    assert signing.valid(device.secret, "POST", "/x", headers, b"{}", now=float(headers["X-Timestamp"]))


@pytest.mark.parametrize(("code", "name", "sizes", "url", "field"), [
    ("", "柜", {"S": 1}, URL, "code"),
    ("有中文", "柜", {"S": 1}, URL, "code"),
    ("OK1", "", {"S": 1}, URL, "name"),
    ("OK1", "两行\n名称", {"S": 1}, URL, "name"),
    ("OK1", "柜\u202e", {"S": 1}, URL, "name"),
    ("OK1", "柜", {}, URL, "sizes"),
    ("OK1", "柜", {"S": 201}, URL, "sizes"),
    ("OK1", "柜", {"S": -1, "M": 2}, URL, "sizes"),
    ("OK1", "柜", {"XL": 2}, URL, "sizes"),
    ("OK1", "柜", {"S": 200, "M": 101}, URL, "sizes"),
    ("OK1", "柜", {"S": 1}, "ftp://x/", "base_url"),
])
def test_bad_input_is_refused_and_writes_nothing(app, demo, code, name, sizes, url, field):
    before = banks()
    with pytest.raises(ValidationFailed) as refused:
        service.add_bank(actor=STAFF, code=code, name=name, place_id=place_id(), sizes=sizes, base_url=url)
    assert field in refused.value.errors
    assert banks() == before


def test_a_taken_code_in_any_case_is_409_and_only_staff_install(app, demo):
    with pytest.raises(service.BankExists):
        service.add_bank(actor=STAFF, code="dorm1-locker", name="重复", place_id=place_id(), sizes={"S": 1},
                         base_url=URL)
    for roles in ({"courier"}, {"dispatcher"}, {"finance"}):
        with pytest.raises(Forbidden):
            service.add_bank(actor=Actor(user_id=1, roles=frozenset(roles)), code="NEW1", name="新柜",
                             place_id=place_id(), sizes={"S": 1}, base_url=URL)
    assert banks() == 1  # the demo's


def test_the_cli_prints_the_secret_once(app, demo):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lockers-add-bank", "LIB1", "--name", "图书馆快递柜", "--place", "E-DORM1",
                                 "--sizes", "S=4,M=2", "--controller-url", URL, "--by", "A0001"])
    assert result.exit_code == 0, result.output
    secret = re.search(r"controller locker-lib1 secret ([0-9a-f]{40})", result.output).group(1)
    db.session.rollback()
    assert db.session.scalar(select(Device.secret).where(Device.code == "locker-lib1")) == secret
    refused = runner.invoke(args=["lockers-add-bank", "LIB2", "--name", "柜", "--place", "E-DORM1",
                                  "--sizes", "S=1", "--controller-url", URL, "--by", "T0001"])  # a teacher
    assert refused.exit_code != 0 and "LIB2" not in refused.output
    taken = runner.invoke(args=["lockers-add-bank", "lib1", "--name", "柜", "--place", "E-DORM1",
                                "--sizes", "S=1", "--controller-url", URL, "--by", "A0001"])
    assert taken.exit_code != 0 and "快递柜编号已存在" in taken.output
    assert banks() == 2
