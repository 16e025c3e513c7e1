"""Parents bind with proof: a roster phone verified by WeChat, or the student's or class teacher's approval.

The demo school: 陈同学 (S2026001, 高一(1)班, bound to ``demo-student``, parent phone 13800000009, one
parent bound: ``demo-parent``), 林同学 (S2026002, 高一(1)班, no account), 黄同学 (S2026003, 高一(2)班,
no head teacher); 张老师 (``demo-teacher``) heads 高一(1)班.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import func, select

from app.core import timers
from app.core.audit import AuditEvent
from app.core.db import db
from app.notifications.models import Notification
from app.users.models import GuardianRequest, Guardianship, Student, User
from app.users.states import MAX_GUARDIANS_PER_STUDENT, PENDING_MESSAGE
from tests.support import race
from tests.users.conftest import parent_bind

DEMO_PARENT_PHONE = "13800000009"


def student_id(number: str) -> int:
    return db.session.scalar(select(Student.id).where(Student.number == number))


def guardians_of(number: str) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(Guardianship.user_id).where(Guardianship.student_id == student_id(number))))


def request_row(request_id: int) -> GuardianRequest:
    db.session.expire_all()
    return db.session.get(GuardianRequest, request_id)


def audits(entity: str, action: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.entity_type == entity).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.session.scalars(stmt))


def told(event: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for n in db.session.scalars(select(Notification).where(Notification.event == event).order_by(Notification.id)):
        out.setdefault(n.user_id, []).append(n.title)
    return out


def ask(session, number="S2026001", name="陈同学", **extra) -> int:
    resp = parent_bind(session, number, name, **extra)
    assert resp.status_code == 202, resp.json
    return resp.json["request"]["id"]


# --- proof by phone ------------------------------------------------------------------------------------


def test_a_roster_parent_phone_binds_at_once(newcomer, sim):
    parent = newcomer()
    resp = parent_bind(parent, "S2026001", " 陈 同学", relation="父亲",
                       phone_code=sim.register_phone_code(DEMO_PARENT_PHONE))
    assert resp.status_code == 200, resp.json
    assert resp.json["roles"] == ["parent"] and resp.json["phone_masked"] == "138****0009"
    assert [c["number"] for c in resp.json["children"]] == ["S2026001"]
    assert parent.user["id"] in guardians_of("S2026001")
    bound = audits("guardianship", "bind")[-1]
    assert bound.actor_id == parent.user["id"] and bound.data["via"] == "phone"
    assert bound.after == {"user_id": parent.user["id"], "student_id": student_id("S2026001"), "relation": "父亲"}
    # proving it again is harmless
    again = parent_bind(parent, "S2026001", "陈同学", phone_code=sim.register_phone_code(DEMO_PARENT_PHONE))
    assert again.status_code == 200 and len(audits("guardianship", "bind")) == 1


def test_a_verified_phone_the_roster_does_not_list_only_asks(newcomer, sim):
    parent = newcomer()
    resp = parent_bind(parent, "S2026001", "陈同学", phone_code=sim.register_phone_code("13900000001"))
    assert resp.status_code == 202 and resp.json["status"] == "pending"
    assert parent.user["id"] not in guardians_of("S2026001")
    assert parent.get("/api/v1/me").json["bound"] is False


def test_a_phone_proof_answers_the_parents_own_pending_request(newcomer, sim):
    parent = newcomer()
    rid = ask(parent)
    assert parent_bind(parent, "S2026001", "陈同学",
                       phone_code=sim.register_phone_code(DEMO_PARENT_PHONE)).status_code == 200
    assert request_row(rid).status == "withdrawn"
    assert timers.pending("users.guardian_request_expiry", rid) is None


# --- asking and deciding ----------------------------------------------------------------------------------


def test_the_student_approves_a_request(newcomer, login):
    parent = newcomer()
    resp = parent_bind(parent, "S2026001", "陈同学", relation="母亲")
    assert resp.status_code == 202
    assert resp.json["status"] == "pending" and resp.json["message"] == PENDING_MESSAGE
    mine = resp.json["request"]
    assert (mine["student_number"], mine["student_name"], mine["relation"], mine["status"]) == \
        ("S2026001", "陈同学", "母亲", "pending")
    assert parent.get("/api/v1/me").json["bound"] is False

    student, teacher = login("student"), login("teacher")
    assert set(told("users.guardian_requested")) == {student.user["id"], teacher.user["id"]}
    me = student.get("/api/v1/me").json
    assert me["decides_guardians"] is True and me["guardian_requests_to_decide"] == 1
    [shown] = student.get("/api/v1/guardian-requests").json
    assert shown["id"] == mine["id"] and shown["student_name"] == "陈同学" and shown["class_name"] == "高一(1)班"
    assert shown["actions"] == ["approve", "reject"] and shown["relation"] == "母亲"

    approved = student.post(f"/api/v1/guardian-requests/{mine['id']}/approve")
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert approved.json["decided_by"] == "孩子" and approved.json["actions"] == []
    me = parent.get("/api/v1/me").json
    assert me["roles"] == ["parent"] and [c["number"] for c in me["children"]] == ["S2026001"]
    assert told("users.guardian_decided") == {parent.user["id"]: ["家长绑定已通过：陈同学"]}
    [decision] = audits("guardian_request", "approve")
    assert (decision.actor_id, decision.before, decision.after) == \
        (student.user["id"], {"status": "pending"}, {"status": "approved"})
    assert audits("guardianship", "bind")[-1].data == {"via": "approval", "request_id": mine["id"]}
    assert timers.pending("users.guardian_request_expiry", mine["id"]) is None
    # a double tap is ignored: nothing more is written
    again = student.post(f"/api/v1/guardian-requests/{mine['id']}/approve")
    assert again.status_code == 200 and len(audits("guardian_request", "approve")) == 1
    assert student.get("/api/v1/me").json["guardian_requests_to_decide"] == 0


def test_the_class_teacher_approves_for_a_student_without_an_account(newcomer, login):
    parent = newcomer()
    rid = ask(parent, "S2026002", "林同学")
    teacher = login("teacher")
    assert told("users.guardian_requested") == {teacher.user["id"]: ["家长绑定申请：林同学"]}
    assert teacher.get("/api/v1/me").json["guardian_requests_to_decide"] == 1
    resp = teacher.post(f"/api/v1/guardian-requests/{rid}/approve")
    assert resp.status_code == 200 and resp.json["decided_by"] == "班主任"
    assert guardians_of("S2026002") == {parent.user["id"]}
    # the student's parents, as the class teacher sees them
    listed = teacher.get(f"/api/v1/students/{student_id('S2026002')}/guardians").json
    assert [g["user_id"] for g in listed["guardians"]] == [parent.user["id"]]
    assert listed["max_guardians"] == MAX_GUARDIANS_PER_STUDENT


def test_reject(newcomer, login):
    parent = newcomer()
    rid = ask(parent)
    student, teacher = login("student"), login("teacher")
    resp = student.post(f"/api/v1/guardian-requests/{rid}/reject")
    assert resp.status_code == 200 and resp.json["status"] == "rejected"
    assert parent.user["id"] not in guardians_of("S2026001")
    assert told("users.guardian_decided") == {parent.user["id"]: ["家长绑定未通过：陈同学"]}
    [mine] = parent.get("/api/v1/me/guardian-requests").json
    assert (mine["status"], mine["status_label"]) == ("rejected", "未通过")
    assert student.get("/api/v1/guardian-requests").json == []
    [done] = student.get("/api/v1/guardian-requests?status=done").json
    assert (done["id"], done["status"], done["decided_by"]) == (rid, "rejected", "孩子")
    late = teacher.post(f"/api/v1/guardian-requests/{rid}/approve")
    assert late.status_code == 409 and late.json["message"] == "该申请未通过，不能通过"
    assert student.post(f"/api/v1/guardian-requests/{rid}/reject").status_code == 200  # a double tap
    assert len(audits("guardian_request", "reject")) == 1


def test_withdraw(newcomer, login):
    parent = newcomer()
    rid = ask(parent)
    resp = parent.post(f"/api/v1/me/guardian-requests/{rid}/withdraw")
    assert resp.status_code == 200 and resp.json["status"] == "withdrawn"
    assert parent.post(f"/api/v1/me/guardian-requests/{rid}/withdraw").status_code == 200  # a double tap
    assert len(audits("guardian_request", "withdraw")) == 1
    assert timers.pending("users.guardian_request_expiry", rid) is None
    student = login("student")
    assert student.get("/api/v1/guardian-requests").json == []
    assert student.post(f"/api/v1/guardian-requests/{rid}/approve").status_code == 409
    assert parent.get("/api/v1/me/guardian-requests?status=pending").json == []
    assert "users.guardian_decided" not in {n.event for n in db.session.scalars(select(Notification))}


def test_pending_requests_expire(newcomer, login, sim, clock, app):
    parent, stranger = newcomer(), newcomer()
    rid = ask(parent)
    unmatched = ask(stranger, "S2026001", "不存在")
    due = timers.pending("users.guardian_request_expiry", rid)
    assert due == request_row(rid).expires_at

    clock.shift(days=7, minutes=1)
    openid = db.session.get(User, parent.user["id"]).openid
    parent = login(code=sim.register_login_code(openid=openid)["code"])  # a week on: a new login
    # before the timer fires, reading already says expired, and nobody can approve it
    [mine] = parent.get("/api/v1/me/guardian-requests").json
    assert mine["status"] == "expired"
    student = login("student")
    assert student.get("/api/v1/guardian-requests").json == []
    late = student.post(f"/api/v1/guardian-requests/{rid}/approve")
    assert late.status_code == 409 and late.json["error_code"] == "users.guardian_request_expired"

    result = timers.sweep()
    db.session.commit()
    assert result["done"]["users.guardian_request_expiry"] == 2
    assert (request_row(rid).status, request_row(unmatched).status) == ("expired", "expired")
    assert told("users.guardian_decided") == {parent.user["id"]: ["家长绑定已过期：陈同学"],
                                             stranger.user["id"]: ["家长绑定已过期：不存在"]}
    assert len(audits("guardian_request", "expire")) == 2
    assert parent.user["id"] not in guardians_of("S2026001")
    # a new request may be made after one expired
    assert parent_bind(parent, "S2026001", "陈同学").status_code == 202


# --- caps ------------------------------------------------------------------------------------------------


def test_parents_per_child_are_capped(newcomer, login, sim):
    # 陈同学 has one parent; pending requests count: three more may ask, the next is refused
    askers = [newcomer() for _ in range(MAX_GUARDIANS_PER_STUDENT)]
    ids = [ask(p) for p in askers[:-1]]
    refused = parent_bind(askers[-1], "S2026001", "陈同学")
    assert refused.status_code == 409 and refused.json["error_code"] == "users.guardians_full"
    assert str(MAX_GUARDIANS_PER_STUDENT) in refused.json["message"]
    # pending requests do not keep a parent who proves the roster phone out
    proved = newcomer()
    assert parent_bind(proved, "S2026001", "陈同学",
                       phone_code=sim.register_phone_code(DEMO_PARENT_PHONE)).status_code == 200
    student = login("student")
    assert [student.post(f"/api/v1/guardian-requests/{i}/approve").status_code for i in ids] == [200, 200, 409]
    assert len(guardians_of("S2026001")) == MAX_GUARDIANS_PER_STUDENT
    assert request_row(ids[-1]).status == "pending"  # the refused approval changed nothing
    assert student.post(f"/api/v1/guardian-requests/{ids[-1]}/approve").json["error_code"] == "users.guardians_full"
    # a full child refuses a proved parent too
    another = newcomer()
    full = parent_bind(another, "S2026001", "陈同学", phone_code=sim.register_phone_code(DEMO_PARENT_PHONE))
    assert full.status_code == 409 and full.json["error_code"] == "users.guardians_full"


def test_children_per_parent_count_pending_requests(newcomer):
    parent = newcomer()
    for number in ("S2026001", "S2026002", "S2026003", "S2025001"):
        db.session.add(Guardianship(user_id=parent.user["id"], student_id=student_id(number)))
    db.session.commit()
    rid = ask(parent, "X1", "某某")  # the fifth, pending
    refused = parent_bind(parent, "X2", "某某")
    assert refused.status_code == 422 and refused.json["error_code"] == "users.too_many_children"
    assert parent_bind(parent, "X1", "某某").json["request"]["id"] == rid  # asking again is not a new one
    assert parent.post(f"/api/v1/me/guardian-requests/{rid}/withdraw").status_code == 200
    assert parent_bind(parent, "X2", "某某").status_code == 202


def test_parent_bind_attempts_are_rate_limited_per_account(newcomer):
    parent, other = newcomer(), newcomer()
    assert [parent_bind(parent, f"X{i}", "某某").status_code for i in range(6)] == [202] * 5 + [429]
    assert parent_bind(other, "X0", "某某").status_code == 202
    # staff and student binding are not counted against it
    assert parent.post("/api/v1/me/bind", json={"kind": "student", "number": "S2026002",
                                                "name": "林同学"}).status_code == 200


# --- one answer, whoever asks ---------------------------------------------------------------------------------


def _shape(resp) -> tuple:
    body = resp.json
    request = body["request"]
    return (resp.status_code, tuple(sorted(body)), body["status"], body["message"], tuple(sorted(request)),
            request["status"], request["status_label"], request["decided_at"])


def test_a_wrong_pair_a_child_already_bound_and_a_real_request_answer_the_same(newcomer, login):
    wrong, real = newcomer(), newcomer()
    already = login("parent")  # 陈同学's parent already
    answers = {
        "wrong pair": parent_bind(wrong, "S2026001", "陈同学同学"),
        "no such number": parent_bind(wrong, "S9999999", "陈同学"),
        "already bound": parent_bind(already, "S2026001", "陈同学"),
        "real": parent_bind(real, "S2026001", "陈同学"),
        "real, pending": parent_bind(real, "S2026001", "陈同学"),
    }
    shapes = {case: _shape(resp) for case, resp in answers.items()}
    assert len(set(shapes.values())) == 1, shapes
    assert shapes["real"][:4] == (202, ("message", "request", "status"), "pending", PENDING_MESSAGE)
    assert answers["real"].json["request"]["id"] == answers["real, pending"].json["request"]["id"]
    # what each stored: the unmatched ones without a student, decided by nobody, expiring like the rest
    stored = {case: request_row(resp.json["request"]["id"]) for case, resp in answers.items()}
    assert [stored[c].student_id for c in ("wrong pair", "no such number", "already bound")] == [None] * 3
    assert stored["real"].student_id == student_id("S2026001")
    assert all(timers.pending("users.guardian_request_expiry", r.id) for r in stored.values())
    # the requesters' lists read alike
    lists = [s.get("/api/v1/me/guardian-requests").json for s in (wrong, already, real)]
    assert {tuple(sorted(item)) for lst in lists for item in lst} == {tuple(sorted(lists[2][0]))}
    assert {item["status"] for lst in lists for item in lst} == {"pending"}
    # only the real request reaches the student and the class teacher
    assert len(told("users.guardian_requested")) == 2
    assert [r["id"] for r in login("student").get("/api/v1/guardian-requests").json] == [stored["real"].id]
    for case in ("wrong pair", "already bound"):
        assert login("admin").get(f"/api/v1/guardian-requests/{stored[case].id}").status_code == 404


# --- someone else's requests ----------------------------------------------------------------------------------


def test_others_cannot_see_or_decide_a_childs_requests(newcomer, login):
    parent = newcomer()
    rid = ask(parent)
    other_student = newcomer()
    assert other_student.post("/api/v1/me/bind", json={"kind": "student", "number": "S2026003",
                                                       "name": "黄同学"}).status_code == 200
    other_teacher = newcomer()
    assert other_teacher.post("/api/v1/me/bind", json={"kind": "staff", "number": "T0002",
                                                       "name": "周老师"}).status_code == 200
    outsiders = {"another student": other_student, "a teacher of no class": other_teacher,
                 "a worker": login("worker"), "the child's other parent": login("parent")}
    for who, session in outsiders.items():
        assert session.get(f"/api/v1/guardian-requests/{rid}").status_code == 404, who
        for action in ("approve", "reject"):
            resp = session.post(f"/api/v1/guardian-requests/{rid}/{action}")
            assert resp.status_code == 404 and resp.json["error_code"] == "users.guardian_request_not_found", who
        assert session.get("/api/v1/guardian-requests").json == [], who
        assert session.post(f"/api/v1/me/guardian-requests/{rid}/withdraw").status_code == 404, who
        assert session.get(f"/api/v1/students/{student_id('S2026001')}/guardians").status_code == 404, who
    # the requester, not bound yet, decides nothing (a bound requester: test_nobody_approves_their_own_request)
    assert parent.post(f"/api/v1/guardian-requests/{rid}/approve").status_code == 403
    assert other_student.get("/api/v1/me").json["guardian_requests_to_decide"] == 0
    assert request_row(rid).status == "pending" and audits("guardian_request", "approve") == []


def test_nobody_approves_their_own_request(newcomer, login):
    """The class teacher asking to be a pupil's parent waits for the student (or an admin) like anyone."""
    teacher = login("teacher")
    rid = ask(teacher, "S2026002", "林同学")
    assert teacher.get("/api/v1/guardian-requests").json == []
    assert teacher.post(f"/api/v1/guardian-requests/{rid}/approve").status_code == 404
    assert login("admin").post(f"/api/v1/guardian-requests/{rid}/approve").status_code == 200


