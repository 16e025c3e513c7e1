"""Checking in by scanning: a phone's scan of a code checks its owner in (or signs them out) — the hot
path; and the meeting's scan log. The organiser's corrections by hand are ``manual_checkin``.

* **The check-in answer** is HTTP 200 ``{"status": "ok"|"error", "reason", "message", "late"}`` for
  every business outcome, because the scan page shows it as a result, not an error toast; malformed
  requests (no token, no nonce) stay 422 envelopes. Reasons are ``states.Reason``.
* **The hot path** (``scan``) verifies the token with an HMAC (no query), then does one SELECT
  (the nonce's earlier answer, the meeting and the person's invitation, outer-joined) and one
  atomic write: a check-in is a single statement whose first CTE up-serts the invitation with
  ``… DO UPDATE … WHERE checked_in_at IS NULL`` and whose second inserts the scan row with the
  outcome (``ON CONFLICT (user_id, nonce) DO NOTHING``). Two simultaneous scans by one person: the
  second waits on the row lock, finds the person in and records ``already_checked_in`` — one
  check-in. A retried nonce finds its first answer and writes nothing. Statements are built once at
  import and run on the session's connection (Core): building and ORM-compiling them per request cost
  more than the database work. A refusal is one INSERT.
  The common scans — a good rotating token of an open meeting without a geofence, by an invitee,
  first or "did it work?" — skip the SELECT: one statement (``_FAST_CHECK_IN``) checks the meeting
  and the nonce in SQL, checks the person in or records ``already_checked_in``, and returns what
  the answer needs. When its conditions do not hold it writes nothing and the general path above
  judges the scan, so every other answer, and its reason, comes from one place (``_judge``).
* **Geofence** is checked server-side when the meeting has one, on every scan; the location comes from
  the phone (``wx.getLocation``, GCJ-02 like ``wx.chooseLocation`` the organiser used), so it deters
  rather than proves. A static door code requires it (database check too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert

from app.core import clock
from app.core.auth import Actor
from app.core.db import bound_insert, db
from app.core.pagination import PageParams, paginate
from app.meetings import tokens
from app.meetings.models import Invitation, Meeting, Scan
from app.meetings.service.access import get_managed, invitation, roster_number
from app.meetings.service.codes import secret
from app.meetings.states import (
    LOCATION_NEEDED_MESSAGE,
    OK_MESSAGES,
    REASON_MESSAGES,
    SIGN_OUT_GRACE_MINUTES,
    MeetingStatus,
    Reason,
    ScanAction,
    ScanVia,
)

DEVICE_KEYS = ("brand", "model", "system", "platform", "version", "SDKVersion")


@dataclass
class Answer:
    status: str  # "ok" | "error"
    reason: str | None
    message: str
    action: str
    late: bool
    meeting: dict[str, Any] | None
    checked_in_at: datetime | None
    signed_out_at: datetime | None
    scanned_at: datetime
    replayed: bool = False


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine), metres."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


def _device(device: dict[str, Any] | None, user_agent: str | None) -> dict[str, Any] | None:
    out = {k: str(device[k])[:64] for k in DEVICE_KEYS if device and device.get(k) is not None}
    if user_agent:
        out["user_agent"] = user_agent[:200]
    return out or None


def _where_from(location: dict[str, Any] | None, device: dict[str, Any] | None, user_agent: str | None,
                ip: str | None) -> dict[str, Any]:
    """The scan row's record of where the phone said it was and what it was."""
    return {"latitude": location["latitude"] if location else None,
            "longitude": location["longitude"] if location else None,
            "accuracy_m": location.get("accuracy") if location else None,
            "device": _device(device, user_agent), "ip": ip}


