"""A parcel-locker controller simulator (dev, tests): one process plays any number of banks' controllers.

Protocol (the same as a real controller's, ``app.devices.client`` / the lockers' device API):

* our server → controller: ``POST /controllers/<code>/open {compartment, txn_id}`` signed with the
  controller's secret (a forged or replayed request: 401). The controller answers ``{"accepted": true}``
  at once and reports the door afterwards.
* controller → our server, signed: door events ``POST <server>/api/v1/lockers/device/events
  {event: opened|closed|failed, compartment, txn_id, code}``, retried until the server answers 2xx (a
  409 or 503 means "not yet": the server has not committed the transaction the event is about);
  heartbeats ``POST <server>/api/v1/lockers/device/heartbeat`` every ``heartbeat_seconds``; a code typed
  on the keypad ``POST <server>/api/v1/lockers/device/pickup {code}``.

Control API under ``/__sim__/`` (``app.devices.simulator_control``): add a controller, jam a door,
cut a bank off (no heartbeats, ``/open`` answers 503), close a door by hand, type a code, read what
was opened and which events were delivered, reset.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, abort, jsonify, request

from app.devices import signing

log = logging.getLogger(__name__)

EVENTS_PATH = "/api/v1/lockers/device/events"
HEARTBEAT_PATH = "/api/v1/lockers/device/heartbeat"
PICKUP_PATH = "/api/v1/lockers/device/pickup"


@dataclass
class Controller:
    code: str
    secret: str
    server_url: str
    compartments: set[str]
    auto_close: bool = True
    jammed: set[str] = field(default_factory=set)
    cut: bool = False
    doors: dict[str, str] = field(default_factory=dict)  # compartment → open | closed
    opened: list[dict[str, Any]] = field(default_factory=list)  # every /open accepted, in order
    events: list[dict[str, Any]] = field(default_factory=list)  # every event delivered, with the answer


class State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.controllers: dict[str, Controller] = {}
        self.nonces: set[tuple[str, str]] = set()
        self.generation = 0  # a reset stops deliveries of the previous generation
        self.http = requests.Session()

    def reset(self) -> None:
        with self.lock:
            self.controllers.clear()
            self.nonces.clear()
            self.generation += 1


def _post(state: State, ctl: Controller, path: str, payload: dict[str, Any]) -> requests.Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **signing.sign(ctl.code, ctl.secret, "POST", path, body)}
    return state.http.post(ctl.server_url.rstrip("/") + path, data=body, headers=headers, timeout=5)


def _deliver(state: State, ctl: Controller, generation: int, events: list[dict[str, Any]],
             retry_seconds: float) -> None:
    """Delivers ``events`` in order, each retried until a 2xx (or a 4xx other than 409)."""
    for event in events:
        deadline = time.monotonic() + retry_seconds
        delay = 0.05
        while state.generation == generation:
            if event["event"] == "closed":
                with state.lock:
                    if ctl.doors.get(event["compartment"]) != "open":
                        break
                    if not ctl.auto_close and not event.get("by_hand"):
                        return  # the door stays open until closed through the control API
                    ctl.doors[event["compartment"]] = "closed"
            payload = {k: v for k, v in event.items() if k != "by_hand"}
            try:
                res = _post(state, ctl, EVENTS_PATH, payload)
                status = res.status_code
            except requests.RequestException:
                status = 0
            if 200 <= status < 300 or (400 <= status < 500 and status != 409):
                with state.lock:
                    ctl.events.append({**payload, "status": status})
                break
            if time.monotonic() > deadline:
                with state.lock:
                    ctl.events.append({**payload, "status": status, "gave_up": True})
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def add_controller(app: Flask, code: str, *, secret: str, server_url: str, compartments: list[str],
                   auto_close: bool = True) -> Controller:
    """Play a controller (the control API's ``POST /__sim__/controllers`` does the same)."""
    state: State = app.extensions["locker_simulator"]
    ctl = Controller(code=code, secret=secret or secrets.token_hex(16), server_url=server_url,
                     compartments=set(compartments), auto_close=auto_close)
    with state.lock:
        state.controllers[code] = ctl
    return ctl


def create_simulator(*, heartbeat_seconds: float = 5.0, retry_seconds: float = 20.0) -> Flask:
    app = Flask("locker_simulator")
    state = State()
    app.extensions["locker_simulator"] = state

    def controller(code: str) -> Controller:
        ctl = state.controllers.get(code)
        if ctl is None:
            abort(404)
        return ctl

    def spawn(ctl: Controller, events: list[dict[str, Any]]) -> None:
        threading.Thread(target=_deliver, args=(state, ctl, state.generation, events, retry_seconds),
                         daemon=True, name=f"locker-sim-{ctl.code}").start()

    def beat() -> None:
        while True:
            time.sleep(heartbeat_seconds)
            with state.lock:
                live = [c for c in state.controllers.values() if not c.cut]
            for ctl in live:
                try:
                    _post(state, ctl, HEARTBEAT_PATH, {"doors_open": sorted(
                        k for k, v in ctl.doors.items() if v == "open")})
                except requests.RequestException:
                    pass

    threading.Thread(target=beat, daemon=True, name="locker-sim-heartbeats").start()

    # --- the controller's own API (what our server calls) -------------------------------------------

    @app.post("/controllers/<code>/open")
    def open_door(code: str):
        ctl = controller(code)
        if ctl.cut:
            abort(503)
        body = request.get_data()
        headers = {name: request.headers.get(name, "") for name in signing.HEADERS}
        with state.lock:
            nonce = (code, headers["X-Nonce"])
            if (headers["X-Device-Id"] != code or nonce in state.nonces
                    or not signing.valid(ctl.secret, "POST", request.path, headers, body, now=time.time())):
                return jsonify(error="unauthorized"), 401
            state.nonces.add(nonce)
            data = request.get_json(force=True, silent=True) or {}
            compartment, txn_id = str(data.get("compartment", "")), str(data.get("txn_id", ""))
            if compartment not in ctl.compartments or not txn_id:
                return jsonify(error="unknown compartment"), 400
            ctl.opened.append({"compartment": compartment, "txn_id": txn_id})
            if compartment in ctl.jammed:
                events = [{"event": "failed", "compartment": compartment, "txn_id": txn_id, "code": "door_jammed"}]
            else:
                ctl.doors[compartment] = "open"
                events = [{"event": "opened", "compartment": compartment, "txn_id": txn_id},
                          {"event": "closed", "compartment": compartment, "txn_id": txn_id}]
        spawn(ctl, events)
        return jsonify(accepted=True, txn_id=txn_id)

    # --- control ----------------------------------------------------------------------------------------

    @app.get("/__sim__/health")
    def health():
        return jsonify(ok=True, controllers=len(state.controllers))

    @app.post("/__sim__/reset")
    def reset():
        state.reset()
        return jsonify(ok=True)

    @app.post("/__sim__/controllers")
    def play_controller():
        data = request.get_json(force=True)
        ctl = add_controller(app, data["code"], secret=data.get("secret", ""), server_url=data["server_url"],
                             compartments=list(data["compartments"]), auto_close=bool(data.get("auto_close", True)))
        return jsonify(code=ctl.code, secret=ctl.secret)

    @app.post("/__sim__/controllers/<code>/faults")
    def faults(code: str):
        ctl = controller(code)
        data = request.get_json(force=True)
        with state.lock:
            for compartment in data.get("jam", []):
                ctl.jammed.add(compartment)
            for compartment in data.get("unjam", []):
                ctl.jammed.discard(compartment)
            if "cut" in data:
                ctl.cut = bool(data["cut"])
            if "auto_close" in data:
                ctl.auto_close = bool(data["auto_close"])
        return jsonify(jammed=sorted(ctl.jammed), cut=ctl.cut, auto_close=ctl.auto_close)

    @app.post("/__sim__/controllers/<code>/close")
    def close(code: str):
        """Someone closes an open door by hand: its ``closed`` event (the last open's txn id) is sent."""
        ctl = controller(code)
        compartment = request.get_json(force=True)["compartment"]
        with state.lock:
            if ctl.doors.get(compartment) != "open":
                return jsonify(closed=False)
            txn_id = next(o["txn_id"] for o in reversed(ctl.opened) if o["compartment"] == compartment)
        spawn(ctl, [{"event": "closed", "compartment": compartment, "txn_id": txn_id, "by_hand": True}])
        return jsonify(closed=True, txn_id=txn_id)

    @app.post("/__sim__/controllers/<code>/type-code")
    def type_code(code: str):
        """Someone types a pickup code on the bank's keypad: what our server answered."""
        ctl = controller(code)
        res = _post(state, ctl, PICKUP_PATH, {"code": str(request.get_json(force=True)["code"])})
        try:
            answer = res.json()
        except ValueError:
            answer = {}
        return jsonify(status=res.status_code, answer=answer)

    @app.get("/__sim__/controllers/<code>")
    def show(code: str):
        ctl = controller(code)
        with state.lock:
            return jsonify(code=ctl.code, opened=list(ctl.opened), events=list(ctl.events), doors=dict(ctl.doors),
                           jammed=sorted(ctl.jammed), cut=ctl.cut)

    return app
