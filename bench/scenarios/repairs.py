"""Report + upload: a repair report with one 1 MB photo, while workers accept, start and complete tasks.

What a reporter does on the phone: upload the photo (``POST /api/v1/repairs/photos``: checked with
Pillow, re-encoded to JPEG, EXIF stripped, stored; the thumbnail is a job), then submit the report
referencing it (``POST /api/v1/repairs``: duplicate guard, deadlines and their timers, dispatch to the
least-loaded on-duty worker, the worker's notification). The two requests are timed together as one
``FLOW report+upload`` entry — what the reporter waits for — and that is what RESULT quotes. Workers
(a fifth of the users) poll their task list and move tasks through accept -> start -> complete, so
reads, compare-and-set transitions and notifications to reporters run beside the reports; two RQ
workers make thumbnails and deliver notifications.

Reporters open the report page at a random moment in the first seconds, then report every 10-20 s
(filling in the form); workers act every 2-4 s. This is a latency scenario (p95 of ``FLOW
report+upload`` under 300 ms), not a throughput ceiling: re-encoding a 1 MB photo costs tens of ms of
CPU, so back-to-back uploads on the two shared cores of the bench machine would only measure a queue.
40 reporters still offer about 3 reports a second, ~10,000 an hour — a school sees a hundred a day.
The ``rps`` and ``ratio`` of the RESULT line therefore describe the offered load, not a capacity.

``verify`` checks that every report of the run was dispatched (assigned to a worker) and that every
photo got its thumbnail.
"""

from __future__ import annotations

import io
import itertools
import json
import random
import time
import uuid
from pathlib import Path

import gevent
from locust import FastHttpUser, between, task
from PIL import Image
from sqlalchemy import func, select

from app.auth import service as auth_service
from app.core.db import db
from app.core.sheets import write_workbook
from app.places import service as places_service
from app.repairs import service as repairs_service
from app.repairs.models import Repair, RepairPhoto
from app.users import seed as users_seed
from app.users import service as users_service

MEASURE = ["FLOW report+upload"]
WORKERS = 2

OUT = Path(__file__).resolve().parent.parent / "out"
USERS_FILE = OUT / "repairs-users.json"
PHOTO_FILE = OUT / "repairs-photo.jpg"
REPORTERS, BENCH_WORKERS = 60, 16
BUILDING, FLOORS, ROOMS = "BENCH-B", 10, 30
GROUP = "压测维修组"
THUMBNAIL_WAIT = 90  # seconds verify waits for the workers to finish the thumbnails


# --- seed (runs in the runner, in an app context and one transaction) ----------------------------------------


