"""Lockers, a peak day compressed: 10,000 deposits and pickups via the locker simulator; latencies per pickup.

``seed`` makes 2,000 students (users bound to roster students, the recipients), 10 couriers and 10 banks
of 40 compartments (10 S, 20 M, 10 L) whose controllers are the locker simulator — started by the scenario
as its own process (``python -m app.devices.simulator``, heartbeats every second, doors closing by
themselves), reaching this run's gunicorn. ``run(ctx)`` delivers the day at a steady ``RATE`` parcels per
second (open loop, as couriers and students arrive whatever the answers): the 10 couriers' deposits
(``POST /lockers/parcels``: a compartment held, its door opened through the simulator, the parcel stored
when the simulator reports the door closed), never more parcels waiting than there are compartments, so
banks run nearly full; each stored parcel's recipient comes for it at once — ``POST
/lockers/parcels/<id>/open`` from the mini-program, or, for a parcel the full bank sent to the counter,
staff's ``POST /lockers/counter/hand-over`` — and the closing door frees the compartment. ``RATE`` = 20/s
is a hundred times a peak day's busiest minutes (170 pickups in five minutes at 21:00 ≈ 0.6/s; 25,000
parcels in a day ≈ 0.3/s). Each latency counts from the moment the request was due (a deposit's slot in
the schedule, a pickup from the moment its parcel was stored), so a queue that builds up is measured.
Latencies (p50/p95/p99) are the pickups'; the deposits' p99 is printed. Errors are printed by kind.

``verify`` checks that no compartment was ever held by two parcels (each compartment's audit trail:
never reserved again before it was emptied or released), that every compartment's state agrees with its
parcels at the end (free with no holder, or held by exactly the one parcel inside), and that every parcel
was collected. ``--smoke``: 60 parcels, 2 banks of 12.
"""

from __future__ import annotations

import queue
import random
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.auth import service as auth_service
from app.config import ROOT_DIR
from app.core.audit import AuditEvent
from app.core.db import db
from app.devices.models import Device
from app.devices.simulator_control import LockerSimulatorControl
from app.devrun import free_port, wait_http
from app.embedded import spawn, stop_process
from app.lockers import service as lockers
from app.lockers.models import LockerBank, LockerCompartment, Parcel
from app.places.models import Place
from app.users.models import StaffMember, User
from bench.scenarios._roster import seed_students

FULL = {"parcels": 10000, "students": 2000, "banks": 10, "sizes": "S" * 10 + "M" * 20 + "L" * 10}
SMOKE = {"parcels": 60, "students": 40, "banks": 2, "sizes": "SSSMMMMMMLLL"}
COURIERS = 10
RATE = 20.0  # parcels deposited per second, each collected as soon as it is stored
SENDERS = 64  # client threads per side: enough that the client never holds a request back
PREFIX = "bench-parcels"
TIMEOUT = 120.0  # seconds without progress before the run gives up waiting
ADMIN_OPENID = "demo-openid-admin"  # station staff, for the counter's hand-over
_simulator: dict = {}


def _size(ctx) -> dict:
    return FULL if ctx.duration > 6 else SMOKE


def _start_simulator() -> LockerSimulatorControl:
    """The locker simulator as its own process (its delivery threads must not share the runner's GIL; its
    log in ``bench/out/parcels-locker-simulator.log``), stopped at the end of ``verify`` — or by its
    parent-death signal if the runner dies first."""
    if "control" not in _simulator:
        port = free_port()
        log = ROOT_DIR / "bench" / "out" / "parcels-locker-simulator.log"
        log.unlink(missing_ok=True)
        proc = spawn([sys.executable, "-m", "app.devices.simulator", "--port", str(port), "--heartbeat-seconds", "1"],
                     log_file=log, cwd=str(ROOT_DIR))
        _simulator.update(proc=proc, control=LockerSimulatorControl(f"http://127.0.0.1:{port}"))
        wait_http(f"http://127.0.0.1:{port}/__sim__/health", 30, [("locker simulator", proc)])
    return _simulator["control"]