def _hhmm(value: datetime) -> str:
    local = clock.to_local(value)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _message(reason: str | None, action: str, late: bool, meeting: Any, *, had_location: bool,
             checked_in_at: datetime | None) -> str:
    if reason is None:
        return OK_MESSAGES[(ScanAction(action), late)]
    reason = Reason(reason)
    text = REASON_MESSAGES[reason]
    if reason == Reason.OUT_OF_RANGE and not had_location:
        return LOCATION_NEEDED_MESSAGE
    if reason == Reason.TOO_EARLY and meeting is not None:
        opens = meeting.starts_at if action == ScanAction.SIGN_OUT else meeting.checkin_opens_at
        return f"{text}（{_hhmm(opens)} 开始）"
    if reason == Reason.ALREADY_CHECKED_IN and checked_in_at is not None:
        return f"你已于 {_hhmm(checked_in_at)} 签到，无需重复扫码"
    return text


def _meeting_brief(m: Any) -> dict[str, Any] | None:
    if m is None or m.id is None:
        return None
    return {"id": m.id, "title": m.title, "location": m.location, "starts_at": m.starts_at, "ends_at": m.ends_at}


_HOT_MEETING = (Meeting.id, Meeting.title, Meeting.location, Meeting.status, Meeting.starts_at, Meeting.ends_at,
                Meeting.checkin_opens_at, Meeting.late_at, Meeting.checkin_closes_at, Meeting.geofence_lat,
                Meeting.geofence_lng, Meeting.geofence_radius_m, Meeting.allow_static_code,
                Meeting.sign_out_enabled,
                func.coalesce(Meeting.audience["all_staff"].as_boolean(), false()).label("all_staff"))
_HOT_KEYS = tuple(c.key for c in _HOT_MEETING)


@dataclass
class _Seen:
    """What the one SELECT of the hot path found."""

    meeting: Any  # a Row of _HOT_MEETING columns, or None
    invitation_id: int | None
    checked_in_at: datetime | None
    signed_out_at: datetime | None
    earlier: Any  # the stored scan of this nonce, or None


def _look_statement(on_meeting) -> Select:
    one = select(literal(1).label("one")).subquery()
    uid = bindparam("user_id", type_=BigInteger)
    return (
        select(*_HOT_MEETING, Invitation.id, Invitation.checked_in_at, Invitation.signed_out_at,
               Scan.id, Scan.meeting_id, Scan.action, Scan.result, Scan.reason, Scan.late, Scan.latitude,
               Scan.created_at)
        .select_from(one)
        .outerjoin(Meeting, on_meeting)
        .outerjoin(Invitation, and_(Invitation.meeting_id == Meeting.id, Invitation.user_id == uid))
        .outerjoin(Scan, and_(Scan.user_id == uid, Scan.nonce == bindparam("nonce", type_=String)))
    )


# Built once (the hot path): by meeting id (a rotating token), by code (a door code), or no meeting.


_LOOK_BY_ID = _look_statement(Meeting.id == bindparam("meeting_id", type_=BigInteger))
_LOOK_BY_CODE = _look_statement(Meeting.code == bindparam("code", type_=String))
_LOOK_NONCE_ONLY = _look_statement(false())
_EARLIER = ("id", "meeting_id", "action", "result", "reason", "late", "latitude", "created_at")


def _look(user_id: int, nonce: str, meeting_id: int | None, code: str | None) -> _Seen:
    """One round trip: the meeting, the person's invitation and this nonce's earlier scan, if any."""
    params: dict[str, Any] = {"user_id": user_id, "nonce": nonce}
    if meeting_id is not None:
        stmt, params["meeting_id"] = _LOOK_BY_ID, meeting_id
    elif code is not None:
        stmt, params["code"] = _LOOK_BY_CODE, code
    else:
        stmt = _LOOK_NONCE_ONLY
    row = db.session.connection().execute(stmt, params).one()
    n = len(_HOT_MEETING)
    meeting = _Row(zip(_HOT_KEYS, row[:n], strict=True)) if row[0] is not None else None
    earlier = _Row(zip(_EARLIER, row[n + 3:], strict=True)) if row[n + 3] is not None else None
    return _Seen(meeting, row[n], row[n + 1], row[n + 2], earlier)