def _photo() -> bytes:
    """About 1 MB of JPEG: random pixels do not compress away, like a real phone photo."""
    rng = random.Random(20261121)
    image = Image.frombytes("RGB", (1296, 972), rng.randbytes(1296 * 972 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def _places(admin) -> list[int]:
    rows = [["BENCH", "压测校区", "校区", ""], [BUILDING, "压测楼", "楼栋", "BENCH"]]
    for floor in range(1, FLOORS + 1):
        rows.append([f"{BUILDING}-{floor}F", f"{floor}F", "楼层", BUILDING])
        rows += [[f"{BUILDING}-{floor}{room:02d}", f"{floor}{room:02d}", "房间", f"{BUILDING}-{floor}F"]
                 for room in range(1, ROOMS + 1)]
    sheet = write_workbook([("places", ["编码", "名称", "类型", "上级编码"], rows)])
    places_service.import_places(actor=admin, data=sheet)
    return [places_service.get_by_code(r[0]).id for r in rows if r[2] == "房间"]


def _people(admin, prefix: str, count: int, role: str) -> list[int]:
    staff = [[f"{prefix}{i:03d}", f"压测{role}{i}", "", "", role] for i in range(1, count + 1)]
    users_service.import_staff(actor=admin, data=write_workbook([("staff", ["工号", "姓名", "部门", "手机号", "角色"],
                                                                  staff)]))
    ids = []
    for number, name, *_ in staff:
        user = users_service.get_or_create_wechat_user(openid=f"bench-{number}", unionid=None)
        db.session.flush()
        users_service.bind(actor=users_service.load_actor(user.id), kind="staff", number=number, name=name)
        ids.append(user.id)
    return ids


def seed(ctx) -> None:
    admin = users_service.load_actor(users_seed.demo_user_ids()["admin"])
    rooms = _places(admin)
    reporters = _people(admin, "BT", REPORTERS, "teacher")
    workers = _people(admin, "BW", BENCH_WORKERS, "worker")
    groups = {g.name: g.id for g in repairs_service.list_groups(actor=admin)}
    group_id = groups.get(GROUP) or repairs_service.create_group(actor=admin, name=GROUP).id
    for worker in workers:
        repairs_service.set_member(actor=admin, group_id=group_id, user_id=worker, on_duty=True)
    building = places_service.get_by_code(BUILDING).id
    repairs_service.put_rule(actor=admin, category_id=None, building_id=building, group_id=group_id)
    categories = [c.id for c in repairs_service.list_categories()]
    OUT.mkdir(parents=True, exist_ok=True)
    PHOTO_FILE.write_bytes(_photo())
    USERS_FILE.write_text(json.dumps({
        "reporters": [auth_service.issue_tokens_for(uid).access_token for uid in reporters],
        "workers": [auth_service.issue_tokens_for(uid).access_token for uid in workers],
        "rooms": rooms, "categories": categories,
        "stagger": min(10.0, ctx.duration / 4),  # the smoke run lasts 3 s: everyone still reports once
    }))


def verify(ctx) -> list[str]:
    problems = []
    total = db.session.scalar(select(func.count()).select_from(Repair))  # the run's database is its own
    undispatched = db.session.scalar(select(func.count()).select_from(Repair).where(Repair.assigned_at.is_(None)))
    if not total:
        problems.append("no report was made")
    if undispatched:
        problems.append(f"{undispatched} of {total} reports were never dispatched")
    deadline = time.monotonic() + THUMBNAIL_WAIT
    while True:
        missing = db.session.scalar(select(func.count()).select_from(RepairPhoto).where(
            RepairPhoto.thumb_key.is_(None)))
        db.session.rollback()
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1)
    if missing:
        problems.append(f"{missing} photos still have no thumbnail after {THUMBNAIL_WAIT} s")
    print(f"verify: {total} reports, all dispatched: {not undispatched}", flush=True)
    return problems


# --- load (runs in the locust process) ------------------------------------------------------------------------

_data: dict | None = None
_photo_bytes: bytes | None = None
_reporter_ids = itertools.count()
_worker_ids = itertools.count()


def _load() -> dict:
    global _data, _photo_bytes
    if _data is None:
        _data = json.loads(USERS_FILE.read_text())
        _photo_bytes = PHOTO_FILE.read_bytes()
    return _data


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = "zhhq" + uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Reporter(FastHttpUser):
    weight = 4
    wait_time = between(10, 20)

    def on_start(self) -> None:
        data = _load()
        self.token = data["reporters"][next(_reporter_ids) % len(data["reporters"])]
        self.auth = {"Authorization": f"Bearer {self.token}"}
        gevent.sleep(random.uniform(0, data["stagger"]))  # people do not all open the page in the same second
        # Opening the report page: the category grid and "my reports", as the mini-program loads them.
        self.client.get("/api/v1/repairs/categories", headers=self.auth, name="GET /api/v1/repairs/categories")
        self.client.get("/api/v1/repairs/mine?page_size=5", headers=self.auth, name="GET /api/v1/repairs/mine")

    @task
    def report(self) -> None:
        data = _load()
        body, content_type = _multipart(_photo_bytes)
        started = time.perf_counter()
        error = None
        with self.client.post("/api/v1/repairs/photos", data=body, name="POST /api/v1/repairs/photos",
                              headers={**self.auth, "Content-Type": content_type}, catch_response=True) as resp:
            if resp.status_code != 201:
                error = Exception(f"upload answered {resp.status_code}: {resp.text[:200]}")
                resp.failure(error)
            photo_id = resp.json()["id"] if resp.status_code == 201 else None
        if photo_id is not None:
            report = {"category_id": random.choice(data["categories"]), "place_id": random.choice(data["rooms"]),
                      "description": "压测：灯不亮了", "contact_phone": "13800000000", "photo_ids": [photo_id]}
            with self.client.post("/api/v1/repairs", json=report, headers=self.auth, name="POST /api/v1/repairs",
                                  catch_response=True) as resp:
                if resp.status_code not in (200, 201):  # 200: linked to an open report of the same room
                    error = Exception(f"report answered {resp.status_code}: {resp.text[:200]}")
                    resp.failure(error)
        self.environment.events.request.fire(
            request_type="FLOW", name="report+upload", response_time=(time.perf_counter() - started) * 1000,
            response_length=0, exception=error, context={})


class Worker(FastHttpUser):
    weight = 1
    wait_time = between(2, 4)

    def on_start(self) -> None:
        data = _load()
        self.auth = {"Authorization": f"Bearer {data['workers'][next(_worker_ids) % len(data['workers'])]}"}

    def _act(self, repair_id: int, action: str, body: dict | None = None) -> None:
        with self.client.post(f"/api/v1/repairs/{repair_id}/{action}", json=body, headers=self.auth,
                              name=f"POST /api/v1/repairs/[id]/{action}", catch_response=True) as resp:
            if resp.status_code == 409:
                resp.success()  # another locust user driving the same worker got there first
            elif resp.status_code != 200:
                resp.failure(f"{action} answered {resp.status_code}: {resp.text[:200]}")

    @task
    def work(self) -> None:
        new = self.client.get("/api/v1/repairs/tasks?tab=new&page_size=5", headers=self.auth,
                              name="GET /api/v1/repairs/tasks").json()
        if new:
            self._act(new[0]["id"], "accept")
            return
        active = self.client.get("/api/v1/repairs/tasks?tab=active&page_size=5", headers=self.auth,
                                 name="GET /api/v1/repairs/tasks").json()
        for item in active[:1]:
            if item["status"] == "accepted":
                self._act(item["id"], "start")
            elif item["status"] == "in_progress":
                self._act(item["id"], "complete", {"labour_minutes": 20})
