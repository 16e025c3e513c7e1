"""What every WeChat product of the simulator shares: error answers, JSON bodies, credential and
token checks, and the call accounting with fault injection that wraps every protocol call."""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Flask, Response, g, jsonify, request

from app.wechat.simulator.state import current_state

CONTROL_PREFIX = "/__sim__"

# WeChat's English errmsg per errcode (global return codes and the documented per-API codes).
ERRMSGS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40008: "invalid message type",
    40013: "invalid appid",
    40014: "invalid access_token",
    40029: "invalid code",
    40035: "invalid parameter",
    40037: "invalid template_id",
    40056: "invalid agentid",
    40097: "invalid args",
    40125: "invalid appsecret",
    40163: "code been used",
    40169: "invalid length for scene, or the data is not json string",
    41001: "access_token missing",
    41008: "missing code",
    41030: "invalid page",
    42001: "access_token expired",
    43101: "user refuse to accept the msg",
    44004: "empty content",
    45002: "content size out of limit",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit, must slower, retry next minute",
    47001: "data format error",
    47003: "argument invalid!",
    81013: "user & party & tag all invalid",
}


def _rid() -> str:
    return f"{int(time.time()):08x}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def wx_error(errcode: int, detail: str | None = None, *, errmsg: str | None = None, **extra: Any) -> Response:
    """A JSON error as WeChat sends it: HTTP 200, errcode, an English errmsg ending in a request id."""
    message = errmsg or ERRMSGS.get(errcode, "error")
    if detail:
        message = f"{message} {detail}"
    return jsonify(errcode=errcode, errmsg=f"{message} rid: {_rid()}", **extra)


def json_body() -> dict[str, Any] | None:
    """The request's JSON object whatever its content type, or ``None`` when it is not one."""
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else None


def check_app_credentials(appid: str | None, secret: str | None) -> Response | None:
    """The mini-program's AppID and AppSecret, as the endpoints authenticated by them check them."""
    credentials = current_state().credentials
    if appid != credentials.app_id:
        return wx_error(40013)
    return wx_error(40125) if secret != credentials.app_secret else None


def check_token(kind: str) -> Response | None:
    """The ``access_token`` query parameter: ``None`` when it is a live token of ``kind`` ("mp" or
    "wecom"), else the answer WeChat gives (41001 missing, 42001 expired, 40001/40014 invalid)."""
    token = request.args.get("access_token", "")
    if not token:
        return wx_error(41001)
    problem = current_state().token_problem(token, kind)
    if problem == "expired":
        return wx_error(42001)
    if problem == "invalid":
        return wx_error(40001 if kind == "mp" else 40014)
    return None


def authorized_body(kind: str, *, malformed: int) -> dict[str, Any] | Response:
    """The JSON object posted to an endpoint that takes an access token of ``kind``, or the refusal
    to answer: the token's problem (``check_token``) first, then ``malformed`` for a body that is
    not a JSON object (47001 on the mini-program APIs, 40035 on WeCom's)."""
    if problem := check_token(kind):
        return problem
    body = json_body()
    return wx_error(malformed) if body is None else body


# --- call accounting and fault injection ------------------------------------------------------------


def _count_and_inject_faults() -> Response | None:
    if request.path.startswith(CONTROL_PREFIX):
        return None
    state = current_state()
    fault = state.record_call(request.path)
    g.counted = True
    if fault is None:
        return None
    if fault.delay_seconds:
        time.sleep(fault.delay_seconds)
    if fault.http_status:
        return Response("simulated failure", status=fault.http_status, mimetype="text/plain")
    if fault.errcode is not None:
        return wx_error(fault.errcode, errmsg=fault.errmsg)
    return None


def _call_finished(_exc: BaseException | None) -> None:
    if g.pop("counted", False):
        current_state().call_done()


def install_call_accounting(app: Flask) -> None:
    """Every request outside the control API — to any product, even to a path nobody serves — is
    counted (``/__sim__/calls``) and may suffer the next queued fault for its path before a product
    handler sees it."""
    app.before_request(_count_and_inject_faults)
    app.teardown_request(_call_finished)
