"""Installing a bank (station staff, the console's 新增快递柜 and ``flask lockers-add-bank``): its
compartments by size, labelled A01, A02 … small ones first, and its controller registered with a secret
made here and shown once — the installer types it into the controller; we keep it only to sign and check
requests (``app.devices``)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select

from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import ValidationFailed
from app.core.schemas import text_problem
from app.devices.models import Device
from app.lockers.models import LockerBank
from app.lockers.service import errors
from app.lockers.service.banks import create_bank
from app.lockers.states import STAFF, Size

CODE = re.compile(r"^[A-Za-z0-9-]{2,30}$")
MAX_PER_SIZE, MAX_COMPARTMENTS = 200, 300


@dataclass(frozen=True)
class Installed:
    bank_id: int
    code: str
    name: str
    device_code: str
    secret: str
    """The controller's secret: shown once, to be typed into the controller."""
    compartments: int


def _check(code: str, name: str, sizes: dict[str, int], base_url: str) -> None:
    problems = {}
    if not CODE.match(code or ""):
        problems["code"] = ["编号为 2–30 位字母、数字或 -"]
    if not 0 < len((name or "").strip()) <= 60 or any(c in name for c in "\r\n\u2028\u2029"):
        problems["name"] = ["请填写名称（最多 60 个字，不能换行）"]
    elif text_problem(name):
        problems["name"] = [f"名称{text_problem(name)}"]
    counts = [sizes.get(str(s), 0) for s in Size]
    if set(sizes) - {str(s) for s in Size} or \
            any(not isinstance(n, int) or not 0 <= n <= MAX_PER_SIZE for n in counts) or \
            not 0 < sum(counts) <= MAX_COMPARTMENTS:
        problems["sizes"] = [f"格口尺寸为 S、M、L，每种 0–{MAX_PER_SIZE} 个，合计 1–{MAX_COMPARTMENTS} 个"]
    url = urlsplit(base_url or "")
    if url.scheme not in ("http", "https") or not url.netloc or len(base_url) > 300:
        problems["base_url"] = ["控制器地址应为 http(s):// 开头的网址"]
    if problems:
        raise ValidationFailed(message="；".join(m[0] for m in problems.values()), errors=problems)


def add_bank(*, actor: Actor, code: str, name: str, place_id: int, sizes: dict[str, int],
             base_url: str) -> Installed:
    """A bank with ``sizes`` (``{"S": 10, "M": 8, "L": 4}``) compartments at a place, its controller
    ``locker-<code>`` (lower case) reached at ``base_url``; the code taken (any case) or the controller's
    code registered already: 409 ``lockers.bank_exists``."""
    require_roles(actor, *STAFF)
    _check(code, name, sizes, base_url)
    device_code = f"locker-{code.lower()}"
    if db.session.scalar(select(LockerBank.id).where(func.lower(LockerBank.code) == code.lower())) or \
            db.session.scalar(select(Device.id).where(Device.code == device_code)):
        raise errors.BankExists()
    labels = [str(size) for size in Size for _ in range(sizes.get(str(size), 0))]
    compartments = [(f"A{i + 1:02d}", size) for i, size in enumerate(labels)]
    secret = secrets.token_hex(20)
    bank = create_bank(actor=actor, code=code, name=name.strip(), place_id=place_id, device_code=device_code,
                       secret=secret, base_url=base_url, compartments=compartments)
    return Installed(bank_id=bank.id, code=bank.code, name=bank.name, device_code=device_code, secret=secret,
                     compartments=len(compartments))