# --- two decisions at once --------------------------------------------------------------------------------------


def test_two_approvals_at_once_make_one_guardianship(newcomer, login):
    parent = newcomer()
    rid = ask(parent)
    deciders = [login("student"), login("teacher")]

    def approve(session):
        return session.user["id"], session.post(f"/api/v1/guardian-requests/{rid}/approve")

    answers = dict(race([partial(approve, d) for d in deciders]))
    codes = sorted(resp.status_code for resp in answers.values())
    assert codes == [200, 409], {k: v.json for k, v in answers.items()}
    loser = next(resp for resp in answers.values() if resp.status_code == 409)
    assert loser.json["error_code"] in ("guardian_request.concurrent_change", "guardian_request.invalid_transition")
    assert db.session.scalar(select(func.count()).select_from(Guardianship).where(
        Guardianship.user_id == parent.user["id"])) == 1
    assert len(audits("guardian_request", "approve")) == 1
    assert len(told("users.guardian_decided")[parent.user["id"]]) == 1


# --- abuse ------------------------------------------------------------------------------------------------------


def test_seven_accounts_asking_for_one_child_bind_nobody_without_proof(newcomer, login):
    askers = [newcomer() for _ in range(7)]
    answers = [parent_bind(a, "S2026002", "林同学") for a in askers]
    assert [r.status_code for r in answers] == [202] * 4 + [409] * 3
    assert guardians_of("S2026002") == set()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.id.in_(
        [a.user["id"] for a in askers]), User.student_id.is_not(None))) == 0
    teacher = login("teacher")
    assert len(teacher.get("/api/v1/guardian-requests").json) == 4
    # the class teacher rejects the strangers and approves the real one; the cap held throughout
    first, *rest = [r.json["request"]["id"] for r in answers[:4]]
    for rid in rest:
        assert teacher.post(f"/api/v1/guardian-requests/{rid}/reject").status_code == 200
    assert teacher.post(f"/api/v1/guardian-requests/{first}/approve").status_code == 200
    assert guardians_of("S2026002") == {askers[0].user["id"]}
    assert len(audits("guardian_request", "request")) == 4
    assert len(told("users.guardian_requested")[teacher.user["id"]]) == 4


