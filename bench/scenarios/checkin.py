"""POST /api/v1/meetings/check-ins: a 1,500-invitee meeting, everyone checks in within the run.

The morning staff meeting: 1,500 teachers (seeded straight into the database, each with a login
session and an access token) are invited by department; the check-in window is open. Locust users
take the next teacher who has not scanned yet and scan with a valid rotating token computed the way
the organiser's phone does (``app.meetings.tokens.make_token`` with the app's ``SECRET_KEY``, the
current 15-second slot), a fresh nonce, and the phone's device info. Once all 1,500 are in, users
keep scanning as people do ("did it work?"), which answers ``already_checked_in`` and still writes a
scan row. Every request is measured; ``verify`` then requires exactly 1,500 check-ins, 1,500 ``ok``
scan rows, and no refusal other than ``already_checked_in``.

Runs shorter than 10 seconds (the test suite's ``--smoke``: 2 users, 3 s) seed 40 invitees instead,
since 1,500 check-ins cannot fit in 3 seconds on a loaded machine.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.auth import service as auth_service
from app.config import ROOT_DIR
from app.core import clock
from app.core.db import db
from app.meetings import service as meetings_service
from app.meetings.models import Invitation, Meeting, Scan
from app.users import seed as users_seed
from app.users import service as users_service
from app.users.models import Department, StaffMember, User

MEASURE = ["POST /api/v1/meetings/check-ins"]
LOCUSTFILE = "_checkin_locust.py"  # kept light: locust counts its import time into the run
INVITEES = 1500
SMOKE_INVITEES = 40
DEPARTMENT = "基准测试组"
DATA = ROOT_DIR / "bench" / "out" / "checkin-users.json"
DEVICE = {"brand": "Apple", "model": "iPhone 15", "system": "iOS 17.4", "platform": "ios", "version": "8.0.47"}


def _invitees(ctx) -> int:
    return INVITEES if ctx.duration >= 10 else SMOKE_INVITEES


def seed(ctx) -> None:
    n = _invitees(ctx)
    dept = db.session.execute(insert(Department).values(name=DEPARTMENT, code="BENCH")
                              .on_conflict_do_update(index_elements=["name"], set_={"code": "BENCH"})
                              .returning(Department.id)).scalar_one()
    numbers = [f"B{i:05d}" for i in range(n)]
    db.session.execute(insert(StaffMember).values(
        [{"number": num, "name": f"测试教师{i}", "department_id": dept, "roles": ["teacher"]}
         for i, num in enumerate(numbers)]).on_conflict_do_nothing(index_elements=["number"]))
    staff = dict(db.session.execute(select(StaffMember.number, StaffMember.id)
                                    .where(StaffMember.number.in_(numbers))).all())
    db.session.execute(insert(User).values(
        [{"openid": f"bench-openid-{num}", "staff_id": staff[num]} for num in numbers])
        .on_conflict_do_nothing(index_elements=["openid"]))
    user_ids = list(db.session.scalars(select(User.id).where(User.staff_id.in_(staff.values())).order_by(User.id)))
    access = [auth_service.issue_tokens_for(uid, user_agent="bench").access_token for uid in user_ids]
    admin = users_service.load_actor(users_seed.demo_user_ids()["admin"])
    start = clock.now() + timedelta(minutes=10)  # the window opened 20 minutes ago: on time, not late
    meeting = meetings_service.create_meeting(actor=admin, data={
        "title": "全体教职工晨会（基准测试）", "location": "体育馆", "starts_at": start,
        "ends_at": start + timedelta(hours=1), "audience": {"department_ids": [dept]}})
    DATA.parent.mkdir(parents=True, exist_ok=True)
    DATA.write_text(json.dumps({"meeting_id": meeting.id, "tokens": access}), encoding="utf-8")


def verify(ctx) -> list[str]:
    n = _invitees(ctx)
    meeting_id = json.loads(DATA.read_text(encoding="utf-8"))["meeting_id"]
    problems = []
    checked_in = db.session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.meeting_id == meeting_id, Invitation.checked_in_at.is_not(None)))
    ok = db.session.scalar(select(func.count()).select_from(Scan).where(Scan.meeting_id == meeting_id,
                                                                        Scan.result == "ok"))
    if n == INVITEES and checked_in != n:  # a full run checks everyone in
        problems.append(f"expected {n} check-ins, found {checked_in}")
    if not checked_in:  # a smoke run on a loaded machine may not get through all 40: some, then
        problems.append("nobody checked in")
    if ok != checked_in:
        problems.append(f"expected one ok scan per check-in ({checked_in}), found {ok}")
    refusals = dict(db.session.execute(select(Scan.reason, func.count()).where(
        Scan.meeting_id == meeting_id, Scan.result == "error").group_by(Scan.reason)).all())
    refusals.pop("already_checked_in", None)
    if refusals:
        problems.append(f"unexpected refusals: {refusals}")
    if db.session.get(Meeting, meeting_id) is None:
        problems.append("the meeting is gone")
    return problems
