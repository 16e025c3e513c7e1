"""WeCom (企业微信) app messages: ``GET /cgi-bin/gettoken`` and ``POST /cgi-bin/message/send``.

WeCom lives on ``qyapi.weixin.qq.com``; here it shares the base URL with the mini-program APIs, which
works because the paths do not collide (``/cgi-bin/token`` vs ``/cgi-bin/gettoken``;
``/cgi-bin/message/send`` exists on WeCom only). Its tokens are of kind "wecom" and answer 40014
where a mini-program token answers 40001. Without a corp id the simulator refuses every WeCom token.
"""

from __future__ import annotations

import re
import secrets
import time

from flask import Blueprint, Response, jsonify, request

from app.wechat.simulator.protocol import authorized_body, wx_error
from app.wechat.simulator.state import TOKEN_TTL, current_state

bp = Blueprint("wecom", __name__)

WECOM_USERID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
WECOM_TEXT_LIMIT = 2048  # bytes


def is_wecom_user(userid: str, directory: set[str]) -> bool:
    """A well-formed UserID that is in the registered directory (any, when none is registered)."""
    if userid == "@all":
        return True
    return bool(WECOM_USERID.fullmatch(userid)) and (not directory or userid in directory)


@bp.get("/cgi-bin/gettoken")
def wecom_token() -> Response:
    state = current_state()
    corp_id = state.credentials.corp_id
    if not corp_id or request.args.get("corpid") != corp_id:
        return wx_error(40013, errmsg="invalid corpid")
    if request.args.get("corpsecret") != state.credentials.corp_secret:
        return wx_error(40001, errmsg="invalid credential")
    return jsonify(errcode=0, errmsg="ok", access_token=state.issue_token("wecom"), expires_in=TOKEN_TTL)


@bp.post("/cgi-bin/message/send")
def wecom_send() -> Response:
    body = authorized_body("wecom", malformed=40035)
    if isinstance(body, Response):
        return body
    try:
        agentid = int(body.get("agentid"))
    except (TypeError, ValueError):
        return wx_error(40056)
    msgtype = body.get("msgtype")
    content = body.get(msgtype) if msgtype in ("text", "markdown", "textcard") else None
    if not isinstance(content, dict):
        return wx_error(40008)
    needed = ("title", "description", "url") if msgtype == "textcard" else ("content",)
    if not all(content.get(name) for name in needed):
        return wx_error(44004)
    if len(str(content.get("content", "")).encode()) > WECOM_TEXT_LIMIT:
        return wx_error(45002)
    state = current_state()
    with state.lock:
        directory = set(state.wecom_users)
    users = [u for u in str(body.get("touser") or "").split("|") if u]
    invalid = [u for u in users if not is_wecom_user(u, directory)]
    valid = [u for u in users if u not in invalid]
    if not valid and not body.get("toparty") and not body.get("totag"):
        return wx_error(81013, invaliduser="|".join(invalid))
    msgid = secrets.token_urlsafe(32)
    with state.lock:
        state.wecom_messages.append(
            {
                "msgid": msgid,
                "agentid": agentid,
                "touser": valid,
                "toparty": body.get("toparty") or "",
                "totag": body.get("totag") or "",
                "msgtype": msgtype,
                msgtype: content,
                "sent_at": time.time(),
            }
        )
    return jsonify(
        errcode=0,
        errmsg="ok",
        invaliduser="|".join(invalid),
        invalidparty="",
        invalidtag="",
        unlicenseduser="",
        msgid=msgid,
        response_code=secrets.token_urlsafe(24),
    )
