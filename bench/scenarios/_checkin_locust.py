"""The locust user of ``bench/scenarios/checkin.py`` (its module docstring explains the scenario).

A file of its own with only light imports: locust counts the time to import a locustfile into the
run, and the scenario module imports the whole application for its seed and checks.
"""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from locust import FastHttpUser, constant, task

from app.config import ROOT_DIR, load_settings
from app.meetings import tokens

DATA = ROOT_DIR / "bench" / "out" / "checkin-users.json"
DEVICE = {"brand": "Apple", "model": "iPhone 15", "system": "iOS 17.4", "platform": "ios", "version": "8.0.47"}

_data = json.loads(DATA.read_text(encoding="utf-8")) if Path(DATA).exists() else {"meeting_id": 0, "tokens": []}
_secret = load_settings()["SECRET_KEY"]
_next = itertools.count()


class ScanningTeacher(FastHttpUser):
    wait_time = constant(0)

    @task
    def scan(self) -> None:
        people = _data["tokens"]
        access = people[next(_next) % len(people)]  # everyone once, in order; then second scans
        token = tokens.make_token(_secret, _data["meeting_id"], tokens.slot_of(datetime.now(UTC)))
        with self.client.post("/api/v1/meetings/check-ins", name="/api/v1/meetings/check-ins",
                              headers={"Authorization": f"Bearer {access}"},
                              json={"token": token, "nonce": uuid.uuid4().hex, "device": DEVICE},
                              catch_response=True) as resp:
            body = resp.json() if resp.status_code == 200 else {}
            if body.get("status") == "ok" or body.get("reason") == "already_checked_in":
                resp.success()
            else:
                resp.failure(f"{resp.status_code} {body.get('reason') or resp.text[:200]}")
