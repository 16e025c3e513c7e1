"""The codes people scan: the rotating QR on the organiser's phone, a login-free projector link that
shows it on a big screen, and the printed door code (it never changes, so it is only offered for
meetings with a geofence). The token inside the rotating QR is ``app.meetings.tokens``; links, QR
images and the printable code (WeChat's mini-program code, or a plain QR code when WeChat cannot
make one) come from ``app.wechat.codes``, like every other domain's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from app.core import audit, clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.meetings import tokens
from app.meetings.models import Meeting
from app.meetings.service.access import get_managed
from app.meetings.service.attendance_report import counts
from app.meetings.service.timeline import phase
from app.meetings.states import PURPOSE_CODES, SIGN_OUT_GRACE_MINUTES, SLOT_SECONDS, MeetingStatus, ScanAction
from app.wechat import codes as wechat_codes

CHECKIN_PAGE = "packageMeetings/pages/checkin/checkin"
PROJECTOR_AUDIENCE = "meetings.projector"


def secret() -> str:
    return current_app.config["SECRET_KEY"]


def qr_link(token: str, *, geofenced: bool = False) -> str:
    """What the rotating QR encodes. ``g=1`` tells the scan page to fetch the phone's location before
    sending (the server checks it); without it the page does not ask for location at all."""
    return wechat_codes.link(f"checkin?t={token}" + ("&g=1" if geofenced else ""))


def _check_purpose(meeting: Meeting, purpose: str) -> ScanAction:
    action = ScanAction(purpose)
    if action == ScanAction.SIGN_OUT and not meeting.sign_out_enabled:
        raise Conflict("meetings.sign_out_disabled", "本会议未开启签退")
    if action not in (ScanAction.CHECK_IN, ScanAction.SIGN_OUT):
        raise ValidationFailed(errors={"purpose": ["应为 check_in 或 sign_out"]})
    return action


def _qr_payload(meeting: Meeting, purpose: ScanAction) -> dict[str, Any]:
    now = clock.now()
    slot = tokens.slot_of(now)
    token = tokens.make_token(secret(), meeting.id, slot, purpose)
    link = qr_link(token, geofenced=meeting.has_geofence)
    next_change = datetime.fromtimestamp(tokens.slot_ends(slot), tz=now.tzinfo)
    until_change_ms = max(int((next_change - now).total_seconds() * 1000), 0)
    return {
        "meeting_id": meeting.id, "title": meeting.title, "purpose": str(purpose), "token": token, "link": link,
        "image": wechat_codes.qr_data_uri(link), "slot": slot, "slot_seconds": SLOT_SECONDS,
        "changes_at": next_change, "valid_until": next_change + timedelta(seconds=SLOT_SECONDS),
        # poll at least every 5 s for the live count, and right after the code changes
        "refresh_in_ms": min(until_change_ms + 200, 5000),
        "server_time": now, "phase": phase(meeting, now), "status": meeting.status,
        "counts": counts(meeting.id),
    }


def rotating_qr(*, actor: Actor, meeting_id: int, purpose: str = ScanAction.CHECK_IN) -> dict[str, Any]:
    """The current rotating token and its QR image, for the organiser's phone."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("meetings.cancelled", "会议已取消")
    return _qr_payload(meeting, _check_purpose(meeting, purpose))


def _projector_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(secret(), salt=PROJECTOR_AUDIENCE)


def projector_key(*, actor: Actor, meeting_id: int, purpose: str = ScanAction.CHECK_IN) -> dict[str, Any]:
    """A link for a projector or a browser on a big screen: it shows the rotating code (no names) until
    sign-out closes, without a login. Anyone holding it can display the code, which is no more than
    standing in the room."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    action = _check_purpose(meeting, purpose)
    key = _projector_serializer().dumps({"m": meeting.id, "p": PURPOSE_CODES[action], "e": meeting.projector_epoch})
    audit.record("meeting", meeting.id, "projector_link", actor_id=actor.user_id, data={"purpose": str(action)})
    return {"key": key, "path": f"/api/v1/meetings/projector/{key}", "expires_at": _projector_expiry(meeting)}


def revoke_projector_links(*, actor: Actor, meeting_id: int) -> None:
    """Every projector link handed out for this meeting stops working at once (a link shared too
    widely, a screen left on); a new one can be asked for afterwards. Audited."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id, lock=True)
    meeting.projector_epoch += 1
    db.session.flush()
    audit.record("meeting", meeting.id, "projector_links_revoked", actor_id=actor.user_id,
                 data={"epoch": meeting.projector_epoch})


def _projector_expiry(meeting: Meeting) -> datetime:
    return max(meeting.checkin_closes_at, meeting.ends_at + timedelta(minutes=SIGN_OUT_GRACE_MINUTES))


def projector_qr(*, key: str) -> dict[str, Any]:
    try:
        payload = _projector_serializer().loads(key)
    except BadData as exc:
        raise NotFound("meetings.projector_not_found", "投屏链接无效") from exc
    purposes = {code: action for action, code in PURPOSE_CODES.items()}
    purpose = purposes.get(payload.get("p")) if isinstance(payload, dict) else None
    meeting = db.session.get(Meeting, payload.get("m")) if purpose is not None else None
    if meeting is None:
        raise NotFound("meetings.projector_not_found", "投屏链接无效")
    if payload.get("e", 0) != meeting.projector_epoch:
        raise Forbidden("meetings.projector_revoked", "投屏链接已被组织者撤销，请向组织者索取新链接")
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("meetings.cancelled", "会议已取消")
    if clock.now() > _projector_expiry(meeting):
        raise Forbidden("meetings.projector_expired", "会议已结束，投屏链接已失效")
    return _qr_payload(meeting, _check_purpose(meeting, purpose))


def static_code(*, actor: Actor, meeting_id: int, prefer: str = "wechat") -> wechat_codes.Image:
    """The printable door code: a mini-program code whose scene is ``m=<meeting code>`` (or, when WeChat
    cannot make one, a plain QR code of the same page's link). It never changes, so it is only offered
    for meetings with a geofence (checked at every scan)."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    if not meeting.allow_static_code:
        raise Conflict("meetings.static_code_disabled", "本会议未开启固定签到码（需要先设置签到范围）")
    audit.record("meeting", meeting.id, "static_code", actor_id=actor.user_id)
    return wechat_codes.printable(scene=f"m={meeting.code}", page=CHECKIN_PAGE,
                                  fallback_path=f"checkin?m={meeting.code}", prefer=prefer)
