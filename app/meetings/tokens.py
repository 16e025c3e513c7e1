"""The rotating QR token: HMAC-signed meeting id + 15-second time slot + purpose (pure functions).

Why this shape:

* **No database to verify.** The signature is an HMAC-SHA256 over ``meeting id, slot, purpose`` with
  a key derived from ``SECRET_KEY`` (derived, so a QR token can never pass for an access token or
  anything else signed with the same secret). A forged or altered token is refused before any query.
* **A screenshot is useless a few seconds later.** Time is cut into 15-second slots; a token is
  accepted in its own slot and the next one (the brief's "current and previous slot"), so a scan
  that started just before the code changed still works while a picture forwarded to a friend has
  15–30 seconds of life at most. A token for a slot *ahead* of the server's clock is refused as
  invalid (it cannot have come from us unless clocks disagree).
* **Short, URL-safe.** The QR encodes a link ``<WECHAT_QR_LINK_BASE>checkin?t=<token>`` that WeChat's
  scanner opens in the mini-program; the token is ``<meeting>.<slot>.<purpose>.<16 chars>`` (96 bits
  of signature is plenty for a value that lives 30 seconds), which keeps the QR code coarse enough
  to scan from the back of a hall.

The locust benchmark imports ``make_token`` to scan like a phone would, without a database.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from app.meetings.states import PURPOSE_CODES, SLOT_SECONDS, ScanAction

_PURPOSES = {code: action for action, code in PURPOSE_CODES.items()}
_TOKEN = re.compile(r"^(\d{1,12})\.(\d{1,12})\.([a-z])\.([A-Za-z0-9_-]{16})$")
_KEY_LABEL = b"meetings.qr.v1"


@functools.lru_cache(maxsize=4)  # one SECRET_KEY per process: derive it once
def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def slot_of(when: datetime) -> int:
    return int(when.timestamp()) // SLOT_SECONDS


def slot_ends(slot: int) -> int:
    """Epoch seconds at which ``slot`` stops being the current one."""
    return (slot + 1) * SLOT_SECONDS


def _signature(secret: str, meeting_id: int, slot: int, purpose_code: str) -> str:
    mac = hmac.new(_key(secret), f"{meeting_id}.{slot}.{purpose_code}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:12]).decode()


def make_token(secret: str, meeting_id: int, slot: int, purpose: str = ScanAction.CHECK_IN) -> str:
    code = PURPOSE_CODES[ScanAction(purpose)]
    return f"{meeting_id}.{slot}.{code}.{_signature(secret, meeting_id, slot, code)}"


@dataclass(frozen=True)
class Verified:
    meeting_id: int | None
    purpose: ScanAction | None
    problem: str | None  # None, "invalid" or "expired"


def verify(secret: str, token: str, now: datetime) -> Verified:
    """Check the signature and the slot. ``meeting_id`` is set only for a genuine token."""
    m = _TOKEN.match(token or "")
    if not m:
        return Verified(None, None, "invalid")
    meeting_id, slot, code, signature = int(m[1]), int(m[2]), m[3], m[4]
    purpose = _PURPOSES.get(code)
    if purpose is None or not hmac.compare_digest(signature, _signature(secret, meeting_id, slot, code)):
        return Verified(None, None, "invalid")
    current = slot_of(now)
    if slot > current:
        return Verified(meeting_id, purpose, "invalid")
    if slot < current - 1:
        return Verified(meeting_id, purpose, "expired")
    return Verified(meeting_id, purpose, None)
