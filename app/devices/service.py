"""The device registry, request authentication, heartbeats and who is online. Flushes, never commits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.core import clock
from app.core.db import db
from app.core.redis import get_redis
from app.devices import signing
from app.devices.client import DeviceClient
from app.devices.errors import DeviceUnauthorized
from app.devices.models import Device

NONCE_TTL_SECONDS = 2 * signing.MAX_SKEW_SECONDS + 60
"""A nonce is remembered longer than any timestamp it could come with is accepted."""


def register(*, code: str, kind: str, secret: str, base_url: str, name: str = "") -> Device:
    """A device (its code unique); the same code again updates its secret and address."""
    device = db.session.scalar(select(Device).where(Device.code == code))
    if device is None:
        device = Device(code=code, kind=kind)
        db.session.add(device)
    device.secret, device.base_url, device.name = secret, base_url, name
    db.session.flush()
    return device


def get(device_id: int) -> Device | None:
    return db.session.get(Device, device_id)


def authenticate(*, method: str, path: str, headers: Mapping[str, str], body: bytes, kind: str) -> Device:
    """The device that signed this request, or 401 ``devices.unauthorized`` (unknown device, wrong
    signature, timestamp off by more than five minutes, nonce used before). Checks the nonce last, in
    Redis (``SET NX``), so a forged request cannot burn a real device's nonce."""
    code = headers.get("X-Device-Id", "")
    device = db.session.scalar(select(Device).where(Device.code == code, Device.kind == kind)) if code else None
    wanted = {name: headers.get(name, "") for name in signing.HEADERS}
    if device is None or not signing.valid(device.secret, method, path, wanted, body, now=clock.now().timestamp()):
        raise DeviceUnauthorized()
    fresh = get_redis().set(f"devices:nonce:{device.id}:{wanted['X-Nonce']}", 1, nx=True, ex=NONCE_TTL_SECONDS)
    if not fresh:
        raise DeviceUnauthorized()
    return device


def heartbeat(device: Device) -> None:
    db.session.execute(update(Device).where(Device.id == device.id).values(last_heartbeat_at=clock.now())
                       .execution_options(synchronize_session=False))


def offline_after() -> timedelta:
    return timedelta(seconds=current_app.config["DEVICE_OFFLINE_SECONDS"])


def online(device_ids: Iterable[int]) -> dict[int, bool]:
    """Whether each device's last heartbeat is within ``DEVICE_OFFLINE_SECONDS``."""
    ids = list(device_ids)
    if not ids:
        return {}
    since = clock.now() - offline_after()
    rows = db.session.execute(select(Device.id, Device.last_heartbeat_at).where(Device.id.in_(ids))).all()
    return {row.id: row.last_heartbeat_at is not None and row.last_heartbeat_at >= since for row in rows}


def client(device: Device) -> DeviceClient:
    """A signed HTTP client to the device, with the app's timeout."""
    return DeviceClient(device.base_url, device.code, device.secret,
                        timeout=current_app.config["DEVICE_TIMEOUT_SECONDS"])
