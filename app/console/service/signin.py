"""Signing in to the console: one-time codes and the console's login sessions.

* **扫码登录**: the sign-in page asks for a code (``create_login_code``); its token lives in Redis with
  ``LOGIN_CODE_SECONDS`` of validity (on ``app.core.clock``) and moves ``pending → scanned → confirmed →
  used`` (or ``rejected`` / ``refused``) by compare-and-set, so it works once. The mini-program scans
  (``scan``: who and where is asking) and confirms or rejects with its bearer token; only a console role
  may confirm. The browser that showed the code polls (``poll``); the first poll after the confirmation
  consumes the code and starts the session.
* **``flask console-link <工号>``** (bootstrap): a one-time link valid ``LINK_SECONDS`` (``create_link`` /
  ``sign_in_with_link``), consumed atomically (``GETDEL``).
* A console session is a login session of the auth domain without tokens (its id lives in the signed
  cookie): logging out, the idle timeout and a console role taken away end it with ``end``.
* Every sign-in, sign-out, refused sign-in and ended session writes an audit row on the user
  (``entity_type="user"``, actions ``console_*``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.auth import service as auth_service
from app.core import audit, clock
from app.core.auth import Actor
from app.core.errors import AppError, Conflict, Forbidden, NotFound
from app.core.redis import get_redis
from app.users import service as users_service

CONSOLE_ROLES = ("admin", "dispatcher", "finance", "canteen")
"""Who may use the console: the people who manage logistics (后勤管理员, 报修调度, 财务). Teachers,
workers and couriers do their work in the mini-program; canteen staff (食堂) have the canteen pages."""

LOGIN_CODE_SECONDS = 120
LINK_SECONDS = 600
_REDIS_TTL_SECONDS = 900  # Redis forgets a code after this (real time); validity is judged on the clock
_LOGIN_KEY = "console:login:"
_LINK_KEY = "console:link:"

PENDING, SCANNED, CONFIRMED, USED, REJECTED, REFUSED, EXPIRED = (
    "pending", "scanned", "confirmed", "used", "rejected", "refused", "expired")

# Compare-and-set on a code's hash: ARGV[1] the states it may be in (comma-separated), ARGV[2] a user id
# that must be the one who scanned it (or nobody has), then field/value pairs to write.
_CAS = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, ''} end
if not string.find(',' .. ARGV[1] .. ',', ',' .. state .. ',', 1, true) then return {0, state} end
if ARGV[2] ~= '' then
  local by = redis.call('HGET', KEYS[1], 'user_id')
  if by and by ~= '' and by ~= ARGV[2] then return {0, 'other'} end
end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {1, state}
"""


class CodeExpired(AppError):
    status, error_code, message = 410, "console.code_expired", "二维码已过期，请在电脑上刷新二维码后重新扫码"


class CodeUsed(Conflict):
    error_code, message = "console.code_used", "该二维码已使用，请在电脑上刷新二维码后重新扫码"


class CodeTaken(Conflict):
    error_code, message = "console.code_taken", "该二维码已被他人扫描"


class NotConsoleUser(Forbidden):
    error_code, message = "console.forbidden", "你没有管理后台的权限，如需开通请联系后勤处"
    keep_writes = True  # the refused sign-in is audited


class StaffNotFound(NotFound):
    error_code, message = "console.staff_not_found", "未找到该工号的在职教职工，或其尚未绑定微信"


def is_console_user(actor: Actor | None) -> bool:
    return actor is not None and actor.bound and actor.has_any(*CONSOLE_ROLES)


def _token() -> str:
    return secrets.token_urlsafe(24)


def valid_token(token: str) -> bool:
    """What ``_token`` makes: 32 URL-safe characters (anything else is an expired code, never a lookup)."""
    return len(token) == 32 and token.isascii() and all(c.isalnum() or c in "-_" for c in token)


def _stamp(when: datetime) -> str:
    return repr(when.timestamp())


def _time(stamp: str | bytes | None) -> datetime | None:
    return datetime.fromtimestamp(float(stamp), UTC) if stamp else None


# --- QR sign-in ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginCode:
    token: str
    expires_at: datetime


def create_login_code(*, ip: str | None, user_agent: str | None) -> LoginCode:
    now = clock.now()
    expires = now + timedelta(seconds=LOGIN_CODE_SECONDS)
    token = _token()
    key = _LOGIN_KEY + token
    pipe = get_redis().pipeline()
    pipe.hset(key, mapping={"state": PENDING, "expires_at": _stamp(expires), "requested_at": _stamp(now),
                            "ip": ip or "", "user_agent": (user_agent or "")[:200], "user_id": "", "name": ""})
    pipe.expire(key, _REDIS_TTL_SECONDS)
    pipe.execute()
    return LoginCode(token, expires)


def _code(token: str) -> dict[str, str] | None:
    """The code's fields, or None when it is unknown or past its validity."""
    if not valid_token(token):
        return None
    raw = get_redis().hgetall(_LOGIN_KEY + token)
    if not raw:
        return None
    code = {k.decode(): v.decode() for k, v in raw.items()}
    if clock.now() >= _time(code["expires_at"]):
        return None
    return code


def _cas(token: str, allowed: tuple[str, ...], by: int | None, **values: str) -> tuple[bool, str]:
    args: list[str] = [",".join(allowed), str(by or "")]
    for k, v in values.items():
        args += [k, v]
    ok, state = get_redis().eval(_CAS, 1, _LOGIN_KEY + token, *args)
    return bool(ok), state.decode() if isinstance(state, bytes) else str(state)


def _live_or_raise(token: str) -> dict[str, str]:
    code = _code(token)
    if code is None:
        raise CodeExpired()
    if code["state"] in (CONFIRMED, USED, REJECTED, REFUSED):
        raise CodeUsed()
    return code


