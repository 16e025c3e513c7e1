"""Who may do what: who creates meetings, who sees one, who manages one, and the lookups that
refuse everyone else (404 ``meetings.not_found``, 403 ``meetings.forbidden``).

* **Who organises.** No new role: any staff member (a teacher organises their 教研组's meeting) and
  admins may create meetings; a meeting is managed only by its organiser or an admin. Adding an
  "organiser" role would make the office hand out a right nobody needs to be refused, and the real
  boundary is per meeting anyway. Students and parents cannot create meetings (403).
* **Who sees what.** A meeting is visible to its organiser, admins and its invitees (plus any staff
  member for an "all staff" meeting); anyone else gets 404. An invitee who asks for the attendance
  of a meeting they only attend gets 403 ``meetings.forbidden`` (they know it exists); a stranger 404.
* **Roles on one object** (``roles_on``): the actor's own roles plus ``organiser`` of this meeting or
  series and ``requester`` of this leave request, which the transition tables in ``states`` name.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core import clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Forbidden, NotFound
from app.meetings.models import Invitation, LeaveRequest, Meeting, MeetingSeries
from app.meetings.states import ORGANISER, REQUESTER
from app.users import service as users_service


class MeetingNotFound(NotFound):
    error_code = "meetings.not_found"
    message = "会议不存在"


class NotOrganiser(Forbidden):
    error_code = "meetings.forbidden"
    message = "只有会议组织者或管理员可以进行此操作"


def can_create(actor: Actor) -> bool:
    return actor.is_admin or actor.staff_id is not None


def require_creator(actor: Actor) -> None:
    if not can_create(actor):
        raise Forbidden("meetings.forbidden", "只有教职工可以发起会议")


def roles_on(actor: Actor, owned: Meeting | MeetingSeries, leave: LeaveRequest | None = None) -> set[str]:
    """The actor's roles plus their relation to this meeting or series and, given one of the meeting's
    leave requests, to that request (see ``states``)."""
    roles = set(actor.roles)
    if owned.organiser_id == actor.user_id:
        roles.add(ORGANISER)
    if leave is not None and leave.user_id == actor.user_id:
        roles.add(REQUESTER)
    return roles


def manages(meeting: Meeting, actor: Actor) -> bool:
    return actor.is_admin or meeting.organiser_id == actor.user_id


def invitation(meeting_id: int, user_id: int) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(Invitation.meeting_id == meeting_id,
                                                      Invitation.user_id == user_id))


def open_to(meeting: Meeting, actor: Actor) -> bool:
    """An "all staff" meeting also admits staff bound after it was created."""
    return bool(meeting.audience.get("all_staff")) and actor.staff_id is not None


def roster_number(user_id: int) -> str | None:
    """工号 / 学号, for the invitation row of someone an "all staff" meeting admits."""
    person = users_service.people([user_id])
    return person[0].number if person else None


def admit(meeting: Meeting, actor: Actor) -> Invitation:
    """The actor's invitation row, added when an "all staff" meeting admits them without one (bound
    after it was created), as their first scan adds it."""
    db.session.execute(insert(Invitation).values(
        meeting_id=meeting.id, user_id=actor.user_id, name=actor.name or "-", number=roster_number(actor.user_id),
        department_id=actor.department_id, created_at=clock.now(),
    ).on_conflict_do_nothing(index_elements=["meeting_id", "user_id"]))
    return invitation(meeting.id, actor.user_id)


def _visible(meeting: Meeting | None, actor: Actor) -> bool:
    if meeting is None:
        return False
    return manages(meeting, actor) or open_to(meeting, actor) or invitation(meeting.id, actor.user_id) is not None


def get_visible(*, actor: Actor, meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if not _visible(meeting, actor):
        raise MeetingNotFound()
    return meeting


def get_managed(*, actor: Actor, meeting_id: int, lock: bool = False) -> Meeting:
    """The meeting if the actor organises it (or is an admin); 403 for its invitees, 404 otherwise."""
    meeting = db.session.get(Meeting, meeting_id, with_for_update=lock or None)
    if meeting is None:
        raise MeetingNotFound()
    if not manages(meeting, actor):
        if _visible(meeting, actor):
            raise NotOrganiser()
        raise MeetingNotFound()
    return meeting