class _Row(dict):
    __getattr__ = dict.__getitem__


def _replay(seen: _Seen, user_id: int) -> Answer:
    """The first answer to this nonce, rebuilt from its stored scan row; nothing is written."""
    e = seen.earlier
    meeting = seen.meeting if seen.meeting is not None and seen.meeting.id == e.meeting_id else None
    if meeting is None and e.meeting_id is not None:
        m = db.session.get(Meeting, e.meeting_id)
        meeting = m
    inv = invitation(e.meeting_id, user_id) if e.meeting_id is not None else None
    return Answer(
        status=e.result, reason=e.reason, action=e.action, late=bool(e.late),
        message=_message(e.reason, e.action, bool(e.late), meeting, had_location=e.latitude is not None,
                         checked_in_at=inv.checked_in_at if inv else None),
        meeting=_meeting_brief(meeting), checked_in_at=inv.checked_in_at if inv else None,
        signed_out_at=inv.signed_out_at if inv else None, scanned_at=e.created_at, replayed=True)


def _judge(seen: _Seen, actor: Actor, action: ScanAction, via: ScanVia, token_problem: str | None,
           location: dict[str, Any] | None, now: datetime) -> tuple[str | None, bool, float | None]:
    """(reason or None for ok, late, distance) — the rules in order, first refusal wins."""
    m = seen.meeting
    if token_problem == "invalid" or m is None:
        return Reason.INVALID_TOKEN, False, None
    if token_problem == "expired":
        return Reason.EXPIRED_TOKEN, False, None
    if via == ScanVia.STATIC and not m.allow_static_code:
        return Reason.INVALID_TOKEN, False, None
    if action == ScanAction.SIGN_OUT and not m.sign_out_enabled:
        return Reason.INVALID_TOKEN, False, None
    if m.status == MeetingStatus.CANCELLED:
        return Reason.CANCELLED, False, None
    if seen.invitation_id is None and not (m.all_staff and actor.staff_id is not None):
        return Reason.NOT_INVITED, False, None
    if action == ScanAction.CHECK_IN:
        if seen.checked_in_at is not None:
            return Reason.ALREADY_CHECKED_IN, False, None
        if now < m.checkin_opens_at:
            return Reason.TOO_EARLY, False, None
        if now > m.checkin_closes_at:
            return Reason.CLOSED, False, None
    else:
        if seen.checked_in_at is None:
            return Reason.NOT_CHECKED_IN, False, None
        if seen.signed_out_at is not None:
            return Reason.ALREADY_SIGNED_OUT, False, None
        if now < m.starts_at:
            return Reason.TOO_EARLY, False, None
        if now > m.ends_at + timedelta(minutes=SIGN_OUT_GRACE_MINUTES):
            return Reason.CLOSED, False, None
    distance = None
    if m.geofence_radius_m is not None:
        if not location:
            return Reason.OUT_OF_RANGE, False, None
        distance = distance_m(m.geofence_lat, m.geofence_lng, location["latitude"], location["longitude"])
        if distance > m.geofence_radius_m:
            return Reason.OUT_OF_RANGE, False, distance
    late = action == ScanAction.CHECK_IN and now > m.late_at
    return None, late, distance


