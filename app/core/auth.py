"""Who is asking: access tokens, the current actor, role checks and object-level access.

* Access tokens are short-lived JWTs (HS256, ``SECRET_KEY``) carrying the user id and the login
  session id. Roles are *not* trusted from the token: every request loads the actor through the
  loader the auth domain registers (``init_auth``), so a role taken away or a session logged out
  takes effect at once.
* Views call ``current_actor()``; services receive the ``Actor`` explicitly and check it with
  ``require_roles`` / ``visible_or_404``. A foreign object answers 404, never someone else's data.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
from flask import Flask, current_app, g, request

from app.core import clock
from app.core.errors import Forbidden, NotFound, Unauthorized

ROLES = ("teacher", "student", "parent", "worker", "dispatcher", "canteen", "courier", "finance", "admin")
ROLE_LABELS = {
    "teacher": "教职工",
    "student": "学生",
    "parent": "家长",
    "worker": "维修工",
    "dispatcher": "报修调度",
    "canteen": "食堂",
    "courier": "快递员",
    "finance": "财务",
    "admin": "后勤管理员",
}
_ALGORITHM = "HS256"
_LOADER_KEY = "actor_loader"


@dataclass(frozen=True)
class Actor:
    """The person behind a request or a job, as services see them."""

    user_id: int
    roles: frozenset[str] = field(default_factory=frozenset)
    bound: bool = False
    name: str = ""
    session_id: str | None = None
    staff_id: int | None = None
    student_id: int | None = None
    department_id: int | None = None
    class_id: int | None = None
    child_student_ids: frozenset[int] = field(default_factory=frozenset)

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


ActorLoader = Callable[[int, str | None], "Actor | None"]


def init_auth(app: Flask, loader: ActorLoader) -> None:
    """Register how a token's (user id, session id) becomes an Actor (None = no longer valid)."""
    app.extensions[_LOADER_KEY] = loader


def issue_access_token(user_id: int, session_id: str, ttl: int | None = None) -> tuple[str, int]:
    ttl = ttl or current_app.config["ACCESS_TOKEN_TTL"]
    now = clock.now()
    claims = {"sub": str(user_id), "sid": session_id, "typ": "access", "iat": now, "exp": now + timedelta(seconds=ttl)}
    return jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm=_ALGORITHM), ttl


class InvalidToken(Unauthorized):
    error_code = "auth.invalid_token"
    message = "登录已失效，请重新登录"


class TokenExpired(Unauthorized):
    error_code = "auth.token_expired"
    message = "登录已过期，请重新登录"


class NotBound(Forbidden):
    error_code = "auth.not_bound"
    message = "请先绑定身份（教职工工号或学生学号）"


_LEEWAY = 5  # seconds of clock difference forgiven on ``exp``
_VERIFIED: dict[tuple[str, str], dict[str, Any]] = {}
"""Tokens this process has verified, by (secret, token): a token is sent with every request of its
lifetime, and checking its signature and claims again cost as much as loading the actor. Only the
expiry is looked at again (by the clock PyJWT reads); emptied when full."""
_VERIFIED_MAX = 20_000


def decode_access_token(token: str) -> dict[str, Any]:
    """The claims of a valid access token; any other token (expired, forged, or signed but with a ``sub``
    that is not a user id or a ``sid`` that is not a session id) is a 401. Do not change the answer:
    it is the verified token's, kept for its next requests."""
    key = (current_app.config["SECRET_KEY"], token)
    claims = _VERIFIED.get(key)
    if claims is not None and time.time() < claims["exp"] + _LEEWAY:
        return claims
    try:
        claims = jwt.decode(
            token,
            current_app.config["SECRET_KEY"],
            algorithms=[_ALGORITHM],
            options={"require": ["sub", "sid", "exp", "typ"]},
            leeway=_LEEWAY,
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired() from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken() from exc
    if claims.get("typ") != "access" or not _is_user_id(claims["sub"]) or not _is_session_id(claims["sid"]):
        raise InvalidToken()
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = claims
    return claims


_MAX_ID = 2**63 - 1


def _is_user_id(sub: Any) -> bool:
    """What ``issue_access_token`` writes: a positive BIGINT in decimal digits."""
    return (isinstance(sub, str) and 0 < len(sub) <= 19 and sub.isascii() and sub.isdigit()
            and 0 < int(sub) <= _MAX_ID)


def _is_session_id(sid: Any) -> bool:
    return isinstance(sid, str) and 0 < len(sid) <= 64 and sid.isascii() and sid.isprintable()


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


def current_actor(*, allow_unbound: bool = False) -> Actor:
    """The authenticated actor of this request (401 without a valid token, 403 until bound)."""
    actor = g.get("_actor")
    if actor is None:
        claims = decode_access_token(_bearer_token())
        loader: ActorLoader = current_app.extensions[_LOADER_KEY]
        actor = loader(int(claims["sub"]), claims["sid"])
        if actor is None:
            raise InvalidToken()
        g._actor = actor
    if not allow_unbound and not actor.bound:
        raise NotBound()
    return actor


def require_roles(actor: Actor, *roles: str, error_code: str = "forbidden", message: str | None = None) -> None:
    if not actor.has_any(*roles):
        raise Forbidden(error_code, message or Forbidden.message)


def visible_or_404(obj: Any, allowed: bool | Callable[[], bool], *, error_code: str = "not_found",
                   message: str | None = None) -> Any:
    """Return ``obj`` if it exists and the actor may see it; otherwise the same 404 either way."""
    if obj is None or not (allowed() if callable(allowed) else allowed):
        raise NotFound(error_code, message or NotFound.message)
    return obj


def role_labels(roles: Iterable[str]) -> list[str]:
    return [ROLE_LABELS.get(r, r) for r in sorted(roles, key=lambda r: ROLES.index(r) if r in ROLES else 99)]
