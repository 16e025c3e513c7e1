"""Creating, reading, editing and cancelling meetings (through the API), who may, and who is invited
(departments, classes, parents, roles, people; the users service queries the meetings domain added)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.db import db
from app.core.errors import ValidationFailed
from app.meetings.models import Invitation, Meeting
from app.users import service as users_service
from app.users.models import SchoolClass, StaffMember, User
from tests.meetings.conftest import (
    API,
    END,
    NOW,
    START,
    actor,
    body,
    check_in,
    department_id,
    invited,
    make_meeting,
    notes,
)


def test_teacher_creates_a_meeting_invitees_are_materialised_and_told(at, login, ids):
    teacher = login("teacher")
    resp = teacher.post(API, json=body(description="期中教研安排"))
    assert resp.status_code == 201, resp.json
    m = resp.json
    assert (m["title"], m["status"], m["phase"], m["can_manage"]) == ("语文教研组例会", "scheduled", "upcoming", True)
    assert m["organiser"] == {"id": ids["teacher"], "name": "张老师"}
    assert m["checkin_opens_at"] == (START - timedelta(minutes=30)).isoformat()
    assert m["late_at"] == (START + timedelta(minutes=5)).isoformat()
    assert m["checkin_closes_at"] == END.isoformat()
    assert m["counts"] == {"invited": 2, "checked_in": 0, "on_time": 0, "late": 0, "excused": 0, "absent": 2,
                           "signed_out": 0}
    invited = set(db.session.scalars(select(Invitation.user_id).where(Invitation.meeting_id == m["id"])))
    assert invited == {ids["teacher"], ids["admin"]}
    [note] = notes(ids["admin"], "meetings.invited")
    assert note.title == "会议通知：语文教研组例会"
    assert note.link == f"/packageMeetings/pages/detail/detail?id={m['id']}"
    assert "3月15日 14:00-15:00" in note.body
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.entity_type == "meeting")) == "create"


def test_a_room_from_the_places_tree(at, login):
    room = login("teacher").get("/api/v1/places/by-code/E-ADM-301").json
    resp = login("teacher").post(API, json=body(place_id=room["id"], location="靠窗"))
    assert resp.status_code == 201
    assert resp.json["location"] == "东校区 › 行政楼 › 3F › 301（靠窗）" and resp.json["place_id"] == room["id"]


@pytest.mark.parametrize("change, field", [
    ({"ends_at": START.isoformat()}, "ends_at"),
    ({"ends_at": (START + timedelta(hours=25)).isoformat()}, "ends_at"),
    ({"location": ""}, "location"),
    ({"audience": {}}, "audience"),
    ({"audience": {"department_ids": [9999]}}, "audience"),
    ({"audience": {"user_ids": [9999]}}, "audience"),
    ({"audience": {"roles": ["student"]}}, "audience"),
    ({"allow_static_code": True}, "geofence"),
    ({"geofence": {"latitude": 91, "longitude": 0, "radius_m": 100}}, "geofence"),
    ({"late_after_minutes": 90}, "late_after_minutes"),
    ({"title": ""}, "title"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_meetings_are_422_with_the_field(at, login, change, field):
    resp = login("teacher").post(API, json=body(**change))
    assert resp.status_code == 422, resp.json
    assert field in json.dumps(resp.json["errors"]), resp.json
    assert resp.json["message"]  # Chinese, for the form
    assert db.session.scalar(select(func.count()).select_from(Meeting).where(Meeting.series_id.is_(None),
                                                                             Meeting.code != "DEMOALL1")) == 0


def test_a_meeting_that_already_ended_is_refused(at, login):
    resp = login("teacher").post(API, json=body(starts_at=(NOW - timedelta(hours=2)).isoformat(),
                                                ends_at=(NOW - timedelta(hours=1)).isoformat()))
    assert resp.status_code == 422 and resp.json["error_code"] == "meetings.in_the_past"


def test_times_without_an_offset_are_school_time(at, login):
    resp = login("teacher").post(API, json=body(starts_at="2027-03-15T14:00:00", ends_at="2027-03-15 15:00"))
    assert resp.status_code == 201 and resp.json["starts_at"] == START.isoformat()


@pytest.mark.parametrize("role", ["student", "parent"])
def test_students_and_parents_cannot_organise(at, login, role):
    resp = login(role).post(API, json=body())
    assert resp.status_code == 403 and resp.json["error_code"] == "meetings.forbidden"


def test_invitees_see_the_meeting_others_get_404(at, login, ids):
    meeting = make_meeting()
    mine = login("admin").get(f"{API}/{meeting.id}").json
    assert mine["mine"]["invited"] is True and mine["can_manage"] is True  # invited, and an admin
    teacher_view = login("teacher").get(f"{API}/{meeting.id}").json
    assert teacher_view["audience"]["department_ids"] == [department_id("语文教研组")]
    for role in ("worker", "student", "parent"):
        resp = login(role).get(f"{API}/{meeting.id}")
        assert resp.status_code == 404 and resp.json["error_code"] == "meetings.not_found", role
    assert login("worker").get(f"{API}/999999").status_code == 404


def test_an_invitee_sees_no_audience_and_no_counts(at, login):
    meeting = make_meeting("admin")
    view = login("teacher").get(f"{API}/{meeting.id}").json
    assert (view["can_manage"], view["audience"], view["counts"]) == (False, None, None)
    assert view["mine"]["status"] == "absent" and view["mine"]["leave"] is None


def test_my_meetings_invited_organised_upcoming_past(at, login, ids):
    first = make_meeting()
    second = make_meeting("admin", title="后勤处例会", starts_at=(START + timedelta(days=1)).isoformat(),
                          ends_at=(END + timedelta(days=1)).isoformat(),
                          audience={"department_ids": [department_id("后勤处")], "user_ids": [ids["teacher"]]})
    teacher = login("teacher")
    upcoming = teacher.get(API).json
    assert [m["id"] for m in upcoming if m["id"] in (first.id, second.id)] == [first.id, second.id]
    organised = teacher.get(f"{API}?scope=organised").json
    assert [m["id"] for m in organised] == [first.id]
    at(END + timedelta(days=2))
    teacher = login("teacher")
    past = [m["id"] for m in teacher.get(f"{API}?when=past").json]
    assert past.index(second.id) < past.index(first.id)  # latest first
    assert teacher.get(f"{API}?scope=all").status_code == 403
    assert login("admin").get(f"{API}?scope=all&when=past").status_code == 200


def test_edit_rematerialises_and_announces(at, login, ids):
    meeting = make_meeting()
    teacher = login("teacher")
    new_body = body(starts_at=(START + timedelta(hours=1)).isoformat(), ends_at=(END + timedelta(hours=1)).isoformat(),
                    audience={"department_ids": [department_id("语文教研组")], "user_ids": [ids["worker"]]})
    resp = teacher.put(f"{API}/{meeting.id}", json=new_body)
    assert resp.status_code == 200, resp.json
    invited = set(db.session.scalars(select(Invitation.user_id).where(Invitation.meeting_id == meeting.id)))
    assert invited == {ids["teacher"], ids["worker"]}
    assert notes(ids["worker"], "meetings.invited")  # the newcomer is invited
    [changed] = notes(ids["teacher"], "meetings.changed")  # the one who stays hears about the new time
    assert "15:00-16:00" in changed.body
    assert notes(ids["admin"], "meetings.changed") == []  # dropped, not told about the change
    assert resp.json["late_at"] == (START + timedelta(hours=1, minutes=5)).isoformat()


def test_people_who_checked_in_stay_when_the_audience_shrinks(app, at, login, ids):
    meeting = make_meeting()
    at(START)
    check_in(app, login("admin"), meeting.id)
    resp = login("teacher").put(f"{API}/{meeting.id}", json=body(audience={"department_ids": [
        department_id("语文教研组")]}))
    assert resp.status_code == 200
    assert resp.json["counts"]["invited"] == 2 and resp.json["counts"]["checked_in"] == 1


def test_only_the_organiser_or_an_admin_edits_or_cancels(at, login, ids):
    meeting = make_meeting("admin", audience={"department_ids": [department_id("语文教研组")]})
    teacher = login("teacher")  # invited, not the organiser
    assert teacher.put(f"{API}/{meeting.id}", json=body()).status_code == 403
    assert teacher.post(f"{API}/{meeting.id}/cancel", json={}).json["error_code"] == "meetings.forbidden"
    assert login("worker").post(f"{API}/{meeting.id}/cancel", json={}).status_code == 404
    own = make_meeting()
    resp = login("admin").post(f"{API}/{own.id}/cancel", json={"reason": "与区教研活动冲突"})
    assert resp.status_code == 200 and resp.json["status"] == "cancelled" and resp.json["phase"] == "cancelled"
    assert "与区教研活动冲突" in notes(ids["teacher"], "meetings.changed")[0].body
    assert login("teacher").put(f"{API}/{own.id}", json=body()).json["error_code"] == "meetings.cancelled"


def test_an_ended_meeting_cannot_be_edited_or_cancelled(at, login):
    meeting = make_meeting()
    at(END + timedelta(minutes=1))
    teacher = login("teacher")
    assert teacher.put(f"{API}/{meeting.id}", json=body()).json["error_code"] == "meetings.ended"
    assert teacher.post(f"{API}/{meeting.id}/cancel", json={}).json["error_code"] == "meetings.ended"


def _class_id(name):
    return db.session.scalar(select(SchoolClass.id).where(SchoolClass.name == name))


def test_users_queries(at, ids):
    logistics = users_service.staff_user_ids(department_ids=[department_id("后勤处")])
    assert set(logistics) == {ids["worker"], ids["dispatcher"], ids["admin"]}
    assert set(users_service.staff_user_ids()) == {ids[r] for r in ("teacher", "worker", "dispatcher", "canteen",
                                                                    "courier", "finance", "admin")}
    assert users_service.class_user_ids([_class_id("高一(1)班")]) == [ids["student"]]
    assert users_service.class_user_ids([_class_id("高一(1)班")], parents=True) == [ids["parent"]]
    assert users_service.class_user_ids([_class_id("高二(1)班")]) == []
    people = {p.user_id: p for p in users_service.people([ids["teacher"], ids["student"], ids["parent"], 999])}
    assert (people[ids["teacher"]].name, people[ids["teacher"]].number, people[ids["teacher"]].is_staff) == \
        ("张老师", "T0001", True)
    assert (people[ids["student"]].name, people[ids["student"]].number) == ("陈同学", "S2026001")
    assert people[ids["parent"]].name == "陈同学的家长" and 999 not in people


def test_inactive_staff_are_not_invited(at, ids):
    db.session.execute(StaffMember.__table__.update().where(StaffMember.number == "W0001").values(active=False))
    db.session.commit()
    meeting = make_meeting("admin", audience={"department_ids": [department_id("后勤处")]})
    assert ids["worker"] not in invited(meeting)


def test_class_meeting_for_students_or_parents(at, ids):
    students = make_meeting(title="班会", audience={"class_ids": [_class_id("高一(1)班")]})
    parents = make_meeting(title="家长会", audience={"class_ids": [_class_id("高一(1)班")], "class_members": "parents"})
    assert invited(students) == {ids["student"]: "陈同学"}
    assert invited(parents) == {ids["parent"]: "陈同学的家长"}
    assert actor("parent").staff_id is None  # and yet invited: a class audience is not staff-only


def test_by_role_and_by_person(at, ids):
    meeting = make_meeting("admin", audience={"roles": ["finance", "canteen"], "user_ids": [ids["courier"]]})
    assert set(invited(meeting)) == {ids["finance"], ids["canteen"], ids["courier"]}


def test_disabled_users_cannot_be_named(at, ids):
    db.session.execute(User.__table__.update().where(User.id == ids["worker"]).values(active=False))
    db.session.commit()
    with pytest.raises(ValidationFailed) as err:
        make_meeting(audience={"user_ids": [ids["worker"]]})
    assert err.value.error_code == "meetings.invalid_audience"


def test_a_meeting_needs_a_room_or_a_location_text_as_the_schema_says(at, login, client):
    teacher = login("teacher")
    room = teacher.get("/api/v1/places/by-code/E-ADM-301").json
    nowhere = {k: v for k, v in body().items() if k != "location"}
    resp = teacher.post(API, json={**nowhere, "place_id": room["id"]})
    assert resp.status_code == 201 and resp.json["location"] == "东校区 › 行政楼 › 3F › 301"
    assert teacher.post(API, json=body(location="操场主席台")).status_code == 201
    resp = teacher.post(API, json=nowhere)
    assert (resp.status_code, resp.json["error_code"], list(resp.json["errors"])) == (
        422, "meetings.location_required", ["location"])
    spec = client.get("/api/openapi.json").json
    fields = spec["components"]["schemas"]["MeetingIn"]["properties"]
    assert "meetings.location_required" in fields["place_id"]["description"]
    assert "required without `place_id`" in fields["location"]["description"]
    assert "`meetings.location_required`" in spec["paths"]["/api/v1/meetings"]["post"]["description"]