def scan(*, actor: Actor, nonce: str, token: str | None = None, code: str | None = None,
         location: dict[str, Any] | None = None, device: dict[str, Any] | None = None,
         ip: str | None = None, user_agent: str | None = None) -> Answer:
    """A scan of a rotating token (``token``) or of a static door code (``code``): check in, or sign
    out when the code was shown in sign-out mode. Always answers; every first answer is a scan row."""
    now = clock.now()
    db.session.flush()  # the hot path talks to the connection directly (Core, no ORM overhead)
    if token is not None:
        verified = tokens.verify(secret(), token, now)
        via, action, problem, meeting_id = ScanVia.ROTATING, verified.purpose or ScanAction.CHECK_IN, \
            verified.problem, verified.meeting_id
        if problem is None and action == ScanAction.CHECK_IN:
            fast = _fast_check_in(actor, nonce, meeting_id, location, device, ip, user_agent, now)
            if fast is not None:
                return fast
        seen = _look(actor.user_id, nonce, meeting_id if problem != "invalid" else None, None)
    else:
        via, action, problem = ScanVia.STATIC, ScanAction.CHECK_IN, None
        seen = _look(actor.user_id, nonce, None, (code or "").strip().upper())
    if seen.earlier is not None:
        return _replay(seen, actor.user_id)

    reason, late, distance = _judge(seen, actor, action, via, problem, location, now)
    m = seen.meeting
    scan_values = {
        "meeting_id": m.id if m is not None else None, "user_id": actor.user_id, "nonce": nonce,
        "action": str(action), "via": str(via), "result": "ok" if reason is None else "error",
        "reason": str(reason) if reason else None, "late": late, "distance_m": distance,
        **_where_from(location, device, user_agent, ip), "created_at": now,
    }
    checked_in_at, signed_out_at = seen.checked_in_at, seen.signed_out_at
    if reason is None and action == ScanAction.CHECK_IN:
        scan_id, won = _check_in_statement(scan_values, m.id, actor, late, via, now, seen.invitation_id is None)
        if scan_id is None:
            return _replay(_look(actor.user_id, nonce, None, None), actor.user_id)
        if won:
            checked_in_at = now
        else:  # a simultaneous scan (or the organiser) checked this person in first; the row says so
            reason, late = Reason.ALREADY_CHECKED_IN, False
            checked_in_at = _checked_in_at(m.id, actor.user_id)
    else:
        scan_id = db.session.connection().execute(_INSERT_SCAN, scan_values).scalar_one_or_none()
        if scan_id is None:
            return _replay(_look(actor.user_id, nonce, None, None), actor.user_id)
        if reason is None:  # sign-out
            done = db.session.execute(
                update(Invitation).where(Invitation.meeting_id == m.id, Invitation.user_id == actor.user_id,
                                         Invitation.checked_in_at.is_not(None), Invitation.signed_out_at.is_(None))
                .values(signed_out_at=now)).rowcount
            if done:
                signed_out_at = now
            else:
                reason = Reason.ALREADY_SIGNED_OUT
                _correct(scan_id, reason)
    return _answer(reason, action, late, m, had_location=bool(location), checked_in_at=checked_in_at,
                   signed_out_at=signed_out_at, now=now)


def _answer(reason: Reason | None, action: ScanAction, late: bool, meeting: Any, *, had_location: bool,
            checked_in_at: datetime | None, signed_out_at: datetime | None, now: datetime) -> Answer:
    """The answer to a scan just judged and written (``_replay`` rebuilds one from its row)."""
    return Answer(
        status="ok" if reason is None else "error", reason=str(reason) if reason else None, action=str(action),
        late=late, message=_message(reason, action, late, meeting, had_location=had_location,
                                    checked_in_at=checked_in_at),
        meeting=_meeting_brief(meeting), checked_in_at=checked_in_at, signed_out_at=signed_out_at, scanned_at=now)


def _checked_in_at(meeting_id: int, user_id: int) -> datetime | None:
    """When the person got in — read after losing a race to a simultaneous scan (the row is committed)."""
    return db.session.scalar(select(Invitation.checked_in_at).where(Invitation.meeting_id == meeting_id,
                                                                      Invitation.user_id == user_id))


_SCAN_COLUMNS = ("meeting_id", "user_id", "nonce", "action", "via", "result", "reason", "late", "latitude",
                 "longitude", "accuracy_m", "distance_m", "device", "ip", "created_at")
_INSERT_SCAN = (bound_insert(Scan, _SCAN_COLUMNS)
                .on_conflict_do_nothing(index_elements=["user_id", "nonce"]).returning(Scan.id))
"""Every scan row (prebuilt: the hot path)."""


