"""What every WeChat product of the simulator shares: error answers, JSON bodies, credential and
token checks, and the call accounting with fault injection that wraps every protocol call; and WeChat
Pay v3's scheme: signed ``Authorization`` requests, signed answers, ``{"code", "message"}`` errors."""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256
from flask import Flask, Response, g, jsonify, request

from app.wechat.simulator.state import PayCredentials, current_state

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
    if fault.code:
        return pay_error(fault.http_status or 400, fault.code, fault.message)
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


# --- WeChat Pay v3: signed requests and answers -----------------------------------------------------

PAY_SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
PAY_MAX_SKEW_SECONDS = 300
PAY_MESSAGES = {
    "SIGN_ERROR": "签名错误",
    "PARAM_ERROR": "参数错误",
    "INVALID_REQUEST": "无效请求",
    "SYSTEM_ERROR": "系统错误",
    "FREQUENCY_LIMITED": "频率超限",
    "NOT_ENOUGH": "余额不足",
    "ORDER_NOT_EXIST": "订单不存在",
    "ORDERPAID": "该订单已支付",
    "ORDER_CLOSED": "订单已关闭",
    "OUT_TRADE_NO_USED": "商户订单号重复",
    "APPID_MCHID_NOT_MATCH": "AppID和mch_id不匹配",
    "MCH_NOT_EXISTS": "商户号不存在",
    "RESOURCE_NOT_EXISTS": "资源不存在",
    "NO_STATEMENT_EXIST": "账单文件不存在",
    "STATEMENT_CREATING": "账单生成中",
}
PAY_TAMPERING = ("missing_signature", "forged_signature", "stale_timestamp", "unknown_serial", "wrong_signature_type")
"""Ways a signed message can be spoiled on purpose (answers and notifications), to test the verifier."""
_AUTHORIZATION_FIELD = re.compile(r'(\w+)="([^"]*)"')
CHINA = timezone(timedelta(hours=8))


def wechat_time(moment: datetime) -> str:
    """WeChat Pay's RFC 3339 in +08:00: ``2026-10-14T10:00:00+08:00``."""
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def pay_json(doc: dict[str, Any], status: int = 200) -> Response:
    """A WeChat Pay v3 JSON answer (UTF-8, not ASCII-escaped, as WeChat sends it)."""
    return Response(json.dumps(doc, ensure_ascii=False), status=status, mimetype="application/json")


def pay_error(status: int, code: str, message: str | None = None) -> Response:
    """A WeChat Pay v3 error: an HTTP status with ``{"code", "message"}``."""
    return pay_json({"code": code, "message": message or PAY_MESSAGES.get(code, code)}, status)


def _pay_problem(message: str) -> Response:
    return pay_error(401, "SIGN_ERROR", message)


def _request_target() -> str:
    """The request line's target as the client signed it (path and query, still percent-encoded)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return raw
    query = request.query_string.decode()
    return request.path + (f"?{query}" if query else "")


def check_pay_authorization() -> Response | None:
    """The request's ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,timestamp=…,
    serial_no=…,signature=…``: ``None`` when the merchant signed ``METHOD\\nTARGET\\ntimestamp\\nnonce\\nbody\\n``
    with the key of that certificate serial less than five minutes ago, else WeChat's 401 SIGN_ERROR."""
    credentials = current_state().credentials.pay
    if credentials is None:
        return pay_error(501, "SYSTEM_ERROR", "this simulator has no WeChat Pay merchant (see create_simulator)")
    scheme, _, rest = request.headers.get("Authorization", "").partition(" ")
    if scheme != PAY_SIGNATURE_TYPE:
        return _pay_problem("Authorization 认证类型错误")
    fields = dict(_AUTHORIZATION_FIELD.findall(rest))
    if any(not fields.get(k) for k in ("mchid", "nonce_str", "timestamp", "serial_no", "signature")):
        return _pay_problem("Authorization 缺少必要字段")
    if fields["mchid"] != credentials.mchid:
        return _pay_problem("商户号与签名信息不匹配")
    if fields["serial_no"] != credentials.merchant_serial_no:
        return _pay_problem("商户证书序列号有误")
    if not fields["timestamp"].isdigit() or abs(time.time() - int(fields["timestamp"])) > PAY_MAX_SKEW_SECONDS:
        return _pay_problem("请求时间戳已过期")
    message = "\n".join((request.method, _request_target(), fields["timestamp"], fields["nonce_str"],
                         request.get_data(as_text=True))) + "\n"
    try:
        signature = base64.b64decode(fields["signature"], validate=True)
        credentials.merchant_public_key.verify(signature, message.encode(), padding.PKCS1v15(), SHA256())
    except (ValueError, InvalidSignature):
        return _pay_problem("签名错误")
    return None


@functools.cache
def _forger_key() -> rsa.RSAPrivateKey:
    """Somebody else's key: its signatures look right and verify under no key we hand out."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pay_signature_headers(credentials: PayCredentials, body: bytes, tampering: str | None = None) -> dict[str, str]:
    """The ``Wechatpay-*`` headers WeChat Pay sends with an answer or a notification: RSA-SHA256 over
    ``timestamp\\nnonce\\nbody\\n`` with the platform key, under the public key id; ``tampering`` (one
    of ``PAY_TAMPERING``) spoils them on purpose."""
    timestamp = str(int(time.time()) - (600 if tampering == "stale_timestamp" else 0))
    nonce = secrets.token_hex(16)
    key = _forger_key() if tampering == "forged_signature" else credentials.platform_private_key
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    headers = {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": base64.b64encode(key.sign(message, padding.PKCS1v15(), SHA256())).decode(),
        "Wechatpay-Serial": credentials.public_key_id,
        "Wechatpay-Signature-Type": PAY_SIGNATURE_TYPE,
    }
    if tampering == "missing_signature":
        del headers["Wechatpay-Signature"]
    elif tampering == "unknown_serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_0199" + secrets.token_hex(12).upper()
    elif tampering == "wrong_signature_type":
        headers["Wechatpay-Signature-Type"] = "WECHATPAY2-SM2-WITH-SM3"
    return headers


def sign_pay_answer(response: Response) -> Response:
    """Sign an answer of WeChat Pay (``after_request`` of its blueprint), spoiled when the control API
    queued a tampering (``/__sim__/pay/tamper-answers``)."""
    state = current_state()
    credentials = state.credentials.pay
    if credentials is None:
        return response
    with state.lock:
        tampering = state.pay_answer_tampering.popleft() if state.pay_answer_tampering else None
    response.headers.update(pay_signature_headers(credentials, response.get_data(), tampering))
    response.headers["Request-ID"] = secrets.token_hex(16).upper()
    return response
