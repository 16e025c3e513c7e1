"""A small client for the locker simulator's ``/__sim__/`` control API (tests, the dev seed)."""

from __future__ import annotations

from typing import Any

import requests


class LockerSimulatorControl:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.root = base_url.rstrip("/")
        self.base_url = self.root + "/__sim__/"
        self.timeout = timeout
        self._http = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        res = self._http.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        res.raise_for_status()
        return res.json()

    def controller_url(self, code: str) -> str:
        """The address our server reaches this controller at (``Device.base_url``)."""
        return f"{self.root}/controllers/{code}"

    def health(self) -> dict[str, Any]:
        return self._call("GET", "health")

    def reset(self) -> None:
        self._call("POST", "reset")

    def add_controller(self, code: str, *, secret: str, server_url: str, compartments: list[str],
                       auto_close: bool = True) -> dict[str, Any]:
        return self._call("POST", "controllers", json={"code": code, "secret": secret, "server_url": server_url,
                                                       "compartments": compartments, "auto_close": auto_close})

    def jam(self, code: str, *compartments: str) -> None:
        self._call("POST", f"controllers/{code}/faults", json={"jam": list(compartments)})

    def unjam(self, code: str, *compartments: str) -> None:
        self._call("POST", f"controllers/{code}/faults", json={"unjam": list(compartments)})

    def cut(self, code: str, cut: bool = True) -> None:
        """Cut the bank off (no heartbeats; ``/open`` answers 503), or connect it again."""
        self._call("POST", f"controllers/{code}/faults", json={"cut": cut})

    def auto_close(self, code: str, on: bool) -> None:
        self._call("POST", f"controllers/{code}/faults", json={"auto_close": on})

    def close(self, code: str, compartment: str) -> dict[str, Any]:
        return self._call("POST", f"controllers/{code}/close", json={"compartment": compartment})

    def type_code(self, code: str, pickup_code: str) -> dict[str, Any]:
        """Type a pickup code on the bank's keypad: ``{"status": …, "answer": …}`` from our server."""
        return self._call("POST", f"controllers/{code}/type-code", json={"code": pickup_code})

    def state(self, code: str) -> dict[str, Any]:
        """What was opened, which events were delivered (with the server's status), doors, faults."""
        return self._call("GET", f"controllers/{code}")
