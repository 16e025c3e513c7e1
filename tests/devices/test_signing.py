"""Controllers' requests are signed: forged, expired or replayed ones are refused (401) with nothing changed;
our requests to a controller are signed too, and the simulator refuses a forged one."""

from __future__ import annotations

import json
import time

import requests
from sqlalchemy import select

from app.core.db import db
from app.devices import signing
from app.devices.models import Device
from app.lockers.models import Parcel

HEARTBEAT = "/api/v1/lockers/device/heartbeat"
EVENTS = "/api/v1/lockers/device/events"


def signed(bank, path, payload, *, secret=None, now=None, nonce=None):
    body = json.dumps(payload).encode()
    headers = signing.sign(bank.device_code, secret or bank.secret, "POST", path, body, now=now, nonce=nonce)
    return body, {**headers, "Content-Type": "application/json"}


def last_heartbeat(bank):
    db.session.rollback()
    return db.session.scalar(select(Device.last_heartbeat_at).where(Device.code == bank.device_code))


def test_a_signed_heartbeat_counts_once_and_its_replay_is_refused(client, make_bank):
    bank = make_bank()
    bank.sim.cut(bank.device_code)  # the simulator's own heartbeats stop
    body, headers = signed(bank, HEARTBEAT, {})
    assert client.post(HEARTBEAT, data=body, headers=headers).status_code == 204
    seen = last_heartbeat(bank)
    replay = client.post(HEARTBEAT, data=body, headers=headers)
    assert replay.status_code == 401 and replay.get_json()["error_code"] == "devices.unauthorized"
    assert last_heartbeat(bank) == seen


def test_forged_stale_and_unknown_requests_change_nothing(client, make_bank, login):
    bank = make_bank()
    courier = login("courier")
    bank.sim.auto_close(bank.device_code, False)  # the courier's door stays open
    parcel = courier.post("/api/v1/lockers/parcels", json={"bank_id": bank.id, "tracking_no": "FORGE001",
                                                           "size": "S", "number": "T0001"}).get_json()
    txn = bank.state()["opened"][0]["txn_id"]
    event = {"event": "closed", "compartment": "A01", "txn_id": txn}
    attempts = [
        signed(bank, EVENTS, event, secret="not-the-secret"),
        signed(bank, EVENTS, event, now=time.time() - signing.MAX_SKEW_SECONDS - 60),
        signed(bank, EVENTS, event, now=time.time() + signing.MAX_SKEW_SECONDS + 60),
    ]
    body, headers = signed(bank, EVENTS, event)
    attempts.append((body, {**headers, "X-Device-Id": "no-such-device"}))
    attempts.append((json.dumps({**event, "event": "failed"}).encode(), headers))  # body changed after signing
    attempts.append((body, {k: v for k, v in headers.items() if k != "X-Signature"}))
    for body_, headers_ in attempts:
        resp = client.post(EVENTS, data=body_, headers=headers_)
        assert resp.status_code == 401 and resp.get_json()["error_code"] == "devices.unauthorized"
    db.session.rollback()
    assert db.session.get(Parcel, parcel["id"]).status == "depositing"
    # the genuine one, once
    assert client.post(EVENTS, data=body, headers=headers).status_code == 200
    assert client.post(EVENTS, data=body, headers=headers).status_code == 401
    db.session.rollback()
    assert db.session.get(Parcel, parcel["id"], populate_existing=True).status == "stored"


def test_the_simulated_controller_refuses_a_forged_or_replayed_open(make_bank):
    bank = make_bank()
    url = bank.sim.controller_url(bank.device_code) + "/open"
    path = "/controllers/" + bank.device_code + "/open"
    body = json.dumps({"compartment": "A01", "txn_id": "deposit-1-1-abcd"}).encode()
    forged = signing.sign(bank.device_code, "wrong", "POST", path, body)
    assert requests.post(url, data=body, headers=forged, timeout=5).status_code == 401
    genuine = signing.sign(bank.device_code, bank.secret, "POST", path, body)
    assert requests.post(url, data=body, headers=genuine, timeout=5).status_code == 200
    assert requests.post(url, data=body, headers=genuine, timeout=5).status_code == 401
    assert [o["txn_id"] for o in bank.state()["opened"]] == ["deposit-1-1-abcd"]
