"""The WeChat simulator: a small Flask app that speaks WeChat's server protocols offline.

WeChat's servers are unreachable from development machines and CI, and patching our own code in
tests would test nothing. So the real clients (wechatpy) talk HTTP to this app instead: same paths,
query parameters, JSON bodies, ``errcode``/``errmsg`` answers and error codes as
``api.weixin.qq.com`` and ``qyapi.weixin.qq.com`` (the two hosts share one base URL here; their
paths do not collide: ``/cgi-bin/token`` vs ``/cgi-bin/gettoken``, and ``/cgi-bin/message/send``
exists on WeCom only).

Served endpoints: ``GET /cgi-bin/token``, ``GET /sns/jscode2session``,
``POST /wxa/business/getuserphonenumber``, ``POST /cgi-bin/message/subscribe/send``,
``POST /wxa/getwxacodeunlimit`` and WeCom's ``GET /cgi-bin/gettoken`` and
``POST /cgi-bin/message/send``.

Behaviour worth knowing:

* Login codes ``demo-<role>`` always work and map to ``demo-openid-<role>`` / ``demo-unionid-<role>``;
  phone codes ``demo-phone-<role>`` always answer ``1380000000<n>``. Other codes are registered
  through the control API and are single-use, as on WeChat (reuse: 40163 for login, 40029 for phone).
* Every token request issues a new random token; earlier ones stay valid until they expire (7200 s)
  or the control API invalidates them. Answers 40001 (invalid) or 42001 (expired) like WeChat.
* Subscribe messages: values are checked against WeChat's per-type rules (``thing`` ≤ 20 chars,
  ``phrase`` ≤ 5 Chinese characters, …) and answer 47003 on a violation. A send spends one grant of
  the (openid, template) quota and answers 43101 without one, unless ``lenient_quota`` is on. Any
  template id is accepted unless ``strict_templates`` is on, then only registered ones (else 40037).
* Faults: the next N calls to a path can answer an errcode, an HTTP status, or come late.
* ``/__sim__/calls`` counts protocol calls per path and the most that were in progress at once
  (``peak_in_flight``): how hard the clients pushed, e.g. whether two workers sent side by side.
* Control API under ``/__sim__/`` (JSON); ``app.wechat.simulator_control.SimulatorControl`` wraps it.

Run it alone with ``python -m app.wechat.simulator --host 127.0.0.1 --port 5001``.
"""

from __future__ import annotations

import argparse
import io
import itertools
import logging
import re
import secrets
import threading
import time
import unicodedata
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

import segno
from flask import Flask, Response, g, jsonify, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger(__name__)

DEMO_ROLES = ("teacher", "student", "worker", "dispatcher", "canteen", "courier", "finance", "admin", "parent")
TOKEN_TTL = 7200
CONTROL_PREFIX = "/__sim__"
DEFAULT_PAGE = "pages/index/index"

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

# --- subscribe-message field rules (WeChat's "订阅消息参数值内容限制说明") ------------------------------

_CJK = "\u4e00-\u9fff"
_TIME = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
_DATE = (
    r"(?:\d{4}年\d{1,2}月\d{1,2}日|\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}日"
    r"|\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{4}\.\d{1,2}\.\d{1,2}|\d{4}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2})"
)


def _span(point: str) -> Callable[[str], Any]:
    """A time or date value may be one point or a span of two points joined by "~"."""
    return re.compile(rf"{point}(?:\s*~\s*{point})?").fullmatch


def _valid_name(value: str) -> bool:
    """10 Chinese characters, or 20 letters/symbols; mixed counts as Chinese; never digits."""
    if re.search(r"\d", value):
        return False
    return len(value) <= (10 if re.search(f"[{_CJK}]", value) else 20)