def _stop_simulator() -> None:
    stop_process(_simulator.pop("proc", None))
    _simulator.pop("control", None)


def seed(ctx) -> None:
    size = _size(ctx)
    numbers = [f"P{i:05d}" for i in range(size["students"])]
    seed_students(PREFIX, numbers, "收件学生")
    couriers = [f"PK{i:03d}" for i in range(COURIERS)]
    db.session.execute(insert(StaffMember).values([{"number": n, "name": f"快递员{i}", "roles": ["courier"]}
                                                   for i, n in enumerate(couriers)])
                       .on_conflict_do_nothing(index_elements=["number"]))
    staff = dict(db.session.execute(select(StaffMember.number, StaffMember.id)
                                    .where(StaffMember.number.in_(couriers))).all())
    db.session.execute(insert(User).values([{"openid": f"{PREFIX}-{n}", "staff_id": staff[n]} for n in couriers])
                       .on_conflict_do_nothing(index_elements=["openid"]))
    sim = _start_simulator()
    place_id = db.session.scalar(select(Place.id).order_by(Place.id).limit(1))
    labels = [f"A{i + 1:02d}" for i in range(len(size["sizes"]))]
    for b in range(size["banks"]):
        code = f"PEAK{b + 1:02d}"
        device_code, secret = f"locker-{code.lower()}", f"bench-secret-{code}-0123456789abcdef"
        lockers.create_bank(actor=None, code=code, name=f"高峰快递柜{b + 1}", place_id=place_id,
                            device_code=device_code, secret=secret, base_url=sim.controller_url(device_code),
                            compartments=list(zip(labels, size["sizes"], strict=True)))
        sim.add_controller(device_code, secret=secret, server_url=ctx.base_url, compartments=labels)


def _wait(condition, what: str) -> bool:
    deadline = time.perf_counter() + TIMEOUT
    while time.perf_counter() < deadline:
        db.session.rollback()  # see gunicorn's commits
        if condition():
            return True
        time.sleep(0.2)
    print(f"parcels: gave up waiting for {what}", flush=True)
    return False


def _tokens(openids) -> dict[str, tuple[int, str]]:
    rows = db.session.execute(select(User.openid, User.id).where(User.openid.in_(list(openids)))).all()
    return {openid: (uid, auth_service.issue_tokens_for(uid, user_agent="bench").access_token) for openid, uid in rows}


