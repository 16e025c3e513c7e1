"""POST /api/v1/meetings/check-ins: every reason code, forged and foreign tokens, slots, nonces,
geofence, the late boundary, sign-out, static codes, two scans at the same moment, and the scan log."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import func, select

from app.core.db import db
from app.meetings import service, tokens
from app.meetings.models import Invitation, Scan
from tests.meetings.conftest import API, END, HALL, START, actor, check_in, make_meeting, nonce, token_for
from tests.support import race

URL = "/api/v1/meetings/check-ins"


def _scan(session, token=None, **extra):
    payload = {"nonce": extra.pop("nonce", None) or nonce(), **extra}
    if token is not None:
        payload["token"] = token
    resp = session.post(URL, json=payload)
    assert resp.status_code == 200, resp.json
    return resp.json


def _scans(**where):
    db.session.expire_all()
    return db.session.scalars(select(Scan).filter_by(**where).order_by(Scan.id)).all()


def _invitation(meeting_id, user_id):
    db.session.expire_all()
    return db.session.scalar(select(Invitation).where(Invitation.meeting_id == meeting_id,
                                                      Invitation.user_id == user_id))


def test_ok_on_time_then_already_checked_in(app, at, login, ids):
    meeting = make_meeting()
    at(START - timedelta(minutes=10))
    teacher = login("teacher")
    answer = _scan(teacher, token_for(app, meeting.id), device={"model": "iPhone 15", "system": "iOS 17.4",
                                                                  "platform": "ios", "ignored": "x"})
    assert answer["status"] == "ok" and answer["reason"] is None and answer["late"] is False
    assert answer["message"] == "签到成功" and answer["meeting"]["title"] == "语文教研组例会"
    inv = _invitation(meeting.id, ids["teacher"])
    assert inv.checked_in_at is not None and inv.check_in_via == "rotating" and inv.late is False

    again = _scan(teacher, token_for(app, meeting.id))
    assert (again["status"], again["reason"]) == ("error", "already_checked_in")
    assert "你已于" in again["message"]
    rows = _scans(user_id=ids["teacher"])
    assert [(r.result, r.reason) for r in rows] == [("ok", None), ("error", "already_checked_in")]
    assert rows[0].device["model"] == "iPhone 15" and "ignored" not in rows[0].device
    assert rows[0].device["user_agent"]  # the HTTP client's


def test_not_invited(app, at, login):
    meeting = make_meeting()
    at(START)
    answer = _scan(login("worker"), token_for(app, meeting.id))
    assert (answer["status"], answer["reason"]) == ("error", "not_invited")
    assert answer["message"].startswith("你不在本次会议的参会名单中")
    assert len(_scans(reason="not_invited")) == 1


def test_too_early_and_closed(app, at, login):
    meeting = make_meeting()
    at(START - timedelta(minutes=31))  # opens 30 min before
    answer = _scan(login("teacher"), token_for(app, meeting.id))
    assert answer["reason"] == "too_early" and "13:30 开始" in answer["message"]
    at(START - timedelta(minutes=30))  # exactly at opening: in
    assert _scan(login("admin"), token_for(app, meeting.id))["status"] == "ok"
    at(END + timedelta(seconds=1))  # closes at the end
    answer = _scan(login("teacher"), token_for(app, meeting.id))
    assert (answer["reason"], answer["message"]) == ("closed", "签到已结束")


def test_cancelled(app, at, login):
    meeting = make_meeting()
    service.cancel_meeting(actor=actor("teacher"), meeting_id=meeting.id)
    db.session.commit()
    at(START)
    assert _scan(login("teacher"), token_for(app, meeting.id))["reason"] == "cancelled"


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature altered
    lambda t: "9" + t,  # another meeting id, same signature
    lambda t: t.replace(".i.", ".o."),  # check-in code turned into a sign-out code
    lambda t: "not-a-token",
    lambda t: "",
])
def test_forged_tokens_are_invalid(app, at, login, mangle):
    meeting = make_meeting()
    at(START)
    answer = _scan(login("teacher"), mangle(token_for(app, meeting.id)) or "x")
    assert (answer["status"], answer["reason"]) == ("error", "invalid_token")
    assert answer["meeting"] is None
    assert _invitation(meeting.id, actor("teacher").user_id).checked_in_at is None


def test_a_token_signed_with_another_key_is_invalid(at, login):
    meeting = make_meeting()
    at(START)
    forged = tokens.make_token("someone-elses-secret", meeting.id, tokens.slot_of(START))
    assert _scan(login("teacher"), forged)["reason"] == "invalid_token"


def test_token_of_another_meeting_checks_you_in_there_or_says_not_invited(app, at, login, ids):
    mine = make_meeting()
    theirs = make_meeting("admin", title="后勤处例会", audience={"department_ids": [], "user_ids": [ids["worker"]]})
    at(START)
    answer = _scan(login("teacher"), token_for(app, theirs.id))
    assert (answer["reason"], answer["meeting"]["id"]) == ("not_invited", theirs.id)
    assert _invitation(mine.id, ids["teacher"]).checked_in_at is None


def test_current_and_previous_slot_accepted_older_expired_future_invalid(app, at, login):
    meeting = make_meeting()
    at(START)
    teacher, admin = login("teacher"), login("admin")
    worker_token_old = token_for(app, meeting.id, START - timedelta(seconds=2 * tokens.SLOT_SECONDS))
    answer = _scan(teacher, worker_token_old)
    assert (answer["reason"], answer["message"]) == ("expired_token", "签到码已过期，请扫描屏幕上最新的二维码")
    future = token_for(app, meeting.id, START + timedelta(seconds=tokens.SLOT_SECONDS))
    assert _scan(teacher, future)["reason"] == "invalid_token"
    previous = token_for(app, meeting.id, START - timedelta(seconds=tokens.SLOT_SECONDS))
    assert _scan(teacher, previous)["status"] == "ok"
    assert _scan(admin, token_for(app, meeting.id))["status"] == "ok"


def test_a_screenshot_dies_within_two_slots(app, at, login):
    meeting = make_meeting()
    at(START)
    shot = token_for(app, meeting.id)
    at(START + timedelta(seconds=2 * tokens.SLOT_SECONDS))
    assert _scan(login("teacher"), shot)["reason"] == "expired_token"


def test_late_boundary_with_a_moved_clock(app, at, login, ids):
    meeting = make_meeting()
    late_at = START + timedelta(minutes=5)
    at(late_at)  # exactly start + 5 min: still on time
    answer = _scan(login("teacher"), token_for(app, meeting.id))
    assert (answer["status"], answer["late"], answer["message"]) == ("ok", False, "签到成功")
    at(late_at + timedelta(seconds=1))
    answer = _scan(login("admin"), token_for(app, meeting.id))
    assert (answer["status"], answer["late"], answer["message"]) == ("ok", True, "签到成功（迟到）")
    assert _invitation(meeting.id, ids["admin"]).late is True
    assert _invitation(meeting.id, ids["teacher"]).late is False


def test_replayed_nonce_returns_the_first_answer_and_writes_nothing(app, at, login, ids):
    meeting = make_meeting()
    at(START + timedelta(minutes=6))
    teacher = login("teacher")
    n = nonce()
    first = _scan(teacher, token_for(app, meeting.id), nonce=n)
    assert (first["status"], first["late"], first["replayed"]) == ("ok", True, False)
    at(START + timedelta(minutes=20))  # much later, with an expired token even
    second = _scan(teacher, token_for(app, meeting.id, START), nonce=n)
    assert second["replayed"] is True
    for key in ("status", "reason", "late", "message", "checked_in_at", "scanned_at", "meeting"):
        assert second[key] == first[key], key
    assert len(_scans(user_id=ids["teacher"])) == 1


def test_replayed_nonce_of_a_refusal_is_the_same_refusal(app, at, login):
    meeting = make_meeting()
    at(START - timedelta(hours=2))
    worker = login("worker")
    n = nonce()
    first = _scan(worker, token_for(app, meeting.id), nonce=n)
    second = _scan(worker, "garbage", nonce=n)
    assert first["reason"] == second["reason"] == "not_invited" and second["replayed"] is True
    assert len(_scans()) == 1


def test_the_same_nonce_of_two_people_is_two_scans(app, at, login):
    meeting = make_meeting()
    at(START)
    n = nonce()
    assert _scan(login("teacher"), token_for(app, meeting.id), nonce=n)["status"] == "ok"
    assert _scan(login("admin"), token_for(app, meeting.id), nonce=n)["status"] == "ok"


def test_geofence_in_and_out(app, at, login, ids):
    meeting = make_meeting(geofence={**HALL, "radius_m": 100})
    at(START)
    teacher = login("teacher")
    answer = _scan(teacher, token_for(app, meeting.id))
    assert answer["reason"] == "out_of_range" and "位置" in answer["message"]  # no location sent
    far = {"latitude": HALL["latitude"] + 0.0018, "longitude": HALL["longitude"]}  # ~200 m north
    answer = _scan(teacher, token_for(app, meeting.id), location=far)
    assert (answer["reason"], answer["message"]) == ("out_of_range", "你不在会场范围内，请到会场后再签到")
    assert 190 < _scans(reason="out_of_range")[-1].distance_m < 210
    near = {"latitude": HALL["latitude"] + 0.0005, "longitude": HALL["longitude"], "accuracy": 15}  # ~55 m
    assert _scan(teacher, token_for(app, meeting.id), location=near)["status"] == "ok"
    ok = _scans(result="ok")[0]
    assert 50 < ok.distance_m < 60 and ok.accuracy_m == 15


def test_static_door_code_needs_the_geofence_and_checks_it(app, at, login):
    fenced = make_meeting(geofence={**HALL, "radius_m": 100}, allow_static_code=True)
    plain = make_meeting(title="无围栏的会")
    at(START)
    teacher = login("teacher")
    assert _scan(teacher, code=plain.code)["reason"] == "invalid_token"
    assert _scan(teacher, code=fenced.code)["reason"] == "out_of_range"
    answer = _scan(teacher, code=fenced.code.lower(), location=HALL)
    assert answer["status"] == "ok" and answer["meeting"]["id"] == fenced.id
    assert _invitation(fenced.id, actor("teacher").user_id).check_in_via == "static"
    assert _scan(teacher, code="NOSUCHCD")["reason"] == "invalid_token"


def test_sign_out_after_check_in(app, at, login, ids):
    meeting = make_meeting(sign_out_enabled=True)
    at(START)
    teacher, admin = login("teacher"), login("admin")
    out_token = token_for(app, meeting.id, purpose="sign_out")
    assert _scan(teacher, out_token)["reason"] == "not_checked_in"
    assert _scan(teacher, token_for(app, meeting.id))["status"] == "ok"
    answer = _scan(teacher, token_for(app, meeting.id, purpose="sign_out"))
    assert (answer["status"], answer["action"], answer["message"]) == ("ok", "sign_out", "签退成功")
    assert _scan(teacher, token_for(app, meeting.id, purpose="sign_out"))["reason"] == "already_signed_out"
    assert _invitation(meeting.id, ids["teacher"]).signed_out_at is not None
    assert _scan(admin, token_for(app, meeting.id))["status"] == "ok"
    at(END + timedelta(minutes=61))  # sign-out closes an hour after the end
    admin = login("admin")
    assert _scan(admin, token_for(app, meeting.id, purpose="sign_out"))["reason"] == "closed"
    assert service.counts(meeting.id)["signed_out"] == 1


def test_sign_out_code_of_a_meeting_without_sign_out_is_invalid(app, at, login):
    meeting = make_meeting()
    at(START)
    teacher = login("teacher")
    _scan(teacher, token_for(app, meeting.id))
    assert _scan(teacher, token_for(app, meeting.id, purpose="sign_out"))["reason"] == "invalid_token"


def test_all_staff_meeting_admits_staff_bound_later(app, at, login, ids):
    meeting = make_meeting("admin", title="全体教职工大会", audience={"all_staff": True})
    invited_before = db.session.scalar(select(func.count()).select_from(Invitation)
                                       .where(Invitation.meeting_id == meeting.id))
    at(START)
    session = login("teacher")  # demo users are all bound already; drop the teacher's row to play "bound later"
    db.session.execute(Invitation.__table__.delete().where(Invitation.meeting_id == meeting.id,
                                                           Invitation.user_id == ids["teacher"]))
    db.session.commit()
    assert _scan(session, token_for(app, meeting.id))["status"] == "ok"
    inv = _invitation(meeting.id, ids["teacher"])
    assert (inv.name, inv.number, inv.checked_in_at is not None) == ("张老师", "T0001", True)
    assert _scan(login("student"), token_for(app, meeting.id))["reason"] == "not_invited"
    assert service.counts(meeting.id)["invited"] == invited_before


@pytest.mark.parametrize("payload", [{}, {"token": "x"}, {"nonce": "abcdefgh1"}, {"token": "x", "code": "y",
                                                                                   "nonce": "abcdefgh1"},
                                     {"token": "x", "nonce": "short"}, {"token": "x", "nonce": "abcdefgh1", "z": 1}])
def test_malformed_requests_are_422_envelopes(at, login, payload):
    resp = login("teacher").post(URL, json=payload)
    assert resp.status_code == 422 and resp.json["error_code"] == "validation_error"
    assert _scans() == []


def test_unbound_and_anonymous_cannot_scan(app, at, client, login):
    assert client.post(URL, json={"token": "x", "nonce": nonce()}).status_code == 401


def test_scans_are_rate_limited_per_user(app, at, login, monkeypatch):
    monkeypatch.setitem(app.config, "MEETING_CHECKIN_RATE_LIMIT", "3/minute")
    meeting = make_meeting()
    at(START)
    teacher, admin = login("teacher"), login("admin")
    for _ in range(3):
        _scan(teacher, token_for(app, meeting.id))
    resp = teacher.post(URL, json={"token": token_for(app, meeting.id), "nonce": nonce()})
    assert resp.status_code == 429 and resp.json["error_code"] == "rate_limited"
    assert _scan(admin, token_for(app, meeting.id))["status"] == "ok"  # another user, same IP


@pytest.mark.parametrize("same_nonce", [False, True])
def test_two_simultaneous_scans_give_one_check_in(app, at, ids, same_nonce):
    """Two threads, two connections, the same person, at the same moment."""
    meeting = make_meeting()
    at(START)
    who = actor("teacher")
    token = token_for(app, meeting.id)
    shared = nonce()
    db.session.remove()

    def scan_once():
        answer = service.scan(actor=who, nonce=shared if same_nonce else nonce(), token=token)
        db.session.commit()
        return answer

    answers = race([scan_once, scan_once], app=app)
    expected = ["ok", "ok"] if same_nonce else ["error", "ok"]  # a replay repeats the first answer
    assert sorted(a.status for a in answers) == expected
    inv = _invitation(meeting.id, ids["teacher"])
    assert inv.checked_in_at is not None
    rows = _scans(user_id=ids["teacher"])
    if same_nonce:
        assert len(rows) == 1 and rows[0].result == "ok"
        assert sorted(a.replayed for a in answers) == [False, True]
    else:
        assert sorted((r.result, r.reason) for r in rows) == [("error", "already_checked_in"), ("ok", None)]
        [second] = [a for a in answers if a.status == "error"]
        assert second.checked_in_at == inv.checked_in_at  # the loser is told when the winner got in
        assert second.message.startswith("你已于") and second.message.endswith("签到，无需重复扫码")
    assert service.counts(meeting.id)["checked_in"] == 1


def test_many_people_at_once_each_checked_in_once(app, at, ids):
    meeting = make_meeting("admin", audience={"all_staff": True})
    at(START)
    people = [actor(uid) for uid in db.session.scalars(select(Invitation.user_id).where(
        Invitation.meeting_id == meeting.id))]
    token = token_for(app, meeting.id)
    db.session.remove()

    def scan_once(who):
        service.scan(actor=who, nonce=nonce(), token=token)
        db.session.commit()

    race([partial(scan_once, p) for p in people for _ in range(2)], app=app, timeout=20)
    db.session.expire_all()
    assert service.counts(meeting.id)["checked_in"] == len(people)
    assert len(_scans(result="ok")) == len(people)
    assert len(_scans(reason="already_checked_in")) == len(people)


def test_scan_log_shows_refusals_too(app, at, login):
    meeting = make_meeting()
    at(START - timedelta(hours=1))
    login("teacher").post(f"{API}/check-ins", json={"token": token_for(app, meeting.id), "nonce": nonce()})
    at(START)
    check_in(app, login("teacher"), meeting.id)
    log = login("teacher").get(f"{API}/{meeting.id}/scans").json
    assert [(s["result"], s["reason"]) for s in log] == [("ok", None), ("error", "too_early")]
    assert [s["reason"] for s in login("teacher").get(f"{API}/{meeting.id}/scans?result=error").json] == ["too_early"]
    assert login("worker").get(f"{API}/{meeting.id}/scans").status_code == 404