def _build_check_in() -> Select:
    """One atomic statement: check the person in unless they already are (``a``: an upsert whose
    update only happens while ``checked_in_at IS NULL``; the row lock makes a simultaneous second
    scan wait and then find it done), then record the scan with what really happened (``s``: ``ok``
    if ``a`` won, else ``already_checked_in``; a nonce that raced in meanwhile inserts nothing)."""
    inv = Invitation.__table__.c
    fields = ("meeting_id", "user_id", "name", "number", "department_id", "checked_in_at", "late", "check_in_via",
              "created_at")
    ins = insert(Invitation).from_select(
        list(fields), select(*(bindparam(f"inv_{f}", type_=inv[f].type) for f in fields)))
    a = ins.on_conflict_do_update(
        index_elements=["meeting_id", "user_id"],
        set_={"checked_in_at": ins.excluded.checked_in_at, "late": ins.excluded.late,
              "check_in_via": ins.excluded.check_in_via},
        where=Invitation.checked_in_at.is_(None),
    ).returning(Invitation.id).cte("a")
    won = exists(select(a.c.id))
    sc = Scan.__table__.c
    values = {c: bindparam(c, type_=sc[c].type) for c in _SCAN_COLUMNS}
    values["result"] = case((won, literal("ok")), else_=literal("error"))
    values["reason"] = case((won, null()), else_=literal(str(Reason.ALREADY_CHECKED_IN)))
    values["late"] = and_(won, bindparam("late", type_=sc["late"].type))
    s = (insert(Scan).from_select(list(values), select(*values.values()))
         .on_conflict_do_nothing(index_elements=["user_id", "nonce"]).returning(Scan.id).cte("s"))
    return select(select(s.c.id).scalar_subquery(), select(a.c.id).scalar_subquery())


_CHECK_IN = _build_check_in()


def _build_fast_check_in() -> Select:
    """The common scan in one statement (see the module docstring): ``m`` is the meeting only if a
    check-in is open on it now without a geofence, ``inv`` the person's invitation to it, ``fresh``
    whether the nonce is new; ``a`` checks the person in (the row lock serialises simultaneous
    scans as in ``_CHECK_IN``) and ``s`` records the scan, ``ok`` or ``already_checked_in``. With
    any condition unmet nothing is written and no row comes back. Every bind is named ``p_…``: an
    UPDATE would take an execution parameter named like one of its table's columns as a SET value."""
    now = bindparam("p_now", type_=Meeting.__table__.c.starts_at.type)
    uid = bindparam("p_user_id", type_=BigInteger)
    m = (select(Meeting.id, Meeting.title, Meeting.location, Meeting.starts_at, Meeting.ends_at, Meeting.late_at)
         .where(Meeting.id == bindparam("p_meeting_id", type_=BigInteger),
                Meeting.status != str(MeetingStatus.CANCELLED),
                Meeting.checkin_opens_at <= now, Meeting.checkin_closes_at >= now,
                Meeting.geofence_radius_m.is_(None))
         .cte("m"))
    inv = (select(Invitation.id, Invitation.checked_in_at, Invitation.signed_out_at)
           .where(Invitation.meeting_id == m.c.id, Invitation.user_id == uid).cte("inv"))
    fresh = select((~exists().where(Scan.user_id == uid, Scan.nonce == bindparam("p_nonce", type_=String)))
                   .label("ok")).cte("fresh")
    is_fresh = select(fresh.c.ok).scalar_subquery()
    a = (update(Invitation)
         .where(Invitation.meeting_id == m.c.id, Invitation.user_id == uid, Invitation.checked_in_at.is_(None),
                is_fresh)
         .values(checked_in_at=now, late=now > m.c.late_at, check_in_via=str(ScanVia.ROTATING))
         .returning(Invitation.id, Invitation.late).cte("a"))
    won = exists(select(a.c.id))
    sc = Scan.__table__.c
    values = {c: bindparam(f"p_{c}", type_=sc[c].type) for c in _SCAN_COLUMNS}
    values["result"] = case((won, literal("ok")), else_=literal("error"))
    values["reason"] = case((won, null()), else_=literal(str(Reason.ALREADY_CHECKED_IN)))
    values["late"] = func.coalesce(select(a.c.late).scalar_subquery(), false())
    s = (insert(Scan).from_select(list(values), select(*values.values()).where(is_fresh, exists(select(inv.c.id))))
         .on_conflict_do_nothing(index_elements=["user_id", "nonce"])
         .returning(Scan.id, Scan.result, Scan.late).cte("s"))
    return (select(s.c.id, s.c.result, s.c.late, inv.c.checked_in_at, inv.c.signed_out_at,
                   m.c.id, m.c.title, m.c.location, m.c.starts_at, m.c.ends_at)
            .select_from(s).join(inv, true()).join(m, true()))


