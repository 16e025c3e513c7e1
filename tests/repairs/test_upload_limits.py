"""Photo uploads through the API, bounded: per user (not per login), and by the machine's image slots."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.db import db
from app.core.images import ImageSlots
from app.repairs.models import RepairPhoto
from tests.repairs.conftest import jpeg, upload

LIMIT = 30  # a minute, per user (app/repairs/api.py)


def _photos() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(RepairPhoto))


def test_the_upload_limit_is_per_user_and_logging_in_again_does_not_reset_it(login):
    first, second = login("teacher"), login("teacher")  # two login sessions of the same person
    assert first.headers != second.headers
    small = jpeg((32, 24))
    for _ in range(LIMIT):
        assert upload(first, small).status_code == 201
    resp = upload(second, small)
    assert resp.status_code == 429, resp.json
    assert resp.json["error_code"] == "rate_limited" and int(resp.headers["Retry-After"]) > 0
    assert upload(login("student"), small).status_code == 201  # someone else, same address
    assert _photos() == LIMIT + 1


@pytest.fixture
def one_slot(app, monkeypatch) -> ImageSlots:
    """The app's image slots, made one with a short wait."""
    slots = ImageSlots(Path(app.config["INSTANCE_DIR"]) / "locks", 1, wait_seconds=0.2)
    monkeypatch.setitem(app.extensions, "image_slots", slots)
    return slots


def test_an_upload_finding_every_image_slot_taken_is_a_503_with_retry_after_and_stores_nothing(login, one_slot):
    teacher = login("teacher")
    with one_slot.hold():  # another web worker is busy with a photo
        resp = upload(teacher, jpeg((1600, 1200), noise=True))
    assert resp.status_code == 503, resp.json
    assert resp.json["error_code"] == "uploads.busy" and resp.json["message"] == "图片处理繁忙，请稍后重试"
    assert int(resp.headers["Retry-After"]) > 0
    assert _photos() == 0

    assert upload(teacher, jpeg((1600, 1200), noise=True)).status_code == 201  # the slot is free again
    assert _photos() == 1