FIELD_RULES: dict[str, Callable[[str], Any]] = {
    "thing": lambda v: len(v) <= 20,
    "short_thing": lambda v: len(v) <= 5,
    "number": lambda v: len(v) <= 32 and re.fullmatch(r"[+-]?\d+(?:\.\d+)?", v),
    "letter": re.compile(r"[A-Za-z]{1,32}").fullmatch,
    "symbol": lambda v: len(v) <= 5 and not re.search(rf"[0-9A-Za-z{_CJK}\s]", v),
    "character_string": re.compile(r"[!-~]{1,32}").fullmatch,
    "time": _span(rf"(?:{_DATE}\s*)?{_TIME}"),
    "date": _span(rf"{_DATE}(?:\s*{_TIME})?"),
    "amount": re.compile(r"[¥￥$€£]?\d{1,10}(?:\.\d{1,2})?元?").fullmatch,
    "phone_number": re.compile(r"[0-9+\-() ]{1,17}").fullmatch,
    "car_number": re.compile(rf"[{_CJK}A-Za-z0-9][A-Za-z0-9]{{0,6}}[{_CJK}A-Za-z0-9]?").fullmatch,
    "name": _valid_name,
    "phrase": re.compile(rf"[{_CJK}]{{1,5}}").fullmatch,
}
_KEY = re.compile(r"([a-z_]+?)\d+")


def check_subscribe_value(key: str, value: str) -> bool:
    """Whether ``value`` passes WeChat's rule for the type named by ``key``'s prefix (``thing3`` → thing).

    Unknown types (``enum``…) cannot be checked offline and pass; control characters never do.
    """
    if not value or any(unicodedata.category(ch) == "Cc" for ch in value):
        return False
    match = _KEY.fullmatch(key)
    rule = FIELD_RULES.get(match.group(1)) if match else None
    return bool(rule(value)) if rule else True


def subscribe_data_problem(data: Any, required: list[str]) -> str | None:
    """The 47003 detail WeChat gives for a bad subscribe ``data`` object, or ``None`` when it is fine."""
    if not isinstance(data, dict) or not data:
        return "data is empty"
    for key in [*required, *data]:
        item = data.get(key)
        value = item.get("value") if isinstance(item, dict) else None
        if value is None or str(value) == "":
            return f"data.{key}.value is empty"
        if not check_subscribe_value(key, str(value)):
            return f"data.{key}.value invalid"
    return None


# --- state -------------------------------------------------------------------------------------------


@dataclass
class LoginIdentity:
    openid: str
    unionid: str | None
    session_key: str


@dataclass
class PhoneRecord:
    phone: str
    country_code: str


@dataclass
class Token:
    kind: str  # "mp" (mini-program) or "wecom"
    expires_at: float
    revoked: str | None = None  # "invalid" (40001/40014) or "expired" (42001)


@dataclass
class Fault:
    path: str
    remaining: int
    errcode: int | None = None
    errmsg: str | None = None
    http_status: int | None = None
    delay_seconds: float = 0.0


def _openid() -> str:
    return "o" + secrets.token_urlsafe(21)[:27]


def _demo_role(code: str, prefix: str) -> str | None:
    role = code.removeprefix(prefix)
    return role if code.startswith(prefix) and role in DEMO_ROLES else None


def _session_key() -> str:
    return secrets.token_urlsafe(16)[:22] + "=="


