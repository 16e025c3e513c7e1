"""Signed requests between our server and a device, both ways.

Headers: ``X-Device-Id`` (the device's code), ``X-Timestamp`` (Unix seconds), ``X-Nonce`` (random, used
once) and ``X-Signature``: hex HMAC-SHA256 with the device's secret over::

    METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n hex SHA-256 of the body

Pure functions: the receiving side checks the clock skew and the nonce (``service.authenticate``, the
simulator's own check).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

MAX_SKEW_SECONDS = 300
"""A request whose timestamp is further than this from the receiver's clock is refused."""

HEADERS = ("X-Device-Id", "X-Timestamp", "X-Nonce", "X-Signature")


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign(device_id: str, secret: str, method: str, path: str, body: bytes, *, now: float | None = None,
         nonce: str | None = None) -> dict[str, str]:
    """The headers of a signed request."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = nonce or secrets.token_hex(16)
    return {"X-Device-Id": device_id, "X-Timestamp": timestamp, "X-Nonce": nonce,
            "X-Signature": signature(secret, method, path, timestamp, nonce, body)}


def valid(secret: str, method: str, path: str, headers: dict[str, str], body: bytes, *, now: float) -> bool:
    """Whether the signature matches and the timestamp is within ``MAX_SKEW_SECONDS`` of ``now``
    (the nonce is the caller's to check)."""
    timestamp, nonce, sig = headers.get("X-Timestamp", ""), headers.get("X-Nonce", ""), headers.get("X-Signature", "")
    if not timestamp.isdigit() or len(timestamp) > 12 or not nonce or len(nonce) > 64 or not sig:
        return False
    if abs(int(timestamp) - now) > MAX_SKEW_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, method, path, timestamp, nonce, body), sig)
