"""What a user sees of themselves (/me), through the API."""

from __future__ import annotations

from sqlalchemy import select

from app.core.db import db
from app.users.models import User


def test_profile_masks_phone(login):
    user = db.session.scalar(select(User).where(User.openid == "demo-openid-teacher"))
    user.phone = "13812345678"
    db.session.commit()
    assert login("teacher").get("/api/v1/me").json["phone_masked"] == "138****5678"
