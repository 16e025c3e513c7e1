"""Demo data for the lockers (``flask seed-demo`` runs it through ``app.seed``); idempotent: one bank of
12 compartments (4 S, 5 M, 3 L) at 学生宿舍1号楼, its controller the locker simulator `make run` serves
on ``LOCKER_SIMULATOR_PORT`` (``app.devrun`` tells the simulator the same code, secret and compartments)."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import select

from app.core.db import db
from app.lockers import service
from app.lockers.models import LockerBank
from app.places import service as places_service

BANK_CODE = "DORM1-LOCKER"
BANK_NAME = "宿舍1号楼快递柜"
PLACE_CODE = "E-DORM1"
DEVICE_CODE = "locker-dorm1"
SIZES = "SSSSMMMMMLLL"
LABELS = [f"A{i + 1:02d}" for i in range(len(SIZES))]


def device_secret(secret_key: str) -> str:
    """The demo controller's secret, derived from the instance's ``SECRET_KEY`` (never a public constant)."""
    return hmac.new(secret_key.encode(), DEVICE_CODE.encode(), hashlib.sha256).hexdigest()[:40]


def controller_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/controllers/{DEVICE_CODE}"


def seed_demo() -> None:
    if db.session.scalar(select(LockerBank.id).where(LockerBank.code == BANK_CODE)) is not None:
        return
    place = places_service.get_by_code(PLACE_CODE)
    service.create_bank(actor=None, code=BANK_CODE, name=BANK_NAME, place_id=place.id, device_code=DEVICE_CODE,
                        secret=device_secret(current_app.config["SECRET_KEY"]),
                        base_url=controller_url(current_app.config["LOCKER_SIMULATOR_PORT"]),
                        compartments=list(zip(LABELS, SIZES, strict=True)))
