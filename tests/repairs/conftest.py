"""Helpers for the repairs tests: real JPEGs, the demo school's ids, a second bound worker, reports."""

from __future__ import annotations

import io
import os

import pytest
from PIL import ExifTags, Image
from sqlalchemy import event, select

from app.core.db import db
from app.places import service as places_service
from app.repairs.models import Repair, RepairCategory, WorkerGroup
from app.users.models import StaffMember, User

PHONE = "13800000001"


def jpeg(size: tuple[int, int] = (96, 72), *, gps: bool = False, noise: bool = False) -> bytes:
    """A real JPEG; ``gps`` adds an EXIF block with camera and GPS position, ``noise`` random pixels."""
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 80, 40))
    params = {}
    if gps:
        exif = Image.Exif()
        exif[ExifTags.Base.Make] = "SpyCam"
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps_ifd[ExifTags.GPS.GPSLatitudeRef] = "N"
        gps_ifd[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 27.0)
        gps_ifd[ExifTags.GPS.GPSLongitudeRef] = "E"
        gps_ifd[ExifTags.GPS.GPSLongitude] = (116.0, 23.0, 30.0)
        params["exif"] = exif
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, **params)
    return buffer.getvalue()


def category_id(code: str = "water_electric") -> int:
    return db.session.scalar(select(RepairCategory.id).where(RepairCategory.code == code))


def place_id(code: str = "E-ADM-301") -> int:
    return places_service.get_by_code(code).id


def user_id(role: str) -> int:
    return db.session.scalar(select(User.id).where(User.openid == f"demo-openid-{role}"))


def demo_group_id() -> int:
    return db.session.scalar(select(WorkerGroup.id).where(WorkerGroup.name == "综合维修组"))


def repair(repair_id: int) -> Repair:
    db.session.expire_all()
    return db.session.get(Repair, repair_id)


def upload(session, data: bytes | None = None, filename: str = "photo.jpg", url: str = "/api/v1/repairs/photos"):
    return session.post(url, data={"file": (io.BytesIO(data if data is not None else jpeg()), filename)},
                        content_type="multipart/form-data")


def report(session, *, photos: int = 0, expect: int | None = 201, **overrides) -> dict:
    photo_ids = [upload(session).json["id"] for _ in range(photos)]
    body = {"description": "灯不亮了", "contact_phone": PHONE, "photo_ids": photo_ids, **overrides}
    if "category_id" not in body:
        body["category_id"] = category_id()
    if "place_id" not in body:
        body["place_id"] = place_id()
    resp = session.post("/api/v1/repairs", json=body)
    if expect is not None:
        assert resp.status_code == expect, resp.json
    return resp.json


def staff_users(n: int, role: str) -> list[int]:
    """``n`` more active staff members holding ``role``, each bound to a user; their user ids."""
    staff = [StaffMember(number=f"T-{role}-{i}", name=f"{role}{i}", roles=[role]) for i in range(n)]
    db.session.add_all(staff)
    db.session.flush()
    users = [User(openid=f"test-openid-{role}-{i}", staff_id=member.id) for i, member in enumerate(staff)]
    db.session.add_all(users)
    db.session.commit()
    return [u.id for u in users]


class Statements:
    """Counts the SQL statements the application sends that start with ``prefix``."""

    def __init__(self, prefix: str):
        self.prefix, self.count = prefix.upper(), 0

    def __enter__(self) -> Statements:
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, *args) -> None:
        self.count += statement.lstrip().upper().startswith(self.prefix)


@pytest.fixture
def second_worker(login, sim):
    """W0002 郑师傅 bound to a WeChat account and logged in (the demo seed leaves W0002 unbound)."""
    staff = db.session.scalar(select(StaffMember).where(StaffMember.number == "W0002"))
    db.session.add(User(openid="test-openid-w2", staff_id=staff.id))
    db.session.commit()
    sim.register_login_code("code-w2", openid="test-openid-w2")
    return login(code="code-w2")


@pytest.fixture
def long_tokens(app):
    """Access tokens that outlive the hours and days a test moves the clock by (normally 15 minutes)."""
    before = app.config["ACCESS_TOKEN_TTL"]
    app.config["ACCESS_TOKEN_TTL"] = 60 * 24 * 3600
    yield
    app.config["ACCESS_TOKEN_TTL"] = before
