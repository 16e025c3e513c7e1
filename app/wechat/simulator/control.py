"""The control API under ``/__sim__/`` (JSON): set the stage and read what the backend sent.

``app.wechat.simulator_control.SimulatorControl`` wraps every endpoint here. Control calls are not
protocol calls: they are neither counted nor faulted (see ``protocol.install_call_accounting``).
``/__sim__/calls`` counts protocol calls per path and the most that were in progress at once
(``peak_in_flight``): how hard the clients pushed, e.g. whether two workers sent side by side.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.wechat.simulator.protocol import CONTROL_PREFIX, json_body
from app.wechat.simulator.state import Fault, LoginIdentity, PhoneRecord, current_state, new_openid, new_session_key

bp = Blueprint("control", __name__, url_prefix=CONTROL_PREFIX)


def _control_error(message: str) -> tuple[Response, int]:
    return jsonify(error=message), 400


@bp.get("/health")
def health() -> Response:
    credentials = current_state().credentials
    return jsonify(status="ok", app_id=credentials.app_id, corp_id=credentials.corp_id)


@bp.post("/reset")
def reset() -> Response:
    current_state().reset()
    return jsonify(status="ok")


@bp.route("/config", methods=["GET", "POST"])
def config() -> Response | tuple[Response, int]:
    state = current_state()
    body = json_body() or {}
    unknown = set(body) - set(state.config)
    if unknown:
        return _control_error(f"unknown settings: {sorted(unknown)}")
    with state.lock:
        state.config.update({k: bool(v) for k, v in body.items()})
        return jsonify(state.config)


# --- login and phone codes --------------------------------------------------------------------------


@bp.post("/login-codes")
def register_login_code() -> Response:
    state = current_state()
    body = json_body() or {}
    code = body.get("code") or secrets.token_hex(16)
    unionid = body["unionid"] if "unionid" in body else new_openid()
    identity = LoginIdentity(body.get("openid") or new_openid(), unionid, body.get("session_key") or new_session_key())
    answer: dict[str, Any] = {"code": code, **asdict(identity)}
    with state.lock:
        state.login_codes[code] = identity
        state.used_codes.discard(code)
        if body.get("phone"):
            answer["phone_code"] = body.get("phone_code") or secrets.token_hex(16)
            state.phone_codes[answer["phone_code"]] = PhoneRecord(str(body["phone"]), "86")
    return jsonify(answer)


@bp.post("/phone-codes")
def register_phone_code() -> Response | tuple[Response, int]:
    state = current_state()
    body = json_body() or {}
    if not body.get("phone"):
        return _control_error("phone is required")
    code = body.get("code") or secrets.token_hex(16)
    record = PhoneRecord(str(body["phone"]), str(body.get("country_code", "86")))
    with state.lock:
        state.phone_codes[code] = record
    return jsonify(code=code, **asdict(record))


# --- subscribe messages -----------------------------------------------------------------------------


@bp.post("/templates")
def register_template() -> Response | tuple[Response, int]:
    state = current_state()
    body = json_body() or {}
    if not body.get("template_id"):
        return _control_error("template_id is required")
    with state.lock:
        state.templates[body["template_id"]] = list(body.get("keys") or [])
    return jsonify(template_id=body["template_id"], keys=list(body.get("keys") or []))


@bp.route("/subscriptions", methods=["GET", "POST"])
def subscriptions() -> Response | tuple[Response, int]:
    state = current_state()
    if request.method == "GET":
        openid = request.args.get("openid")
        with state.lock:
            rows = [{"openid": o, "template_id": t, "remaining": n} for (o, t), n in state.quota.items()]
        return jsonify(subscriptions=[r for r in rows if openid in (None, r["openid"])])
    body = json_body() or {}
    if not body.get("openid") or not body.get("template_id"):
        return _control_error("openid and template_id are required")
    key = (body["openid"], body["template_id"])
    with state.lock:
        state.quota[key] += int(body.get("count", 1))
        return jsonify(openid=key[0], template_id=key[1], remaining=state.quota[key])


@bp.get("/subscribe-messages")
def list_subscribe_messages() -> Response:
    state = current_state()
    wanted = {k: request.args[k] for k in ("touser", "template_id") if k in request.args}
    if "openid" in request.args:
        wanted["touser"] = request.args["openid"]
    with state.lock:
        rows = [m for m in state.subscribe_messages if all(m[k] == v for k, v in wanted.items())]
    return jsonify(messages=rows)


# --- WeCom and mini-program codes -------------------------------------------------------------------


@bp.get("/wecom-messages")
def list_wecom_messages() -> Response:
    state = current_state()
    touser = request.args.get("touser")
    with state.lock:
        rows = [m for m in state.wecom_messages if touser is None or touser in m["touser"]]
    return jsonify(messages=rows)


def _add_names(key: str, attribute: str) -> Response:
    """Add the body's list ``key`` to the state's set ``attribute``; answer the whole set, sorted."""
    added = (json_body() or {}).get(key) or []
    state = current_state()
    with state.lock:
        names: set[str] = getattr(state, attribute)
        names.update(map(str, added))
        return jsonify({key: sorted(names)})


@bp.post("/wecom-users")
def register_wecom_users() -> Response:
    return _add_names("userids", "wecom_users")


@bp.post("/pages")
def register_pages() -> Response:
    return _add_names("pages", "pages")


# --- faults, tokens, calls --------------------------------------------------------------------------


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def faults() -> Response | tuple[Response, int]:
    state = current_state()
    if request.method == "DELETE":
        with state.lock:
            state.faults.clear()
    elif request.method == "POST":
        body = json_body() or {}
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


@bp.post("/tokens/invalidate")
def invalidate_tokens() -> Response | tuple[Response, int]:
    state = current_state()
    mode = (json_body() or {}).get("mode", "invalid")
    if mode not in ("invalid", "expired"):
        return _control_error("mode must be 'invalid' or 'expired'")
    with state.lock:
        for token in state.tokens.values():
            token.revoked = mode
        return jsonify(invalidated=len(state.tokens), mode=mode)


@bp.get("/calls")
def calls() -> Response:
    state = current_state()
    with state.lock:
        return jsonify(calls=dict(state.calls), peak_in_flight=state.peak_in_flight)
