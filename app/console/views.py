"""The console's pages (server-rendered, htmx for partial updates).

Every page but the sign-in ones needs a console session: the signed cookie (Flask's session: HttpOnly,
SameSite=Lax, Secure in production) carries the user id, the login session id, a CSRF token and when
the person was last seen. Each request re-reads the actor from the database (``load_actor``, as the API
does), so a logout elsewhere or a console role taken away ends the session at once; so does
``CONSOLE_IDLE_MINUTES`` without a request. Every POST carries the CSRF token (a hidden field, or the
``X-CSRF-Token`` header htmx sends from ``hx-headers``): without it, 403 with a Chinese error fragment.
Views call the domains' services, exactly as the API views do.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app.auth import service as auth_service
from app.console import service
from app.console.service.signin import LOGIN_CODE_SECONDS
from app.core import clock
from app.core.errors import AppError, Forbidden, TooManyRequests
from app.extensions import limiter
from app.notifications import service as notifications_service
from app.notifications.states import STATUS_LABELS as DELIVERY_STATUS_LABELS
from app.users import service as users_service
from app.wechat import codes

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")

PUBLIC_ENDPOINTS = {"console.login", "console.login_status", "console.link"}
REASONS = {
    "idle": "长时间未操作，已自动退出，请重新登录",
    "role": "你的管理后台权限已被取消",
    "ended": "登录已失效，请重新登录",
    "logout": "已退出登录",
    "link": "登录链接无效、已使用或已过期，请重新获取",
}


class CsrfRefused(Forbidden):
    error_code, message = "console.csrf", "页面已过期（安全校验未通过），请刷新页面后重试"


def _client() -> tuple[str | None, str | None]:
    return request.remote_addr, request.headers.get("User-Agent")


def _to_login(reason: str | None = None) -> Response:
    target = url_for("console.login", reason=reason) if reason else url_for("console.login")
    if request.headers.get("HX-Request"):
        response = Response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _begin(user_id: int, session_id: str) -> None:
    session.clear()
    session.update(uid=user_id, sid=session_id, csrf=secrets.token_urlsafe(32), seen=clock.now().timestamp())


@bp.before_request
def _guard() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    uid, sid = session.get("uid"), session.get("sid")
    if not isinstance(uid, int) or not isinstance(sid, str):
        return _to_login()
    now = clock.now().timestamp()
    if now - float(session.get("seen", 0)) > current_app.config["CONSOLE_IDLE_MINUTES"] * 60:
        service.end(user_id=uid, session_id=sid, reason="idle")
        session.clear()
        return _to_login("idle")
    actor = auth_service.load_actor(uid, sid)
    if actor is None:  # logged out elsewhere, the account disabled
        session.clear()
        return _to_login("ended")
    if not service.is_console_user(actor):
        service.end(user_id=uid, session_id=sid, reason="role_removed")
        session.clear()
        return _to_login("role")
    if request.method == "POST":
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
        if not hmac.compare_digest(sent.encode(), str(session.get("csrf", "")).encode()):
            raise CsrfRefused()
    session["seen"] = now
    g.console_actor = actor
    return None


@bp.errorhandler(AppError)
def _error(error: AppError):
    """A deliberate error fragment: htmx swaps it into ``#console-error`` (4xx are swapped, see base.html)."""
    if error.keep_writes:
        g.keep_writes = True
    if request.headers.get("HX-Request"):
        response = Response(render_template("console/_error.html", message=error.message), error.status)
        response.headers.update({"HX-Retarget": "#console-error", "HX-Reswap": "innerHTML"})
        return response
    return render_template("console/error.html", message=error.message), error.status


@bp.app_template_filter("console_time")
def _console_time(value: datetime | None) -> str:
    return clock.to_local(value).strftime("%Y-%m-%d %H:%M") if value else ""


@bp.errorhandler(429)
def _too_many(_exc):
    return _error(TooManyRequests())


@bp.context_processor
def _page_context() -> dict[str, Any]:
    return {"actor": g.get("console_actor"), "csrf_token": session.get("csrf", "")}


