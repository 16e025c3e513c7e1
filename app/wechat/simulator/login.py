"""Mini-program login and phone number: ``GET /sns/jscode2session`` (``wx.login`` codes) and
``POST /wxa/business/getuserphonenumber`` (``getPhoneNumber`` codes).

Login codes ``demo-<role>`` always work and map to ``demo-openid-<role>`` / ``demo-unionid-<role>``;
phone codes ``demo-phone-<role>`` always answer ``1380000000<n>``. Other codes are registered
through the control API and are single-use, as on WeChat (reuse: 40163 for login, 40029 for phone).
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify, request

from app.wechat.simulator.protocol import authorized_body, check_app_credentials, wx_error
from app.wechat.simulator.state import current_state

bp = Blueprint("login", __name__)


@bp.get("/sns/jscode2session")
def jscode2session() -> Response:
    if problem := check_app_credentials(request.args.get("appid"), request.args.get("secret")):
        return problem
    if request.args.get("grant_type") != "authorization_code":
        return wx_error(40002)
    code = request.args.get("js_code", "")
    if not code:
        return wx_error(41008)
    identity = current_state().take_login_code(code)
    if isinstance(identity, int):
        return wx_error(identity)
    answer = {"openid": identity.openid, "session_key": identity.session_key}
    if identity.unionid:
        answer["unionid"] = identity.unionid
    return jsonify(answer)


@bp.post("/wxa/business/getuserphonenumber")
def phone_number() -> Response:
    body = authorized_body("mp", malformed=47001)
    if isinstance(body, Response):
        return body
    if not body.get("code"):
        return wx_error(41008)
    state = current_state()
    record = state.take_phone_code(str(body["code"]))
    if record is None:
        return wx_error(40029)
    full = record.phone if record.country_code == "86" else f"+{record.country_code} {record.phone}"
    info = {
        "phoneNumber": full,
        "purePhoneNumber": record.phone,
        "countryCode": record.country_code,
        "watermark": {"timestamp": int(time.time()), "appid": state.credentials.app_id},
    }
    return jsonify(errcode=0, errmsg="ok", phone_info=info)