_FAST_CHECK_IN = _build_fast_check_in()
_BRIEF_KEYS = ("id", "title", "location", "starts_at", "ends_at")


def _fast_check_in(actor: Actor, nonce: str, meeting_id: int, location: dict[str, Any] | None,
                   device: dict[str, Any] | None, ip: str | None, user_agent: str | None,
                   now: datetime) -> Answer | None:
    """``_FAST_CHECK_IN``: the answer, or None when the general path must judge the scan."""
    values = {
        "meeting_id": meeting_id, "user_id": actor.user_id, "nonce": nonce, "now": now,
        "action": str(ScanAction.CHECK_IN), "via": str(ScanVia.ROTATING), "distance_m": None,
        **_where_from(location, device, user_agent, ip), "created_at": now,
    }
    params = {f"p_{key}": value for key, value in values.items()}
    row = db.session.connection().execute(_FAST_CHECK_IN, params).first()
    if row is None:
        return None
    _scan_id, result, late, checked_in_at, signed_out_at, *brief = row
    meeting = _Row(zip(_BRIEF_KEYS, brief, strict=True))
    reason = None if result == "ok" else Reason.ALREADY_CHECKED_IN
    if reason is None:
        checked_in_at = now
    elif checked_in_at is None:  # a simultaneous scan checked this person in after our snapshot
        checked_in_at = _checked_in_at(meeting_id, actor.user_id)
    return _answer(reason, ScanAction.CHECK_IN, bool(late), meeting, had_location=bool(location),
                   checked_in_at=checked_in_at, signed_out_at=signed_out_at, now=now)


def _check_in_statement(scan_values: dict[str, Any], meeting_id: int, actor: Actor, late: bool, via: ScanVia,
                        now: datetime, new_invitee: bool) -> tuple[int | None, bool]:
    """One round trip (``_CHECK_IN``). Returns (scan id, or None when the nonce exists already; whether
    this scan checked the person in)."""
    number = roster_number(actor.user_id) if new_invitee else None  # "all staff", bound after it was created
    params = {**scan_values, "inv_meeting_id": meeting_id, "inv_user_id": actor.user_id,
              "inv_name": actor.name or "-", "inv_number": number, "inv_department_id": actor.department_id,
              "inv_checked_in_at": now, "inv_late": late, "inv_check_in_via": str(via), "inv_created_at": now}
    scan_id, invitation_id = db.session.connection().execute(_CHECK_IN, params).one()
    return scan_id, invitation_id is not None


def _correct(scan_id: int, reason: Reason) -> None:
    """Our own scan row, not yet committed: the race was lost, record what the person was told."""
    db.session.execute(update(Scan).where(Scan.id == scan_id).values(result="error", reason=str(reason), late=False))


def list_scans(*, actor: Actor, meeting_id: int, params: PageParams, result: str | None = None) -> list[Scan]:
    """The meeting's scan log, newest first (refused scans included)."""
    meeting = get_managed(actor=actor, meeting_id=meeting_id)
    stmt = select(Scan).where(Scan.meeting_id == meeting.id).order_by(Scan.id.desc())
    if result:
        stmt = stmt.where(Scan.result == result)
    return paginate(stmt, params)