class SimulatorState:
    """Everything the simulator remembers; one re-entrant lock guards it (threaded server)."""

    def __init__(self, *, lenient_quota: bool, strict_templates: bool) -> None:
        self.lock = threading.RLock()
        self._defaults = {"lenient_quota": lenient_quota, "strict_templates": strict_templates}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.config: dict[str, bool] = dict(self._defaults)
            self.tokens: dict[str, Token] = {}
            self.login_codes: dict[str, LoginIdentity] = {}
            self.used_codes: set[str] = set()
            self.phone_codes: dict[str, PhoneRecord] = {}
            self.templates: dict[str, list[str]] = {}
            self.quota: Counter[tuple[str, str]] = Counter()
            self.subscribe_messages: list[dict[str, Any]] = []
            self.wecom_messages: list[dict[str, Any]] = []
            self.wecom_users: set[str] = set()
            self.pages: set[str] = set()
            self.faults: deque[Fault] = deque()
            self.calls: Counter[str] = Counter()
            self.in_flight = 0
            self.peak_in_flight = 0
            self.msgids = itertools.count(3_000_000_001)

    def record_call(self, path: str) -> Fault | None:
        """Count a protocol call and hand back the fault it should suffer, if one is queued."""
        with self.lock:
            self.calls[path] += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            fault = next((f for f in self.faults if f.path == path), None)
            if fault is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
            return fault

    def call_done(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def issue_token(self, kind: str) -> str:
        token = secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[token] = Token(kind, time.time() + TOKEN_TTL)
        return token

    def token_problem(self, token: str, kind: str) -> str | None:
        """``None`` when the token is good, else "invalid" or "expired"."""
        with self.lock:
            record = self.tokens.get(token)
        if record is None or record.kind != kind:
            return "invalid"
        if record.revoked:
            return record.revoked
        return "expired" if record.expires_at <= time.time() else None

    def take_login_code(self, code: str) -> LoginIdentity | int:
        """The identity behind a code, spending it; or the errcode WeChat would answer."""
        if role := _demo_role(code, "demo-"):
            return LoginIdentity(f"demo-openid-{role}", f"demo-unionid-{role}", _session_key())
        with self.lock:
            if code in self.used_codes:
                return 40163
            identity = self.login_codes.pop(code, None)
            if identity is None:
                return 40029
            self.used_codes.add(code)
            return identity

    def take_phone_code(self, code: str) -> PhoneRecord | None:
        if role := _demo_role(code, "demo-phone-"):
            return PhoneRecord(f"1380000000{DEMO_ROLES.index(role) + 1}", "86")
        with self.lock:
            return self.phone_codes.pop(code, None)  # single use: a second try answers 40029

    def spend_quota(self, openid: str, template_id: str) -> bool:
        with self.lock:
            if self.config["lenient_quota"]:
                return True
            if self.quota[(openid, template_id)] <= 0:
                return False
            self.quota[(openid, template_id)] -= 1
            return True


# --- responses ----------------------------------------------------------------------------------------


def _rid() -> str:
    return f"{int(time.time()):08x}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def wx_error(errcode: int, detail: str | None = None, *, errmsg: str | None = None, **extra: Any) -> Response:
    """A JSON error as WeChat sends it: HTTP 200, errcode, an English errmsg ending in a request id."""
    message = errmsg or ERRMSGS.get(errcode, "error")
    if detail:
        message = f"{message} {detail}"
    return jsonify(errcode=errcode, errmsg=f"{message} rid: {_rid()}", **extra)


def _control_error(message: str) -> tuple[Response, int]:
    return jsonify(error=message), 400


def _json_body() -> dict[str, Any] | None:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else None


SCENE = re.compile(r"[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}")
WECOM_USERID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
WECOM_TEXT_LIMIT = 2048  # bytes


def is_wecom_user(userid: str, directory: set[str]) -> bool:
    """A well-formed UserID that is in the registered directory (any, when none is registered)."""
    if userid == "@all":
        return True
    return bool(WECOM_USERID.fullmatch(userid)) and (not directory or userid in directory)


def render_code_png(page: str, scene: str, width: int) -> bytes:
    """A real, scannable PNG: a QR code of ``wxsim://<page>?scene=<scene>`` about ``width`` px wide."""
    qr = segno.make(f"wxsim://{page}?scene={quote(scene, safe='')}", error="m")
    modules = qr.symbol_size(scale=1, border=4)[0]
    out = io.BytesIO()
    qr.save(out, kind="png", scale=max(1, width // modules), border=4)
    return out.getvalue()


# --- the app -------------------------------------------------------------------------------------------


def create_simulator(
    app_id: str = "wx0000000000sim00",
    app_secret: str = "sim-app-secret",
    corp_id: str | None = None,
    corp_secret: str | None = None,
    *,
    lenient_quota: bool = False,
    strict_templates: bool = False,
) -> Flask:
    """Build the simulator app; its state lives in ``app.extensions["wechat_simulator"]``."""
    app = Flask(__name__)
    state = SimulatorState(lenient_quota=lenient_quota, strict_templates=strict_templates)
    app.extensions["wechat_simulator"] = state

    @app.before_request
    def count_and_inject_faults() -> Response | None:
        if request.path.startswith(CONTROL_PREFIX):
            return None
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

    @app.teardown_request
    def call_finished(_exc: BaseException | None) -> None:
        if g.pop("counted", False):
            state.call_done()

    def check_app_credentials(appid: str | None, secret: str | None) -> Response | None:
        if appid != app_id:
            return wx_error(40013)
        return wx_error(40125) if secret != app_secret else None

    def check_token(kind: str) -> Response | None:
        token = request.args.get("access_token", "")
        if not token:
            return wx_error(41001)
        problem = state.token_problem(token, kind)
        if problem == "expired":
            return wx_error(42001)
        if problem == "invalid":
            return wx_error(40001 if kind == "mp" else 40014)
        return None

    # --- mini-program ----------------------------------------------------------------------------

    @app.get("/cgi-bin/token")
    def access_token() -> Response:
        if request.args.get("grant_type") != "client_credential":
            return wx_error(40002)
        if problem := check_app_credentials(request.args.get("appid"), request.args.get("secret")):
            return problem
        return jsonify(access_token=state.issue_token("mp"), expires_in=TOKEN_TTL)

    @app.get("/sns/jscode2session")
    def jscode2session() -> Response:
        if problem := check_app_credentials(request.args.get("appid"), request.args.get("secret")):
            return problem
        if request.args.get("grant_type") != "authorization_code":
            return wx_error(40002)
        code = request.args.get("js_code", "")
        if not code:
            return wx_error(41008)
        identity = state.take_login_code(code)
        if isinstance(identity, int):
            return wx_error(identity)
        answer = {"openid": identity.openid, "session_key": identity.session_key}
        if identity.unionid:
            answer["unionid"] = identity.unionid
        return jsonify(answer)

    @app.post("/wxa/business/getuserphonenumber")
    def phone_number() -> Response:
        if problem := check_token("mp"):
            return problem
        body = _json_body()
        if body is None:
            return wx_error(47001)
        if not body.get("code"):
            return wx_error(41008)
        record = state.take_phone_code(str(body["code"]))
        if record is None:
            return wx_error(40029)
        full = record.phone if record.country_code == "86" else f"+{record.country_code} {record.phone}"
        info = {
            "phoneNumber": full,
            "purePhoneNumber": record.phone,
            "countryCode": record.country_code,
            "watermark": {"timestamp": int(time.time()), "appid": app_id},
        }
        return jsonify(errcode=0, errmsg="ok", phone_info=info)

    @app.post("/cgi-bin/message/subscribe/send")
    def subscribe_send() -> Response:
        if problem := check_token("mp"):
            return problem
        body = _json_body()
        if body is None:
            return wx_error(47001)
        openid, template_id = body.get("touser"), body.get("template_id")
        if not openid or not isinstance(openid, str):
            return wx_error(40003)
        if not template_id or not isinstance(template_id, str):
            return wx_error(40037)
        with state.lock:
            required = state.templates.get(template_id)
            if required is None and state.config["strict_templates"]:
                return wx_error(40037)
        if problem := subscribe_data_problem(body.get("data"), required or []):
            return wx_error(47003, problem)
        miniprogram_state = body.get("miniprogram_state", "formal")
        if miniprogram_state not in ("developer", "trial", "formal"):
            return wx_error(47003, "miniprogram_state invalid")
        if body.get("lang", "zh_CN") not in ("zh_CN", "en_US", "zh_HK", "zh_TW"):
            return wx_error(47003, "lang invalid")
        if not state.spend_quota(openid, template_id):
            return wx_error(43101)
        with state.lock:
            msgid = next(state.msgids)
            state.subscribe_messages.append(
                {
                    "msgid": msgid,
                    "touser": openid,
                    "template_id": template_id,
                    "page": body.get("page"),
                    "data": body["data"],
                    "miniprogram_state": miniprogram_state,
                    "lang": body.get("lang", "zh_CN"),
                    "sent_at": time.time(),
                }
            )
        return jsonify(errcode=0, errmsg="ok", msgid=msgid)

    @app.post("/wxa/getwxacodeunlimit")
    def unlimited_code() -> Response:
        if problem := check_token("mp"):
            return problem
        body = _json_body()
        scene = body.get("scene") if body else None
        if not isinstance(scene, str) or not SCENE.fullmatch(scene):
            return wx_error(40169)
        page = body.get("page") or DEFAULT_PAGE
        if not isinstance(page, str) or page.startswith("/") or "?" in page:
            return wx_error(41030)
        with state.lock:
            unpublished = bool(state.pages) and page not in state.pages
        if unpublished and body.get("check_path", True):
            return wx_error(41030)
        if body.get("env_version", "release") not in ("release", "trial", "develop"):
            return wx_error(40097)
        try:
            width = min(max(int(body.get("width", 430)), 280), 1280)
        except (TypeError, ValueError):
            return wx_error(40097)
        return Response(render_code_png(page, scene, width), mimetype="image/png")

    # --- WeCom (企业微信) --------------------------------------------------------------------------

    @app.get("/cgi-bin/gettoken")
    def wecom_token() -> Response:
        if not corp_id or request.args.get("corpid") != corp_id:
            return wx_error(40013, errmsg="invalid corpid")
        if request.args.get("corpsecret") != corp_secret:
            return wx_error(40001, errmsg="invalid credential")
        return jsonify(errcode=0, errmsg="ok", access_token=state.issue_token("wecom"), expires_in=TOKEN_TTL)

    @app.post("/cgi-bin/message/send")
    def wecom_send() -> Response:
        if problem := check_token("wecom"):
            return problem
        body = _json_body()
        if body is None:
            return wx_error(40035)
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

    # --- control API -------------------------------------------------------------------------------

    @app.get(f"{CONTROL_PREFIX}/health")
    def health() -> Response:
        return jsonify(status="ok", app_id=app_id, corp_id=corp_id)

    @app.post(f"{CONTROL_PREFIX}/reset")
    def reset() -> Response:
        state.reset()
        return jsonify(status="ok")

    @app.route(f"{CONTROL_PREFIX}/config", methods=["GET", "POST"])
    def config() -> Response | tuple[Response, int]:
        body = _json_body() or {}
        unknown = set(body) - set(state.config)
        if unknown:
            return _control_error(f"unknown settings: {sorted(unknown)}")
        with state.lock:
            state.config.update({k: bool(v) for k, v in body.items()})
            return jsonify(state.config)

    @app.post(f"{CONTROL_PREFIX}/login-codes")
    def register_login_code() -> Response:
        body = _json_body() or {}
        code = body.get("code") or secrets.token_hex(16)
        unionid = body["unionid"] if "unionid" in body else _openid()
        identity = LoginIdentity(body.get("openid") or _openid(), unionid, body.get("session_key") or _session_key())
        answer: dict[str, Any] = {"code": code, **asdict(identity)}
        with state.lock:
            state.login_codes[code] = identity
            state.used_codes.discard(code)
            if body.get("phone"):
                answer["phone_code"] = body.get("phone_code") or secrets.token_hex(16)
                state.phone_codes[answer["phone_code"]] = PhoneRecord(str(body["phone"]), "86")
        return jsonify(answer)

    @app.post(f"{CONTROL_PREFIX}/phone-codes")
    def register_phone_code() -> Response | tuple[Response, int]:
        body = _json_body() or {}
        if not body.get("phone"):
            return _control_error("phone is required")
        code = body.get("code") or secrets.token_hex(16)
        record = PhoneRecord(str(body["phone"]), str(body.get("country_code", "86")))
        with state.lock:
            state.phone_codes[code] = record
        return jsonify(code=code, **asdict(record))

    @app.post(f"{CONTROL_PREFIX}/templates")
    def register_template() -> Response | tuple[Response, int]:
        body = _json_body() or {}
        if not body.get("template_id"):
            return _control_error("template_id is required")
        with state.lock:
            state.templates[body["template_id"]] = list(body.get("keys") or [])
        return jsonify(template_id=body["template_id"], keys=list(body.get("keys") or []))

    @app.route(f"{CONTROL_PREFIX}/subscriptions", methods=["GET", "POST"])
    def subscriptions() -> Response | tuple[Response, int]:
        if request.method == "GET":
            openid = request.args.get("openid")
            with state.lock:
                rows = [{"openid": o, "template_id": t, "remaining": n} for (o, t), n in state.quota.items()]
            return jsonify(subscriptions=[r for r in rows if openid in (None, r["openid"])])
        body = _json_body() or {}
        if not body.get("openid") or not body.get("template_id"):
            return _control_error("openid and template_id are required")
        key = (body["openid"], body["template_id"])
        with state.lock:
            state.quota[key] += int(body.get("count", 1))
            return jsonify(openid=key[0], template_id=key[1], remaining=state.quota[key])

    @app.get(f"{CONTROL_PREFIX}/subscribe-messages")
    def list_subscribe_messages() -> Response:
        wanted = {k: request.args[k] for k in ("touser", "template_id") if k in request.args}
        if "openid" in request.args:
            wanted["touser"] = request.args["openid"]
        with state.lock:
            rows = [m for m in state.subscribe_messages if all(m[k] == v for k, v in wanted.items())]
        return jsonify(messages=rows)

    @app.get(f"{CONTROL_PREFIX}/wecom-messages")
    def list_wecom_messages() -> Response:
        touser = request.args.get("touser")
        with state.lock:
            rows = [m for m in state.wecom_messages if touser is None or touser in m["touser"]]
        return jsonify(messages=rows)

    @app.post(f"{CONTROL_PREFIX}/wecom-users")
    def register_wecom_users() -> Response:
        userids = (_json_body() or {}).get("userids") or []
        with state.lock:
            state.wecom_users.update(map(str, userids))
            return jsonify(userids=sorted(state.wecom_users))

    @app.post(f"{CONTROL_PREFIX}/pages")
    def register_pages() -> Response:
        pages = (_json_body() or {}).get("pages") or []
        with state.lock:
            state.pages.update(map(str, pages))
            return jsonify(pages=sorted(state.pages))

    @app.route(f"{CONTROL_PREFIX}/faults", methods=["GET", "POST", "DELETE"])
    def faults() -> Response | tuple[Response, int]:
        if request.method == "DELETE":
            with state.lock:
                state.faults.clear()
        elif request.method == "POST":
            body = _json_body() or {}
            if not str(body.get("path", "")).startswith("/"):
                return _control_error("path must start with /")
            fault = Fault(
                path=body["path"],
                remaining=int(body.get("count", 1)),
                errcode=body.get("errcode"),
                errmsg=body.get("errmsg"),
                http_status=body.get("http_status"),
                delay_seconds=float(body.get("delay_seconds", 0)),
            )
            with state.lock:
                state.faults.append(fault)
        with state.lock:
            return jsonify(faults=[asdict(f) for f in state.faults])

    @app.post(f"{CONTROL_PREFIX}/tokens/invalidate")
    def invalidate_tokens() -> Response | tuple[Response, int]:
        mode = (_json_body() or {}).get("mode", "invalid")
        if mode not in ("invalid", "expired"):
            return _control_error("mode must be 'invalid' or 'expired'")
        with state.lock:
            for token in state.tokens.values():
                token.revoked = mode
            return jsonify(invalidated=len(state.tokens), mode=mode)

    @app.get(f"{CONTROL_PREFIX}/calls")
    def calls() -> Response:
        with state.lock:
            return jsonify(calls=dict(state.calls), peak_in_flight=state.peak_in_flight)

    return app


# --- serving -------------------------------------------------------------------------------------------


class _PathOnlyRequestHandler(WSGIRequestHandler):
    """Access-log lines without the query string: it carries app secrets and access tokens.
    HTTP/1.1 so that clients keep their connection open, as they do with WeChat's servers."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s %s" %s %s', self.command, path, self.request_version, code, size)


def make_simulator_server(app: Flask, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """A threaded werkzeug server (one process, many requests) whose access log hides query strings."""
    return make_server(host, port, app, threaded=True, request_handler=_PathOnlyRequestHandler)


class SimulatorServer:
    """Serves a simulator app from a background thread (tests, an embedded dev setup)."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = make_simulator_server(app, host, port)
        self.base_url = f"http://{host}:{self._server.server_port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="wechat-simulator", daemon=True)

    def start(self) -> SimulatorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the WeChat simulator (threaded werkzeug).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--app-id", default="wx0000000000sim00")
    parser.add_argument("--app-secret", default="sim-app-secret")
    parser.add_argument("--corp-id", default=None)
    parser.add_argument("--corp-secret", default=None)
    parser.add_argument("--lenient-quota", action="store_true", help="every subscribe message succeeds")
    parser.add_argument("--strict-templates", action="store_true", help="only registered template ids")
    args = parser.parse_args(argv)
    app = create_simulator(
        args.app_id,
        args.app_secret,
        args.corp_id,
        args.corp_secret,
        lenient_quota=args.lenient_quota,
        strict_templates=args.strict_templates,
    )
    server = make_simulator_server(app, args.host, args.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    log.info("WeChat simulator on http://%s:%s/", args.host, server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
