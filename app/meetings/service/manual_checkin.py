"""Checking in by hand: the organiser (or an admin) checks someone in whose phone cannot scan, or
takes a check-in back; each is a scan row (``via`` manual, with its author and reason) and an
audit event.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select

from app.core import audit, clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Conflict, NotFound
from app.meetings.models import Invitation, Meeting, Scan
from app.meetings.service.access import get_managed
from app.meetings.states import MeetingStatus, ScanAction, ScanVia


class AttendeeNotFound(NotFound):
    error_code = "meetings.attendee_not_found"
    message = "此人不在本次会议的参会名单中"


def _attendee_for_update(meeting: Meeting, user_id: int) -> Invitation:
    inv = db.session.scalar(select(Invitation).where(Invitation.meeting_id == meeting.id,
                                                     Invitation.user_id == user_id).with_for_update())
    if inv is None:
        raise AttendeeNotFound()
    return inv


def _manual_scan(meeting: Meeting, user_id: int, action: ScanAction, actor: Actor, reason: str, late: bool,
                 now: datetime) -> None:
    db.session.add(Scan(meeting_id=meeting.id, user_id=user_id, nonce=f"manual-{secrets.token_hex(12)}",
                        action=str(action), via=str(ScanVia.MANUAL), result="ok", late=late,
                        recorded_by=actor.user_id, note=reason, created_at=now))


def manual_check_in(*, actor: Actor, meeting_id: int, user_id: int, reason: str) -> Invitation:
    """The organiser checks someone in by hand (phone flat, forgot it …); audited with the reason."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("meetings.cancelled", "会议已取消")
    inv = _attendee_for_update(meeting, user_id)
    if inv.checked_in_at is not None:
        raise Conflict("meetings.already_checked_in", "此人已签到")
    now = clock.now()
    late = now > meeting.late_at
    _manual_scan(meeting, user_id, ScanAction.CHECK_IN, actor, reason, late, now)
    inv.checked_in_at, inv.late, inv.check_in_via = now, late, str(ScanVia.MANUAL)
    db.session.flush()
    audit.record("meeting_attendance", inv.id, "manual_check_in", actor_id=actor.user_id,
                 before={"checked_in_at": None}, after={"checked_in_at": now.isoformat(), "late": late},
                 data={"meeting_id": meeting.id, "user_id": user_id, "reason": reason})
    return inv


def undo_check_in(*, actor: Actor, meeting_id: int, user_id: int, reason: str) -> Invitation:
    """Take a check-in back (a colleague scanned for someone absent …); audited with the reason."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    inv = _attendee_for_update(meeting, user_id)
    if inv.checked_in_at is None:
        raise Conflict("meetings.not_checked_in", "此人尚未签到")
    before = {"checked_in_at": inv.checked_in_at.isoformat(), "late": inv.late, "via": inv.check_in_via,
              "signed_out_at": inv.signed_out_at.isoformat() if inv.signed_out_at else None}
    now = clock.now()
    _manual_scan(meeting, user_id, ScanAction.UNDO, actor, reason, False, now)
    inv.checked_in_at, inv.late, inv.check_in_via, inv.signed_out_at = None, False, None, None
    db.session.flush()
    audit.record("meeting_attendance", inv.id, "undo_check_in", actor_id=actor.user_id, before=before,
                 after={"checked_in_at": None}, data={"meeting_id": meeting.id, "user_id": user_id, "reason": reason})
    return inv