# --- sign-in -------------------------------------------------------------------------------------------


@bp.get("/login")
@limiter.limit("30/minute")  # each visit stores a code in Redis
def login():
    """扫码登录: a one-time code (2 minutes) and a status that polls every second."""
    ip, agent = _client()
    code = service.create_login_code(ip=ip, user_agent=agent)
    session.pop("login", None)
    session["login"] = code.token  # only this browser may collect the sign-in
    qr = codes.qr_data_uri(codes.link(f"console-login?token={code.token}"))
    return render_template("console/login.html", qr=qr, token=code.token, seconds=LOGIN_CODE_SECONDS,
                           reason=REASONS.get(request.args.get("reason", "")))


@bp.get("/login/<string:token>/status")
@limiter.limit("300/minute")  # a page polls every second
def login_status(token: str):
    if not hmac.compare_digest(str(session.get("login", "")).encode(), token.encode()):
        return render_template("console/_login_status.html", state="expired", token=token)
    ip, agent = _client()
    result = service.poll(token=token, ip=ip, user_agent=agent)
    if result.session_id is not None and result.user_id is not None:
        _begin(result.user_id, result.session_id)
        response = Response("", 200)
        response.headers["HX-Redirect"] = url_for("console.dashboard")
        return response
    return render_template("console/_login_status.html", state=result.state, name=result.name, token=token)


@bp.get("/link/<string:token>")
@limiter.limit("30/minute")
def link(token: str):
    """The one-time link ``flask console-link`` printed."""
    ip, agent = _client()
    signed = service.sign_in_with_link(token=token, ip=ip, user_agent=agent)
    if signed is None:
        return redirect(url_for("console.login", reason="link"))
    _begin(*signed)
    return redirect(url_for("console.dashboard"))


@bp.post("/logout")
def logout():
    service.end(user_id=session["uid"], session_id=session["sid"], reason="logout")
    session.clear()
    return _to_login("logout")


# --- pages ---------------------------------------------------------------------------------------------


@bp.get("/")
def dashboard():
    """首页: figures and charts of what this person may see."""
    return render_template("console/dashboard.html", board=service.dashboard(actor=g.console_actor),
                           dead_letters_url=url_for("console.dead_letters"))


PAGE_SIZE = 20


@dataclass
class _Page:
    """What ``app.core.pagination.paginate`` takes, from ``?page=`` (anything else is page 1)."""

    page: int
    page_size: int = PAGE_SIZE
    item_count: int | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-(self.item_count or 0) // self.page_size))


def _page_number() -> int:
    text = request.args.get("page", "1")
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) <= 6 and int(text) > 0 else 1


# --- notifications: dead letters ---------------------------------------------------------------------

CHANNEL_LABELS = {"subscribe": "订阅消息", "wecom": "企业微信"}


def _figures(actor) -> dict[str, int]:
    return notifications_service.delivery_counts(actor=actor)


@bp.get("/dead-letters")
def dead_letters():
    """推送失败（已停止发送）: the notifications' dead deliveries, newest first, each with 重试 (admins)."""
    actor = g.console_actor
    params = _Page(_page_number())
    rows = notifications_service.list_deliveries(actor=actor, params=params, status="dead")
    return render_template("console/dead_letters.html", rows=rows, params=params, counts=_figures(actor),
                           channels=CHANNEL_LABELS, statuses=DELIVERY_STATUS_LABELS)


@bp.post("/dead-letters/<int:delivery_id>/retry")
def retry_dead_letter(delivery_id: int):
    """重试: the same service function as ``POST /api/v1/admin/notifications/<id>/retry``; answers the
    row as it now is, and the figures out of band."""
    actor = g.console_actor
    delivery = notifications_service.retry_delivery(actor=actor, delivery_id=delivery_id)
    delivery.recipient = users_service.display_names([delivery.notification.user_id]).get(
        delivery.notification.user_id)
    return render_template("console/_dead_letter_row.html", d=delivery, counts=_figures(actor), oob=True,
                           channels=CHANNEL_LABELS, statuses=DELIVERY_STATUS_LABELS)
