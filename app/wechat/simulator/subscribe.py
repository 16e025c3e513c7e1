"""Subscribe messages: ``POST /cgi-bin/message/subscribe/send``.

Values are checked against WeChat's per-type rules (``thing`` ≤ 20 chars, ``phrase`` ≤ 5 Chinese
characters, …) and answer 47003 on a violation. A send spends one grant of the (openid, template)
quota — what the user's 允许 in ``wx.requestSubscribeMessage`` gives, granted here through the control
API — and answers 43101 without one, unless ``lenient_quota`` is on. Any template id is accepted
unless ``strict_templates`` is on, then only registered ones (else 40037).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify

from app.wechat.simulator.protocol import authorized_body, wx_error
from app.wechat.simulator.state import current_state

bp = Blueprint("subscribe", __name__)

# --- field rules (WeChat's "订阅消息参数值内容限制说明") ------------------------------------------------

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


# --- the endpoint ---------------------------------------------------------------------------------------


@bp.post("/cgi-bin/message/subscribe/send")
def subscribe_send() -> Response:
    body = authorized_body("mp", malformed=47001)
    if isinstance(body, Response):
        return body
    openid, template_id = body.get("touser"), body.get("template_id")
    if not openid or not isinstance(openid, str):
        return wx_error(40003)
    if not template_id or not isinstance(template_id, str):
        return wx_error(40037)
    state = current_state()
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