# --- unbinding and head teachers --------------------------------------------------------------------------------


def test_unbinding_is_audited(login, newcomer):
    parent, student = login("parent"), login("student")
    sid = student_id("S2026001")
    assert student.get("/api/v1/me").json["student_id"] == sid and parent.get("/api/v1/me").json["student_id"] is None
    listed = student.get(f"/api/v1/students/{sid}/guardians").json
    assert [(g["user_id"], g["relation"]) for g in listed["guardians"]] == [(parent.user["id"], "母亲")]
    assert listed["roster_phones_masked"] == ["138****0009"]
    assert student.delete(f"/api/v1/students/{sid}/guardians/{parent.user['id']}").status_code == 204
    assert parent.get("/api/v1/me").json["bound"] is False
    [gone] = audits("guardianship", "unbind")
    assert gone.actor_id == student.user["id"] and gone.data == {"by": "student"}
    assert gone.before == {"user_id": parent.user["id"], "student_id": sid, "relation": "母亲"}
    assert student.delete(f"/api/v1/students/{sid}/guardians/{parent.user['id']}").status_code == 404
    # a parent leaves a child themselves
    other = newcomer()
    rid = ask(other)
    assert student.post(f"/api/v1/guardian-requests/{rid}/approve").status_code == 200
    assert other.delete(f"/api/v1/me/children/{sid}").status_code == 204
    assert audits("guardianship", "unbind")[-1].data == {"by": "requester"}
    assert other.delete(f"/api/v1/me/children/{sid}").status_code == 403  # no longer bound at all


