"""WeChat login and token rotation.

* Login: the mini-program's ``wx.login`` code goes to WeChat (``code2session``) through wechatpy; the
  openid finds or creates the user; a login session starts with an access token (JWT, short) and a
  refresh token (random, stored as a SHA-256 hash).
* Refresh rotates: the presented token is marked used and a new one issued in the same session.
  Presenting a used token again means it was copied: the whole session is revoked (and stays
  revoked even though the answer is a 401).
* Every request loads its actor through ``load_actor``, which refuses revoked sessions, so logging
  out takes effect at once, not when the access token expires.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, exists, select, update

from app.auth.models import AuthSession, RefreshToken
from app.core import audit, clock
from app.core.auth import Actor, issue_access_token
from app.core.db import db
from app.core.errors import Forbidden, Unauthorized
from app.users import service as users_service
from app.wechat import client as wx
from app.wechat import gateway
from app.wechat.errors import InvalidCode, WeChatError
from app.wechat.gateway import WeChatUnavailable


class InvalidLoginCode(Unauthorized):
    error_code = "auth.invalid_code"
    message = "登录凭证无效或已过期，请重新打开小程序"


class InvalidRefreshToken(Unauthorized):
    error_code = "auth.invalid_refresh_token"
    message = "登录已失效，请重新登录"


class RefreshTokenReused(InvalidRefreshToken):
    keep_writes = True  # the session revocation must survive the 401


class AccountDisabled(Forbidden):
    error_code = "auth.disabled"
    message = "该账号已停用，如有疑问请联系后勤处"


@dataclass
class Tokens:
    user_id: int
    access_token: str
    refresh_token: str
    expires_in: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token(session_id: str) -> str:
    token = secrets.token_urlsafe(32)
    ttl = current_app.config["REFRESH_TOKEN_TTL"]
    db.session.add(RefreshToken(session_id=session_id, token_hash=_hash(token), issued_at=clock.now(),
                                expires_at=clock.now() + timedelta(seconds=ttl)))
    return token


def _tokens(user_id: int, session_id: str) -> Tokens:
    refresh = _new_refresh_token(session_id)
    access, ttl = issue_access_token(user_id, session_id)
    db.session.flush()
    return Tokens(user_id=user_id, access_token=access, refresh_token=refresh, expires_in=ttl)


def wechat_login(*, code: str, user_agent: str | None = None, ip: str | None = None) -> Tokens:
    try:
        info = wx.code_to_session(gateway.mini_program(), code)
    except InvalidCode as exc:
        raise InvalidLoginCode() from exc
    except WeChatError as exc:
        raise WeChatUnavailable() from exc
    user = users_service.get_or_create_wechat_user(openid=info.openid, unionid=info.unionid)
    if not user.active:
        raise AccountDisabled()
    session = AuthSession(id=uuid.uuid4().hex, user_id=user.id, user_agent=(user_agent or "")[:200] or None, ip=ip)
    db.session.add(session)
    db.session.flush()
    return _tokens(user.id, session.id)


def issue_tokens_for(user_id: int, *, user_agent: str = "bench") -> Tokens:
    """A login session for ``user_id`` without WeChat: for benchmarks and tools that seed users
    directly in the database (never reachable from an HTTP endpoint)."""
    session = AuthSession(id=uuid.uuid4().hex, user_id=user_id, user_agent=user_agent[:200])
    db.session.add(session)
    db.session.flush()
    return _tokens(user_id, session.id)


def start_session(*, user_id: int, user_agent: str | None = None, ip: str | None = None) -> str:
    """A login session without tokens, for a client that keeps the session id itself (the managers'
    web console keeps it in its signed cookie). ``load_actor`` gates it like any other session, so
    ``end_session`` ends it at once."""
    session = AuthSession(id=uuid.uuid4().hex, user_id=user_id, user_agent=(user_agent or "")[:200] or None, ip=ip)
    db.session.add(session)
    db.session.flush()
    return session.id


def end_session(*, session_id: str, reason: str) -> None:
    """Revoke a login session (idempotent); ``reason`` is at most 20 characters (``logout``, ``idle`` …)."""
    session = db.session.get(AuthSession, session_id)
    if session is not None and session.revoked_at is None:
        _revoke(session, reason)


def refresh(*, refresh_token: str) -> Tokens:
    row = db.session.execute(
        select(RefreshToken, AuthSession)
        .join(AuthSession, AuthSession.id == RefreshToken.session_id)
        .where(RefreshToken.token_hash == _hash(refresh_token))
        .with_for_update(of=RefreshToken)
    ).first()
    if row is None:
        raise InvalidRefreshToken()
    token, session = row
    now = clock.now()
    if session.revoked_at is not None or token.expires_at <= now:
        raise InvalidRefreshToken()
    if token.rotated_at is not None:
        _revoke(session, "reuse")
        raise RefreshTokenReused()
    user = users_service.get_user(session.user_id)
    if user is None or not user.active:
        raise InvalidRefreshToken()
    token.rotated_at = now
    return _tokens(session.user_id, session.id)


def logout(*, refresh_token: str) -> None:
    """Idempotent: an unknown or already revoked token is fine."""
    session = db.session.scalar(
        select(AuthSession).join(RefreshToken, RefreshToken.session_id == AuthSession.id)
        .where(RefreshToken.token_hash == _hash(refresh_token))
    )
    if session is not None and session.revoked_at is None:
        _revoke(session, "logout")


def _revoke(session: AuthSession, reason: str) -> None:
    db.session.execute(update(AuthSession).where(AuthSession.id == session.id, AuthSession.revoked_at.is_(None))
                       .values(revoked_at=clock.now(), revoke_reason=reason))
    audit.record("auth_session", session.user_id, "revoke", actor_id=session.user_id,
                 data={"session": session.id, "reason": reason})


def load_actor(user_id: int, session_id: str | None) -> Actor | None:
    """Registered with ``app.core.auth``: a token is good only while its login session is."""
    if not session_id:
        return None
    # Checked in the same query as the user (one round trip per request, see users.load_actor).
    return users_service.load_actor(user_id, session_id, gate=_SESSION_LIVE,
                                    gate_params={"gate_session_id": session_id, "gate_user_id": user_id})


_SESSION_LIVE = exists().where(AuthSession.id == bindparam("gate_session_id"),
                               AuthSession.user_id == bindparam("gate_user_id"), AuthSession.revoked_at.is_(None))
"""The login session of the token exists, is the token user's and was not revoked."""
users_service.prebuild_gate(_SESSION_LIVE)
