"""Leave: an invitee asks to be excused from a meeting or withdraws the request; the organiser (or an
admin) approves or rejects it, which marks the invitation ``excused`` or not.

An "all staff" meeting also takes leave requests from staff bound after it was created: their
invitation row is added then, as their first scan would add it.

Which move is allowed from which status and by whom (a pending or approved request may be withdrawn
by its requester or rejected by the organiser or an admin, only a pending one approved) is
``LEAVE_TRANSITIONS`` in ``app.meetings.states``; the service works out the actor's roles on the
request and says a refusal in the domain's words. A double tap answers success: approving again
with the same note by the same decider, withdrawing again. Who may ask for leave, and until when, is
checked here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select, update

from app.core import audit, clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.pagination import PageParams, paginate
from app.core.statemachine import Fired, StateMachine
from app.meetings.models import Invitation, LeaveRequest, Meeting
from app.meetings.service.access import (
    NotOrganiser,
    admit,
    get_managed,
    get_visible,
    invitation,
    manages,
    open_to,
    roles_on,
)
from app.meetings.service.notices import (
    DETAIL_LINK,
    LEAVE_DECIDED,
    LEAVE_REQUESTED,
    LEAVES_LINK,
    message_data,
    when_text,
)
from app.meetings.service.timeline import MeetingEnded
from app.meetings.states import (
    LEAVE_LABELS,
    LEAVE_REQUEST_LABELS,
    LEAVE_TRANSITIONS,
    OPEN_LEAVE_STATUSES,
    LeaveStatus,
    MeetingStatus,
)
from app.notifications import service as notifications


class LeaveNotFound(NotFound):
    error_code = "meetings.leave_not_found"
    message = "请假申请不存在"


leave_machine = StateMachine(LeaveRequest, LEAVE_TRANSITIONS, entity="meeting_leave", labels=LEAVE_REQUEST_LABELS,
                             messages={"concurrent_change": "该请假申请已被处理，请刷新后重试"})


def open_leave(meeting_id: int, user_id: int) -> LeaveRequest | None:
    return db.session.scalar(select(LeaveRequest).where(
        LeaveRequest.meeting_id == meeting_id, LeaveRequest.user_id == user_id,
        LeaveRequest.status.in_([str(s) for s in OPEN_LEAVE_STATUSES])))


def leave_dict(leave: LeaveRequest) -> dict[str, Any]:
    return {"id": leave.id, "status": leave.status, "status_label": LEAVE_LABELS[LeaveStatus(leave.status)],
            "reason": leave.reason, "decision_note": leave.decision_note}


def request_leave(*, actor: Actor, meeting_id: int, reason: str) -> LeaveRequest:
    meeting = get_visible(actor=actor, meeting_id=meeting_id)
    inv = invitation(meeting.id, actor.user_id)
    if inv is None and not open_to(meeting, actor):
        raise Forbidden("meetings.not_invited", "你不在本次会议的参会名单中，无需请假")
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("meetings.cancelled", "会议已取消，无需请假")
    if clock.now() > meeting.checkin_closes_at:
        raise MeetingEnded("meetings.ended", "会议已结束，不能再请假")
    if inv is not None and inv.checked_in_at is not None:
        raise Conflict("meetings.already_checked_in", "你已签到，不能再请假")
    if open_leave(meeting.id, actor.user_id) is not None:
        raise Conflict("meetings.leave_exists", "你已提交过请假申请")
    if inv is None:  # an "all staff" meeting admits staff bound after it was created: their row, as a scan adds it
        inv = admit(meeting, actor)
    leave = LeaveRequest(meeting_id=meeting.id, user_id=actor.user_id, reason=reason.strip(),
                         status=str(LeaveStatus.PENDING))
    db.session.add(leave)
    db.session.flush()  # the partial unique index answers a simultaneous second request with 409
    audit.record("meeting_leave", leave.id, "request", actor_id=actor.user_id, after={"status": leave.status},
                 data={"meeting_id": meeting.id, "reason": leave.reason})
    notifications.notify(
        user_id=meeting.organiser_id, event=LEAVE_REQUESTED.event, title=f"请假申请：{inv.name}",
        body=f"{meeting.title}（{when_text(meeting)}）：{leave.reason}",
        data=message_data(meeting, requester=inv.name, reason=leave.reason),
        link=LEAVES_LINK.format(id=meeting.id), idempotency_key=f"meetings.leave_requested:{leave.id}")
    return leave


def _leave_for(actor: Actor, leave_id: int) -> tuple[LeaveRequest, Meeting]:
    leave = db.session.get(LeaveRequest, leave_id)
    meeting = db.session.get(Meeting, leave.meeting_id) if leave is not None else None
    if leave is None or meeting is None or not (leave.user_id == actor.user_id or manages(meeting, actor)):
        raise LeaveNotFound()
    return leave, meeting


def _set_excused(meeting_id: int, user_id: int, excused: bool) -> None:
    db.session.execute(update(Invitation).where(Invitation.meeting_id == meeting_id, Invitation.user_id == user_id)
                       .values(excused=excused))


def _fire(leave: LeaveRequest, meeting: Meeting, action: str, *, actor: Actor, refused: Forbidden,
          **kwargs: Any) -> Fired:
    """Fire ``action`` with the actor's roles on the request; a role the table does not allow is
    ``refused`` (``meetings.forbidden``, in the domain's words)."""
    roles = roles_on(actor, meeting, leave)
    transition = leave_machine.target(leave.status, action)
    if transition is not None and not transition.allows(roles):
        raise refused
    return leave_machine.fire(leave, action, actor_id=actor.user_id, roles=roles, **kwargs)


def decide_leave(*, actor: Actor, leave_id: int, approve: bool, note: str = "") -> LeaveRequest:
    leave, meeting = _leave_for(actor, leave_id)
    now = clock.now()
    fired = _fire(leave, meeting, "approve" if approve else "reject", actor=actor,
                  refused=NotOrganiser("meetings.forbidden", "只有会议组织者或管理员可以审批请假"),
                  values={"decided_by": actor.user_id, "decided_at": now, "decision_note": note or None},
                  data={"meeting_id": meeting.id, "note": note},
                  repeat={"decided_by": actor.user_id, "decision_note": note or None} if approve else None)
    if fired.ignored:
        return leave
    _set_excused(meeting.id, leave.user_id, approve)
    state = "已批准" if approve else "已驳回"
    notifications.notify(
        user_id=leave.user_id, event=LEAVE_DECIDED.event, title=f"请假{state}：{meeting.title}",
        body=note or f"{when_text(meeting)}，{meeting.location}",
        data=message_data(meeting, state=state, note=note or state), link=DETAIL_LINK.format(id=meeting.id),
        idempotency_key=f"meetings.leave_decided:{leave.id}:{leave.status}")
    return leave


def withdraw_leave(*, actor: Actor, leave_id: int) -> LeaveRequest:
    leave, meeting = _leave_for(actor, leave_id)
    fired = _fire(leave, meeting, "withdraw", actor=actor,
                  refused=Forbidden("meetings.forbidden", "只能撤回自己的请假申请"),
                  data={"meeting_id": meeting.id}, repeat=True)
    if not fired.ignored:
        _set_excused(meeting.id, leave.user_id, False)
    return leave


def leave_view(leave: LeaveRequest, meeting: Meeting | None = None, name: str | None = None) -> dict[str, Any]:
    meeting = meeting or db.session.get(Meeting, leave.meeting_id)
    if name is None:
        name = db.session.scalar(select(Invitation.name).where(Invitation.meeting_id == leave.meeting_id,
                                                               Invitation.user_id == leave.user_id)) or ""
    return {**leave_dict(leave), "meeting_id": leave.meeting_id, "meeting_title": meeting.title,
            "meeting_starts_at": meeting.starts_at, "user_id": leave.user_id, "name": name,
            "created_at": leave.created_at, "decided_at": leave.decided_at}


def list_leaves(*, actor: Actor, params: PageParams, meeting_id: int | None = None,
                status: str | None = None) -> list[dict[str, Any]]:
    """Leave requests of one meeting I manage, or of every meeting I organise (admins: all)."""
    stmt = (select(LeaveRequest, Meeting, Invitation.name)
            .join(Meeting, Meeting.id == LeaveRequest.meeting_id)
            .outerjoin(Invitation, and_(Invitation.meeting_id == LeaveRequest.meeting_id,
                                        Invitation.user_id == LeaveRequest.user_id))
            .order_by(LeaveRequest.id.desc()))
    if meeting_id is not None:
        stmt = stmt.where(LeaveRequest.meeting_id == get_managed(actor=actor, meeting_id=meeting_id).id)
    elif not actor.is_admin:
        stmt = stmt.where(Meeting.organiser_id == actor.user_id)
    if status:
        stmt = stmt.where(LeaveRequest.status == status)
    rows = paginate(stmt, params, scalars=False)
    return [leave_view(leave, meeting, name or "") for leave, meeting, name in rows]
