"""The control API under ``/__sim__/`` (JSON): set the stage and read what the backend sent.

``app.wechat.simulator_control.SimulatorControl`` wraps every endpoint here. Control calls are not
protocol calls: they are neither counted nor faulted (see ``protocol.install_call_accounting``).
``/__sim__/calls`` counts protocol calls per path and the most that were in progress at once
(``peak_in_flight``): how hard the clients pushed, e.g. whether two workers sent side by side.
``/__sim__/pay/…`` plays WeChat Pay's other side: a user pays, a refund ends, notifications are held,
repeated, delayed or spoiled, answers tampered with, a day's bill made to disagree.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.wechat.simulator import pay, paynotify
from app.wechat.simulator.protocol import CONTROL_PREFIX, PAY_TAMPERING, json_body
from app.wechat.simulator.state import (
    BillPlant,
    Fault,
    LoginIdentity,
    PayNotification,
    PhoneRecord,
    SimulatorState,
    current_state,
    new_openid,
    new_session_key,
)

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
            code=body.get("code"),
            message=body.get("message"),
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


# --- WeChat Pay: a user pays, refunds end, notifications, bills -------------------------------------

NOTIFY_MODES = ("send", "hold", "never")
NOTIFICATION_TAMPERING = (*PAY_TAMPERING, "undecryptable")
MAX_COPIES = 20


def _delivery(body: dict[str, Any]) -> dict[str, Any] | str:
    """How a notification is to be delivered (``copies``, ``concurrent``, ``delay_seconds``,
    ``tampering``), or what is wrong with the options."""
    copies, delay, tampering = body.get("copies", 1), body.get("delay_seconds", 0), body.get("tampering")
    if type(copies) is not int or not 1 <= copies <= MAX_COPIES:
        return f"copies must be an integer from 1 to {MAX_COPIES}"
    if not isinstance(delay, int | float) or delay < 0:
        return "delay_seconds must be a number >= 0"
    if tampering is not None and tampering not in NOTIFICATION_TAMPERING:
        return f"tampering must be one of {list(NOTIFICATION_TAMPERING)}"
    if body.get("notify", "send") not in NOTIFY_MODES:
        return f"notify must be one of {list(NOTIFY_MODES)}"
    return {"copies": copies, "concurrent": bool(body.get("concurrent")), "delay_seconds": float(delay),
            "tampering": None if tampering == "undecryptable" else tampering}


def _dispatch(state: SimulatorState, note: PayNotification, mode: str, delivery: dict[str, Any]) -> None:
    if mode == "hold":
        with state.lock:
            note.status = "held"
    else:
        paynotify.send(state, note, **delivery)


def _stage_error(exc: pay.StageError) -> tuple[Response, int]:
    return jsonify(error=str(exc)), exc.status


@bp.post("/pay/orders/<out_trade_no>/pay")
def pay_order(out_trade_no: str) -> Response | tuple[Response, int]:
    """The payer pays in ``wx.requestPayment``; TRANSACTION.SUCCESS follows per ``notify`` (send, hold
    until ``/pay/notifications/<id>/send``, never) and the delivery options; ``amount_fen`` makes the
    notification state another amount, ``appid`` / ``mchid`` another account, ``success_time`` back-dates
    the payment."""
    state = current_state()
    body = json_body() or {}
    delivery = _delivery(body)
    if isinstance(delivery, str):
        return _control_error(delivery)
    amount = body.get("amount_fen")
    if amount is not None and type(amount) is not int:
        return _control_error("amount_fen must be an integer")
    stated = {key: body[key] for key in ("appid", "mchid") if body.get(key) is not None}
    if any(not isinstance(value, str) or not value for value in stated.values()):
        return _control_error("appid and mchid must be non-empty strings")
    try:
        paid_at = datetime.fromisoformat(body["success_time"]) if body.get("success_time") else None
    except ValueError:
        return _control_error("success_time must be ISO 8601 with an offset")
    if paid_at is not None and paid_at.tzinfo is None:
        return _control_error("success_time must be ISO 8601 with an offset")
    try:
        order = pay.pay_order(state, out_trade_no, success_time=paid_at)
    except pay.StageError as exc:
        return _stage_error(exc)
    mode = body.get("notify", "send")
    note = None
    if mode != "never":
        note = pay.payment_notification(state, order, amount_fen=amount,
                                        undecryptable=body.get("tampering") == "undecryptable", stated=stated)
        _dispatch(state, note, mode, delivery)
    with state.lock:
        return jsonify(order=pay.order_json(order), notification_id=note.id if note else None)


@bp.post("/pay/prepays/<prepay_id>/pay")
def pay_prepay(prepay_id: str) -> Response | tuple[Response, int]:
    """What ``wx.requestPayment({package: "prepay_id=…"})`` does on a phone: the payer pays the order that
    prepay id belongs to (the same options as ``/pay/orders/<out_trade_no>/pay``)."""
    state = current_state()
    with state.lock:
        out_trade_no = next((o.out_trade_no for o in state.pay_orders.values() if prepay_id in o.prepay_ids), None)
    if out_trade_no is None:
        return jsonify(error=f"no order with prepay id {prepay_id}"), 404
    return pay_order(out_trade_no)


@bp.get("/pay/orders/<out_trade_no>")
def show_order(out_trade_no: str) -> Response | tuple[Response, int]:
    state = current_state()
    with state.lock:
        order = state.pay_orders.get(out_trade_no)
        return jsonify(pay.order_json(order)) if order else (jsonify(error=f"no order {out_trade_no}"), 404)


@bp.post("/pay/refunds/<out_refund_no>/end")
def end_refund(out_refund_no: str) -> Response | tuple[Response, int]:
    """A PROCESSING refund ends (``status`` SUCCESS, ABNORMAL or CLOSED); REFUND.<status> follows per
    ``notify`` and the delivery options, as for a payment."""
    state = current_state()
    body = json_body() or {}
    delivery = _delivery(body)
    if isinstance(delivery, str):
        return _control_error(delivery)
    try:
        refund = pay.end_refund(state, out_refund_no, str(body.get("status", "SUCCESS")))
    except pay.StageError as exc:
        return _stage_error(exc)
    mode = body.get("notify", "send")
    note = None
    if mode != "never":
        note = pay.refund_notification(state, refund, undecryptable=body.get("tampering") == "undecryptable")
        _dispatch(state, note, mode, delivery)
    with state.lock:
        return jsonify(refund=pay.refund_json(refund), notification_id=note.id if note else None)


@bp.get("/pay/notifications")
def list_pay_notifications() -> Response:
    state = current_state()
    wanted = {k: request.args[k] for k in ("out_trade_no", "out_refund_no", "event_type", "status")
              if k in request.args}
    with state.lock:
        rows = [paynotify.notification_json(n) for n in state.pay_notifications.values()]
    return jsonify(notifications=[r for r in rows if all(r[k] == v for k, v in wanted.items())])


@bp.post("/pay/notifications/<notification_id>/send")
def send_pay_notification(notification_id: str) -> Response | tuple[Response, int]:
    """Send a held notification, or a delivered one again (a duplicate, same id and body)."""
    state = current_state()
    body = json_body() or {}
    delivery = _delivery({k: v for k, v in body.items() if k != "notify"})
    if isinstance(delivery, str):
        return _control_error(delivery)
    with state.lock:
        note = state.pay_notifications.get(notification_id)
    if note is None:
        return jsonify(error=f"no notification {notification_id}"), 404
    paynotify.send(state, note, **delivery)
    return jsonify(id=note.id)


@bp.post("/pay/bills/<bill_date>/plant")
def plant_bill_mismatch(bill_date: str) -> Response | tuple[Response, int]:
    """Mismatches in a day's trade bill: ``omit`` (order numbers WeChat's bill leaves out), ``extra``
    (``[{"out_trade_no", "amount_fen", …}]`` payments only WeChat has), ``amounts`` (``{out_trade_no:
    fen}`` another amount), ``corrupt_hash`` (the announced SHA1 is wrong). Added to earlier plants."""
    try:
        day = date.fromisoformat(bill_date)
    except ValueError:
        return _control_error("bill date must be YYYY-MM-DD")
    body = json_body() or {}
    extra, amounts = body.get("extra") or [], body.get("amounts") or {}
    if not all(isinstance(e, dict) and e.get("out_trade_no") and type(e.get("amount_fen")) is int for e in extra):
        return _control_error("extra rows need out_trade_no and an integer amount_fen")
    if not all(type(v) is int for v in amounts.values()):
        return _control_error("amounts must map order numbers to integer fen")
    state = current_state()
    with state.lock:
        plant = state.pay_bill_plants.setdefault(day.isoformat(), BillPlant())
        plant.omit.update(map(str, body.get("omit") or []))
        plant.extra.extend(extra)
        plant.amounts.update(amounts)
        plant.corrupt_hash = plant.corrupt_hash or bool(body.get("corrupt_hash"))
        return jsonify(omit=sorted(plant.omit), extra=plant.extra, amounts=plant.amounts,
                       corrupt_hash=plant.corrupt_hash)


@bp.post("/pay/tamper-answers")
def tamper_pay_answers() -> Response | tuple[Response, int]:
    """Spoil the signature of the next ``count`` WeChat Pay answers (``tampering``: one of PAY_TAMPERING)."""
    body = json_body() or {}
    tampering, count = body.get("tampering"), body.get("count", 1)
    if tampering not in PAY_TAMPERING or type(count) is not int or count < 1:
        return _control_error(f"tampering must be one of {list(PAY_TAMPERING)} and count a positive integer")
    state = current_state()
    with state.lock:
        state.pay_answer_tampering.extend([tampering] * count)
        return jsonify(queued=list(state.pay_answer_tampering))