def _refuse(actor: Actor, token: str, via: str) -> NotConsoleUser:
    # The browser is told (unless someone else scanned the code first: a refusal does not spoil theirs).
    _cas(token, (PENDING, SCANNED), actor.user_id, state=REFUSED, user_id=str(actor.user_id), name=actor.name)
    audit.record("user", actor.user_id, "console_sign_in_refused", actor_id=actor.user_id,
                 data={"via": via, "roles": sorted(actor.roles)})
    return NotConsoleUser()


def _move(actor: Actor, token: str, **values: str) -> None:
    ok, state = _cas(token, (PENDING, SCANNED), actor.user_id, user_id=str(actor.user_id), name=actor.name,
                     **values)
    if ok:
        return
    if state == "other":
        raise CodeTaken()
    if state == "":
        raise CodeExpired()
    raise CodeUsed()


@dataclass(frozen=True)
class ScanView:
    """What the mini-program shows before 确认登录: where the sign-in is asked from."""

    ip: str
    user_agent: str
    requested_at: datetime
    expires_at: datetime


def scan(*, actor: Actor, token: str) -> ScanView:
    code = _live_or_raise(token)
    if not is_console_user(actor):
        raise _refuse(actor, token, "qr")
    _move(actor, token, state=SCANNED)
    return ScanView(ip=code["ip"], user_agent=code["user_agent"], requested_at=_time(code["requested_at"]),
                    expires_at=_time(code["expires_at"]))


def confirm(*, actor: Actor, token: str) -> None:
    _live_or_raise(token)
    if not is_console_user(actor):
        raise _refuse(actor, token, "qr")
    _move(actor, token, state=CONFIRMED)


def reject(*, actor: Actor, token: str) -> None:
    _live_or_raise(token)
    _move(actor, token, state=REJECTED)
    audit.record("user", actor.user_id, "console_sign_in_rejected", actor_id=actor.user_id, data={"via": "qr"})


@dataclass(frozen=True)
class Poll:
    """What the waiting sign-in page shows; ``session_id``/``user_id`` once it is signed in."""

    state: str
    name: str = ""
    user_id: int | None = None
    session_id: str | None = None


def poll(*, token: str, ip: str | None, user_agent: str | None) -> Poll:
    code = _code(token)
    if code is None:
        return Poll(EXPIRED)
    if code["state"] != CONFIRMED:
        return Poll(code["state"], code["name"])
    ok, _ = _cas(token, (CONFIRMED,), None, state=USED)
    if not ok:
        return Poll(USED)
    user_id = int(code["user_id"])
    session_id = _start(user_id, via="qr", ip=ip, user_agent=user_agent)
    if session_id is None:
        return Poll(REFUSED, code["name"])
    return Poll(USED, code["name"], user_id, session_id)


def _start(user_id: int, *, via: str, ip: str | None, user_agent: str | None) -> str | None:
    """Start a console session for ``user_id`` if they still hold a console role (read now)."""
    actor = users_service.load_actor(user_id)
    if not is_console_user(actor):
        audit.record("user", user_id, "console_sign_in_refused", actor_id=user_id,
                     data={"via": via, "roles": sorted(actor.roles) if actor else []})
        return None
    session_id = auth_service.start_session(user_id=user_id, user_agent=user_agent, ip=ip)
    audit.record("user", user_id, "console_sign_in", actor_id=user_id,
                 data={"via": via, "session": session_id, "ip": ip})
    return session_id


# --- bootstrap link -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkCode:
    token: str
    user_id: int
    expires_at: datetime


def create_link(*, staff_number: str) -> LinkCode:
    """A one-time sign-in link for the staff member with ``staff_number`` (must hold a console role)."""
    user_id = users_service.user_id_of_staff(staff_number)
    if user_id is None:
        raise StaffNotFound()
    actor = users_service.load_actor(user_id)
    if not is_console_user(actor):
        audit.record("user", user_id, "console_sign_in_refused", actor_id=None,
                     data={"via": "link", "roles": sorted(actor.roles) if actor else []})
        raise NotConsoleUser("console.forbidden", "该教职工没有管理后台的角色（需要：后勤管理员、报修调度或财务）")
    expires = clock.now() + timedelta(seconds=LINK_SECONDS)
    token = _token()
    get_redis().set(_LINK_KEY + token, json.dumps({"user_id": user_id, "expires_at": expires.timestamp()}),
                    ex=_REDIS_TTL_SECONDS)
    audit.record("user", user_id, "console_link_issued", actor_id=None, data={"expires_at": expires.isoformat()})
    return LinkCode(token, user_id, expires)


def sign_in_with_link(*, token: str, ip: str | None, user_agent: str | None) -> tuple[int, str] | None:
    """Consume a link (once: ``GETDEL``) and start a session: ``(user_id, session_id)``, or None when the
    link is unknown, used, expired, or its staff member no longer holds a console role."""
    if not valid_token(token):
        return None
    raw = get_redis().getdel(_LINK_KEY + token)
    if raw is None:
        return None
    link = json.loads(raw)
    if clock.now().timestamp() >= link["expires_at"]:
        return None
    user_id = int(link["user_id"])
    session_id = _start(user_id, via="link", ip=ip, user_agent=user_agent)
    return (user_id, session_id) if session_id else None


# --- ending ------------------------------------------------------------------------------------------


def end(*, user_id: int, session_id: str, reason: str) -> None:
    """End a console session: ``logout``, ``idle`` or ``role_removed`` (audited)."""
    auth_service.end_session(session_id=session_id, reason=reason)
    action = "console_sign_out" if reason == "logout" else "console_session_end"
    audit.record("user", user_id, action, actor_id=user_id, data={"session": session_id, "reason": reason})
