"""The real HTTP client to a device: ``requests`` with explicit timeouts, every request signed
(``signing``), errors mapped: unreachable or timed out → ``DeviceOffline`` (503), refused (4xx/5xx, or an
answer that is not JSON) → ``DeviceRefused`` (502). ``LockerController`` is the lockers' protocol."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

import requests

from app.devices import signing
from app.devices.errors import DeviceOffline, DeviceRefused

log = logging.getLogger(__name__)


class DeviceClient:
    def __init__(self, base_url: str, device_id: str, secret: str, *, timeout: float = 3.0,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.device_id, self.secret, self.timeout = device_id, secret, timeout
        self._http = session or requests.Session()

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        url = self.base_url + path
        headers = {"Content-Type": "application/json",
                   **signing.sign(self.device_id, self.secret, "POST", urlsplit(url).path, body)}
        try:
            res = self._http.post(url, data=body, headers=headers, timeout=(self.timeout, self.timeout))
        except requests.RequestException as exc:
            log.warning("device unreachable", extra={"device": self.device_id, "error": type(exc).__name__})
            raise DeviceOffline() from exc
        if res.status_code in (502, 503, 504):  # a gateway on site cannot reach the controller
            raise DeviceOffline()
        if res.status_code >= 400:
            log.warning("device refused", extra={"device": self.device_id, "status": res.status_code})
            raise DeviceRefused()
        try:
            answer = res.json()
        except ValueError as exc:
            raise DeviceRefused() from exc
        if not isinstance(answer, dict):
            raise DeviceRefused()
        return answer


class LockerController:
    """A bank's controller: ``open`` asks it to open one compartment's door for a transaction; the
    outcome arrives later as a door event (``opened``, ``closed`` or ``failed``) with the same txn id."""

    def __init__(self, client: DeviceClient) -> None:
        self.client = client

    def open(self, compartment: str, txn_id: str) -> dict[str, Any]:
        return self.client.post("/open", {"compartment": compartment, "txn_id": txn_id})