def test_admin_names_a_head_teacher(login, newcomer):
    admin = login("admin")
    class_id = db.session.scalar(select(Student.class_id).where(Student.number == "S2026003"))
    resp = admin.put(f"/api/v1/admin/classes/{class_id}/head-teacher", json={"staff_number": "T0002"})
    assert resp.status_code == 200 and resp.json["head_teacher_id"] is not None
    assert audits("school_class", "set_head_teacher")[0].after == {"head_teacher_id": resp.json["head_teacher_id"]}
    unknown = admin.put(f"/api/v1/admin/classes/{class_id}/head-teacher", json={"staff_number": "T9999"})
    assert unknown.status_code == 422 and "staff_number" in unknown.json["errors"]
    assert login("teacher").put(f"/api/v1/admin/classes/{class_id}/head-teacher",
                                json={"staff_number": None}).status_code == 403
    zhou = newcomer()
    assert zhou.post("/api/v1/me/bind", json={"kind": "staff", "number": "T0002", "name": "周老师"}).status_code == 200
    assert zhou.get("/api/v1/me").json["decides_guardians"] is True
    rid = ask(newcomer(), "S2026003", "黄同学")
    assert zhou.post(f"/api/v1/guardian-requests/{rid}/approve").status_code == 200
    cleared = admin.put(f"/api/v1/admin/classes/{class_id}/head-teacher", json={"staff_number": None})
    assert cleared.json["head_teacher_id"] is None
    assert zhou.get("/api/v1/me").json["decides_guardians"] is False