def run(ctx) -> dict:
    size = _size(ctx)
    banks = list(db.session.scalars(select(LockerBank.id).where(LockerBank.code.like("PEAK%")).order_by(LockerBank.id)))
    devices = [f"locker-peak{b + 1:02d}" for b in range(size["banks"])]
    _wait(lambda: db.session.scalar(select(func.count()).select_from(Device).where(
        Device.code.in_(devices), Device.last_heartbeat_at.is_not(None))) == len(devices), "every bank's heartbeat")
    students = [f"P{i:05d}" for i in range(size["students"])]
    couriers = _tokens(f"{PREFIX}-PK{i:03d}" for i in range(COURIERS))
    recipients = _tokens(f"{PREFIX}-{n}" for n in students)
    by_user = {uid: token for uid, token in recipients.values()}
    admin = _tokens([ADMIN_OPENID])[ADMIN_OPENID][1]
    db.session.commit()
    rng = random.Random(14)
    courier_tokens = [t for _, t in couriers.values()]
    plan = [(i, rng.choice(banks), rng.choice(students), rng.choices("SML", weights=(3, 5, 2))[0])
            for i in range(size["parcels"])]
    room = threading.BoundedSemaphore(len(banks) * len(size["sizes"]))  # parcels waiting ≤ compartments
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=2 * SENDERS + 4))
    errors: Counter[str] = Counter()
    pickups: list[float] = []
    deposits: list[float] = []
    lock = threading.Lock()
    picked = queue.Queue()
    deposited, stop = threading.Event(), threading.Event()

    def post(url: str, token: str, body: dict | None = None, due: float | None = None) -> tuple[float, int, str]:
        """One request, its latency counted from ``due`` (when it should have been sent) when given."""
        started = time.perf_counter() if due is None else due
        try:
            resp = session.post(f"{ctx.base_url}{url}", json=body or {}, headers={"Authorization": f"Bearer {token}"},
                                timeout=60)
        except requests.RequestException as exc:
            return (time.perf_counter() - started) * 1000, 0, type(exc).__name__
        code = "" if resp.status_code < 300 else f"{resp.status_code} {resp.json().get('error_code', '')}"
        return (time.perf_counter() - started) * 1000, resp.status_code, code

    def deposit(item) -> None:
        i, bank_id, number, parcel_size = item
        due = started + i / RATE
        if due > time.perf_counter():
            time.sleep(due - time.perf_counter())
        if not room.acquire(timeout=TIMEOUT):  # parcels stuck somewhere never free their room
            with lock:
                errors["deposit: no parcel collected for too long"] += 1
            return
        ms, status, code = post("/api/v1/lockers/parcels", courier_tokens[i % len(courier_tokens)],
                                {"bank_id": bank_id, "tracking_no": f"PEAK{i:07d}", "size": parcel_size,
                                 "number": number}, due=due)
        with lock:
            deposits.append(ms)
            if status != 201:
                errors[f"deposit {code}"] += 1
        if status != 201:
            room.release()

    def collect() -> None:
        while True:
            item = picked.get()
            if item is None:
                return
            (parcel_id, storage, pickup_code, recipient), seen = item
            if storage == "locker":
                ms, status, code = post(f"/api/v1/lockers/parcels/{parcel_id}/open", by_user[recipient], due=seen)
            else:
                ms, status, code = post("/api/v1/lockers/counter/hand-over", admin, {"code": pickup_code}, due=seen)
            with lock:
                pickups.append(ms)
                if status != 200:
                    errors[f"pickup {code}"] += 1
            room.release()

    def watch() -> None:
        """Hands each parcel to the collectors once it is stored (the recipient's message has arrived)."""
        seen: set[int] = set()
        with ctx.app().app_context():
            while not stop.is_set():
                db.session.rollback()
                rows = db.session.execute(select(Parcel.id, Parcel.storage, Parcel.pickup_code, Parcel.recipient_id)
                                          .where(Parcel.status == "stored")).all()
                now = time.perf_counter()
                for row in rows:
                    if row.id not in seen:
                        seen.add(row.id)
                        picked.put((tuple(row), now))
                if deposited.is_set() and len(seen) >= db.session.scalar(
                        select(func.count()).select_from(Parcel).where(Parcel.tracking_no.like("PEAK%"))):
                    break
                time.sleep(0.05)
            db.session.remove()

    threads = SENDERS
    started = time.perf_counter() + 0.5
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    collectors = [threading.Thread(target=collect, daemon=True) for _ in range(threads)]
    for t in collectors:
        t.start()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(deposit, plan))
    deposited.set()
    watcher.join(TIMEOUT)
    if watcher.is_alive():
        stop.set()
        errors["parcels never stored"] += 1
        watcher.join(5)
    for _ in collectors:
        picked.put(None)
    for t in collectors:
        t.join(TIMEOUT)
    _wait(lambda: db.session.scalar(select(func.count()).select_from(LockerCompartment)
                                    .where(LockerCompartment.status != "free")) == 0, "every compartment freed")
    elapsed = time.perf_counter() - started
    for kind, n in sorted(errors.items()):
        print(f"parcels: error {kind}: {n}", flush=True)
    counter = db.session.scalar(select(func.count()).select_from(Parcel).where(Parcel.storage == "counter"))
    q = statistics.quantiles(sorted(pickups) or [0.0, 0.0], n=100, method="inclusive")
    d = statistics.quantiles(sorted(deposits) or [0.0, 0.0], n=100, method="inclusive")
    print(f"parcels: {len(deposits)} deposits at {RATE:g}/s (p99 {d[98]:.0f} ms), {len(pickups)} pickups "
          f"(p99 {q[98]:.0f} ms), {counter} to the counter, {sum(errors.values())} errors, {elapsed:.1f} s", flush=True)
    return {"rps": (len(deposits) + len(pickups)) / elapsed, "requests": len(deposits) + len(pickups),
            "failures": sum(errors.values()), "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1),
            "p99_ms": round(q[98], 1)}


def double_allocations() -> list[str]:
    """Each compartment's audit trail in order: a ``reserve`` while a parcel still holds it is a double
    allocation; a ``fill`` or ``empty`` must be the holder's."""
    problems = []
    rows = db.session.execute(select(AuditEvent.entity_id, AuditEvent.action, AuditEvent.data).where(
        AuditEvent.entity_type == "locker_compartment",
        AuditEvent.action.in_(["reserve", "fill", "empty", "release", "fail", "restore"]))
        .order_by(AuditEvent.entity_id, AuditEvent.id)).all()
    held: dict[int, int | None] = {}
    for compartment, action, data in rows:
        parcel = (data or {}).get("parcel")
        holder = held.get(compartment)
        if action == "reserve":
            if holder is not None:
                problems.append(f"compartment {compartment} reserved for parcel {parcel} while parcel {holder} held it")
            held[compartment] = parcel
        elif action in ("fill", "empty") and parcel is not None and parcel != holder:
            problems.append(f"compartment {compartment}: {action} of parcel {parcel}, held by {holder}")
        if action in ("empty", "release", "fail", "restore"):
            held[compartment] = None
    return problems


def states_agree() -> list[str]:
    """Every compartment's state agrees with its parcels: held (``holder_key``) by exactly the one open
    parcel pointing at it, in the matching state; free with no holder and no parcel."""
    problems = []
    open_parcels = db.session.execute(select(Parcel.id, Parcel.status, Parcel.compartment_id).where(
        Parcel.status.in_(["depositing", "stored", "to_return"]), Parcel.storage == "locker")).all()
    inside: dict[int, list] = {}
    for p in open_parcels:
        inside.setdefault(p.compartment_id, []).append(p)
    wanted = {"depositing": "reserved", "stored": "occupied", "to_return": "occupied"}
    for unit in db.session.scalars(select(LockerCompartment)):
        parcels = inside.get(unit.id, [])
        if len(parcels) > 1:
            problems.append(f"compartment {unit.id} holds parcels {[p.id for p in parcels]}")
        elif parcels:
            p = parcels[0]
            if unit.holder_key != f"parcel:{p.id}" or unit.status != wanted[p.status]:
                problems.append(f"compartment {unit.id} is {unit.status} held by {unit.holder_key}, "
                                f"parcel {p.id} is {p.status}")
        elif unit.status in ("reserved", "occupied") or unit.holder_key is not None:
            problems.append(f"compartment {unit.id} is {unit.status} held by {unit.holder_key} with no parcel in it")
    return problems


def verify(ctx) -> list[str]:
    try:
        db.session.rollback()
        size = _size(ctx)
        problems = double_allocations() + states_agree()
        collected = db.session.scalar(select(func.count()).select_from(Parcel).where(Parcel.status == "picked_up"))
        print(f"parcels: double-allocation check: {len(problems)} problems; {collected} of {size['parcels']} "
              f"parcels collected", flush=True)
        if collected != size["parcels"]:
            problems.append(f"{collected} parcels collected, expected {size['parcels']}")
        return problems[:20] + ([f"… and {len(problems) - 20} more"] if len(problems) > 20 else [])
    finally:
        _stop_simulator()
