"""WeChat Pay API v3 for a direct merchant's mini-program (JSAPI): orders, refunds, the trade bill.

Every request must carry the merchant's signed ``Authorization`` (``protocol.check_pay_authorization``)
and every answer is signed with the platform key (``protocol.sign_pay_answer``), except the bill file
itself, which WeChat does not sign either: its SHA1 comes in the signed ``tradebill`` answer.

=========================================================  ===============================================
``POST /v3/pay/transactions/jsapi``                         prepay: ``{"prepay_id"}`` (same order, same
                                                            parameters: a new prepay id)
``GET /v3/pay/transactions/out-trade-no/{no}?mchid=``       the order (``trade_state`` NOTPAY, SUCCESS,
                                                            REFUND, CLOSED)
``POST /v3/pay/transactions/out-trade-no/{no}/close``       204; a paid order answers 400 ORDERPAID
``POST /v3/refund/domestic/refunds``                        a refund, PROCESSING; never more than was
                                                            paid; the same ``out_refund_no`` answers the
                                                            same refund
``GET /v3/refund/domestic/refunds/{out_refund_no}``         the refund
``GET /v3/bill/tradebill?bill_date=&bill_type=ALL``         ``hash_type``, ``hash_value`` (SHA1 of the
                                                            unzipped CSV), ``download_url``
``GET /v3/billdownload/file?token=``                        the bill (gzip with ``tar_type=GZIP``)
=========================================================  ===============================================

Nobody pays at the simulator by tapping a phone: the control API does (``/__sim__/pay/…``, see
``control``), with the functions at the bottom of this module, and WeChat's notifications follow
(``paynotify``). A day's bill is available from 10:00 (+08:00) the next day, as at WeChat.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from flask import Blueprint, Response, request

from app.core import clock
from app.wechat.paykeys import APIV3_KEY as APIV3_KEY_FILE
from app.wechat.paykeys import MERCHANT_PUBLIC_KEY, PLATFORM_KEY, load_pay_keys
from app.wechat.simulator import paybill
from app.wechat.simulator.paynotify import build_notification
from app.wechat.simulator.protocol import (
    CHINA,
    check_pay_authorization,
    json_body,
    pay_error,
    pay_json,
    sign_pay_answer,
    wechat_time,
)
from app.wechat.simulator.state import (
    PayCredentials,
    PayNotification,
    PayOrder,
    PayRefund,
    SimulatorState,
    current_state,
)

bp = Blueprint("pay", __name__)

OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}")
MIN_PAY_WINDOW = timedelta(minutes=1)
MAX_PAY_WINDOW = timedelta(days=90)
DEFAULT_PAY_WINDOW = timedelta(days=7)
MAX_REFUNDS_PER_ORDER = 50
BILL_READY_AT = clock_time(10, 0)
BILL_URL_TTL = 300.0
TRADE_STATE_DESC = {"NOTPAY": "订单未支付", "SUCCESS": "支付成功", "REFUND": "转入退款", "CLOSED": "订单已关闭"}
PAID = ("SUCCESS", "REFUND")


def load_pay_credentials(keys_dir: str | Path, mchid: str) -> PayCredentials:
    """WeChat Pay's side of the merchant whose keys ``app.wechat.paykeys`` wrote into ``keys_dir``."""
    keys = load_pay_keys(keys_dir)
    merchant_public_key = load_pem_public_key(keys.read(MERCHANT_PUBLIC_KEY).encode())
    platform_private_key = load_pem_private_key(keys.read(PLATFORM_KEY).encode(), password=None)
    if not isinstance(merchant_public_key, rsa.RSAPublicKey) or not isinstance(platform_private_key,
                                                                              rsa.RSAPrivateKey):
        raise ValueError("WeChat Pay keys must be RSA")
    return PayCredentials(
        mchid=mchid,
        merchant_serial_no=keys.merchant_serial_no,
        merchant_public_key=merchant_public_key,
        platform_private_key=platform_private_key,
        public_key_id=keys.public_key_id,
        apiv3_key=keys.read(APIV3_KEY_FILE),
    )


@bp.after_request
def _sign(response: Response) -> Response:
    if request.endpoint == "pay.bill_download" and response.status_code == 200:
        return response  # the file is not signed; the signed tradebill answer carries its SHA1
    return sign_pay_answer(response)


# --- what WeChat answers ----------------------------------------------------------------------------


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def _local_day() -> str:
    return clock.now().astimezone(CHINA).strftime("%Y%m%d")


def transaction_json(order: PayOrder, amount_fen: int | None = None) -> dict[str, Any]:
    """An order as the query answers it and as TRANSACTION.SUCCESS carries it (``amount_fen`` lies)."""
    total = order.total if amount_fen is None else amount_fen
    doc: dict[str, Any] = {
        "appid": order.appid,
        "mchid": order.mchid,
        "out_trade_no": order.out_trade_no,
        "trade_type": "JSAPI",
        "trade_state": order.state,
        "trade_state_desc": TRADE_STATE_DESC[order.state],
        "amount": {"total": total, "currency": "CNY", "payer_currency": "CNY"},
        "promotion_detail": [],
    }
    if order.state in PAID and order.success_time is not None:
        doc.update(transaction_id=order.transaction_id, bank_type="OTHERS",
                   success_time=wechat_time(order.success_time), payer={"openid": order.paid_openid})
        doc["amount"]["payer_total"] = total
        if order.attach:
            doc["attach"] = order.attach  # returned once paid only
    return doc


def _refund_amount(refund: PayRefund) -> dict[str, Any]:
    return {"total": refund.total, "refund": refund.refund, "payer_total": refund.total, "payer_refund": refund.refund}


def refund_json(refund: PayRefund) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "refund_id": refund.refund_id,
        "out_refund_no": refund.out_refund_no,
        "transaction_id": refund.transaction_id,
        "out_trade_no": refund.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": wechat_time(refund.create_time),
        "status": refund.status,
        "funds_account": "AVAILABLE",
        "amount": {**_refund_amount(refund), "settlement_refund": refund.refund, "settlement_total": refund.total,
                   "discount_refund": 0, "currency": "CNY", "refund_fee": 0, "from": []},
        "promotion_detail": [],
    }
    if refund.success_time is not None:
        doc["success_time"] = wechat_time(refund.success_time)
    return doc


def refund_resource(refund: PayRefund, mchid: str) -> dict[str, Any]:
    """A refund as REFUND.* notifications carry it (``refund_status``, fewer amounts)."""
    doc: dict[str, Any] = {
        "mchid": mchid,
        "out_trade_no": refund.out_trade_no,
        "transaction_id": refund.transaction_id,
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_id,
        "refund_status": refund.status,
        "user_received_account": "支付用户零钱",
        "amount": _refund_amount(refund),
    }
    if refund.success_time is not None:
        doc["success_time"] = wechat_time(refund.success_time)
    return doc


# --- requests ----------------------------------------------------------------------------------------


def _authorized(view: Callable[..., Response]) -> Callable[..., Response]:
    """A handler that answers only requests the merchant signed (WeChat's refusal otherwise)."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Response:
        return check_pay_authorization() or view(*args, **kwargs)

    return checked


def _authorized_body() -> dict[str, Any] | Response:
    if problem := check_pay_authorization():
        return problem
    body = json_body()
    return pay_error(400, "PARAM_ERROR", "请求体不是合法的JSON对象") if body is None else body


def _is_fen(value: Any) -> bool:
    return type(value) is int and value >= 1


def _url_problem(url: Any) -> str | None:
    if not isinstance(url, str) or len(url) > 255:
        return "notify_url 格式错误"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "notify_url 必须是完整的URL"
    return "notify_url 不能携带参数" if parts.query or parts.fragment else None


def _prepay_problem(body: dict[str, Any]) -> str | None:
    """The first field of a JSAPI prepay that WeChat would refuse with PARAM_ERROR, or ``None``."""
    description, amount, payer = body.get("description"), body.get("amount"), body.get("payer")
    if not isinstance(description, str) or not 1 <= len(description) <= 127:
        return "description 长度应为1到127个字符"
    if not isinstance(body.get("out_trade_no"), str) or not OUT_TRADE_NO.fullmatch(body["out_trade_no"]):
        return "out_trade_no 应为6到32位数字、大小写字母或_-|*"
    if not isinstance(amount, dict) or not _is_fen(amount.get("total")):
        return "amount.total 应为正整数（单位：分）"
    if amount.get("currency", "CNY") != "CNY":
        return "amount.currency 仅支持CNY"
    if not isinstance(payer, dict) or not isinstance(payer.get("openid"), str) or not payer["openid"]:
        return "JSAPI下单必须传入payer.openid"
    if "attach" in body and (not isinstance(body["attach"], str) or len(body["attach"]) > 128):
        return "attach 长度不能超过128个字符"
    expire = body.get("time_expire", "")
    if not isinstance(expire, str) or (expire and not RFC3339.fullmatch(expire)):
        return "time_expire 应符合rfc3339格式，如2018-06-08T10:34:56+08:00"
    return _url_problem(body.get("notify_url"))


def _pay_window(requested: str | None, now: datetime) -> datetime:
    """WeChat's reading of ``time_expire``: at least a minute, at most 90 days, 7 days if absent."""
    if not requested:
        return now + DEFAULT_PAY_WINDOW
    moment = datetime.fromisoformat(requested)
    return min(max(moment, now + MIN_PAY_WINDOW), now + MAX_PAY_WINDOW)


@bp.post("/v3/pay/transactions/jsapi")
def jsapi_prepay() -> Response:
    body = _authorized_body()
    if isinstance(body, Response):
        return body
    state = current_state()
    credentials = state.credentials
    assert credentials.pay is not None
    if body.get("mchid") != credentials.pay.mchid:
        return pay_error(400, "MCH_NOT_EXISTS")
    if body.get("appid") != credentials.app_id:
        return pay_error(400, "APPID_MCHID_NOT_MATCH")
    if problem := _prepay_problem(body):
        return pay_error(400, "PARAM_ERROR", problem)
    now = clock.now()
    asked = {"description": body["description"], "total": body["amount"]["total"],
             "payer_openid": body["payer"]["openid"], "notify_url": body["notify_url"], "attach": body.get("attach"),
             "requested_expire": body.get("time_expire", "")}
    with state.lock:
        order = state.pay_orders.get(body["out_trade_no"])
        if order is None:
            order = PayOrder(out_trade_no=body["out_trade_no"], appid=body["appid"], mchid=body["mchid"],
                             time_expire=_pay_window(body.get("time_expire"), now), created_at=now, prepay_ids=[],
                             **asked)
            state.pay_orders[order.out_trade_no] = order
        elif order.state in PAID:
            return pay_error(400, "ORDERPAID")
        elif order.state == "CLOSED":
            return pay_error(400, "ORDER_CLOSED")
        elif any(getattr(order, name) != value for name, value in asked.items()):
            return pay_error(403, "OUT_TRADE_NO_USED", "商户订单号重复，请求参数与原订单不一致")
        elif now > order.time_expire:
            return pay_error(400, "INVALID_REQUEST", "订单已超过支付结束时间，请使用新的商户订单号下单")
        prepay_id = "wx" + now.astimezone(CHINA).strftime("%d%H%M%S") + secrets.token_hex(13)
        order.prepay_ids.append(prepay_id)
    return pay_json({"prepay_id": prepay_id})


def _order_or_problem(state: SimulatorState, out_trade_no: str, mchid: Any) -> PayOrder | Response:
    assert state.credentials.pay is not None
    if mchid != state.credentials.pay.mchid:
        return pay_error(400, "PARAM_ERROR", "mchid 与订单不匹配")
    order = state.pay_orders.get(out_trade_no)
    return pay_error(404, "ORDER_NOT_EXIST") if order is None else order


@bp.get("/v3/pay/transactions/out-trade-no/<out_trade_no>")
@_authorized
def query_order(out_trade_no: str) -> Response:
    state = current_state()
    with state.lock:
        order = _order_or_problem(state, out_trade_no, request.args.get("mchid"))
        return order if isinstance(order, Response) else pay_json(transaction_json(order))


@bp.post("/v3/pay/transactions/out-trade-no/<out_trade_no>/close")
def close_order(out_trade_no: str) -> Response:
    body = _authorized_body()
    if isinstance(body, Response):
        return body
    state = current_state()
    with state.lock:
        order = _order_or_problem(state, out_trade_no, body.get("mchid"))
        if isinstance(order, Response):
            return order
        if order.state in PAID:
            return pay_error(400, "ORDERPAID", "订单已支付，不能关闭")
        order.state = "CLOSED"
    return Response(status=204)


def _refund_problem(body: dict[str, Any]) -> str | None:
    amount = body.get("amount")
    if not isinstance(body.get("out_refund_no"), str) or not OUT_REFUND_NO.fullmatch(body["out_refund_no"]):
        return "out_refund_no 应为1到64位数字、大小写字母或_-|*@"
    if not body.get("out_trade_no") and not body.get("transaction_id"):
        return "transaction_id 和 out_trade_no 必须二选一"
    if not isinstance(amount, dict) or not _is_fen(amount.get("refund")) or not _is_fen(amount.get("total")):
        return "amount.refund 和 amount.total 应为正整数（单位：分）"
    if amount.get("currency") != "CNY":
        return "amount.currency 必填，仅支持CNY"
    if "reason" in body and (not isinstance(body["reason"], str) or len(body["reason"]) > 80):
        return "reason 长度不能超过80个字符"
    return _url_problem(body["notify_url"]) if "notify_url" in body else None


def _find_order(state: SimulatorState, body: dict[str, Any]) -> PayOrder | None:
    if body.get("transaction_id"):
        return next((o for o in state.pay_orders.values() if o.transaction_id == body["transaction_id"]), None)
    return state.pay_orders.get(body["out_trade_no"])


@bp.post("/v3/refund/domestic/refunds")
def create_refund() -> Response:
    body = _authorized_body()
    if isinstance(body, Response):
        return body
    if problem := _refund_problem(body):
        return pay_error(400, "PARAM_ERROR", problem)
    state = current_state()
    asked, total = body["amount"]["refund"], body["amount"]["total"]
    with state.lock:
        order = _find_order(state, body)
        if order is None:
            return pay_error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        existing = state.pay_refunds.get(body["out_refund_no"])
        if existing is not None:  # the same refund number: the same refund, never a second one
            if (existing.out_trade_no, existing.refund, existing.total) != (order.out_trade_no, asked, total):
                return pay_error(400, "INVALID_REQUEST", "同一退款单号的请求参数与原请求不一致")
            return pay_json(refund_json(existing))
        if order.state not in PAID or order.transaction_id is None:
            return pay_error(400, "INVALID_REQUEST", "订单未支付，不能退款")
        if total != order.total:
            return pay_error(400, "INVALID_REQUEST", "订单金额或退款金额与之前请求不一致，请核实后再试")
        others = [r for r in state.pay_refunds.values() if r.out_trade_no == order.out_trade_no]
        if len(others) >= MAX_REFUNDS_PER_ORDER:
            return pay_error(400, "INVALID_REQUEST", "订单退款次数已达上限")
        if sum(r.refund for r in others if r.status != "CLOSED") + asked > order.total:
            return pay_error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        refund = PayRefund(
            out_refund_no=body["out_refund_no"],
            refund_id="503000" + _local_day() + _digits(15),
            out_trade_no=order.out_trade_no,
            transaction_id=order.transaction_id,
            refund=asked,
            total=total,
            reason=body.get("reason"),
            notify_url=body.get("notify_url") or order.notify_url,
            create_time=clock.now(),
        )
        state.pay_refunds[refund.out_refund_no] = refund
        order.state = "REFUND"
        return pay_json(refund_json(refund))


@bp.get("/v3/refund/domestic/refunds/<out_refund_no>")
@_authorized
def query_refund(out_refund_no: str) -> Response:
    state = current_state()
    with state.lock:
        refund = state.pay_refunds.get(out_refund_no)
        if refund is None:
            return pay_error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return pay_json(refund_json(refund))


@bp.get("/v3/bill/tradebill")
@_authorized
def trade_bill() -> Response:
    try:
        day = date.fromisoformat(request.args.get("bill_date", ""))
    except ValueError:
        return pay_error(400, "PARAM_ERROR", "bill_date 格式应为yyyy-MM-DD")
    if request.args.get("bill_type", "ALL") != "ALL":
        return pay_error(400, "PARAM_ERROR", "模拟器只提供ALL类型账单")
    tar_type = request.args.get("tar_type")
    if tar_type not in (None, "GZIP"):
        return pay_error(400, "PARAM_ERROR", "tar_type 仅支持GZIP")
    if clock.now() < datetime.combine(day + timedelta(days=1), BILL_READY_AT, CHINA):
        return pay_error(400, "STATEMENT_CREATING", "账单生成中，请在账单日次日10点后下载")
    state = current_state()
    credentials = state.credentials
    assert credentials.pay is not None
    with state.lock:
        plant = state.pay_bill_plants.get(day.isoformat())
        text = paybill.trade_bill(day, state.pay_orders.values(), state.pay_refunds.values(), plant,
                                  mchid=credentials.pay.mchid, appid=credentials.app_id)
        if text is None:
            return pay_error(400, "NO_STATEMENT_EXIST", "账单文件不存在，请检查当前商户号在指定日期内是否有交易或退款")
        raw = text.encode()
        digest = hashlib.sha1(raw + (b"planted" if plant and plant.corrupt_hash else b"")).hexdigest()
        token = secrets.token_urlsafe(24)
        state.pay_bill_files[token] = (gzip.compress(raw, mtime=0) if tar_type else raw, time.time() + BILL_URL_TTL)
    return pay_json({"hash_type": "SHA1", "hash_value": digest,
                     "download_url": f"{request.host_url}v3/billdownload/file?token={token}"})


@bp.get("/v3/billdownload/file")
@_authorized
def bill_download() -> Response:
    state = current_state()
    with state.lock:
        data, expires = state.pay_bill_files.get(request.args.get("token", ""), (b"", 0.0))
    if expires < time.time():
        return pay_error(400, "INVALID_REQUEST", "下载地址已失效，请重新申请账单")
    return Response(data, mimetype="application/octet-stream")


# --- what the control API does (a user pays, a refund ends) -----------------------------------------


class StageError(Exception):
    """A control call that cannot be played (unknown order, already paid…); ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _awaiting(records: dict[str, Any], key: str, what: str, attribute: str, expected: str) -> Any:
    """The record ``key`` while its ``attribute`` is still ``expected`` (404 or 409 otherwise); under the lock."""
    record = records.get(key)
    if record is None:
        raise StageError(404, f"no {what} {key}")
    if getattr(record, attribute) != expected:
        raise StageError(409, f"{what} {key} is {getattr(record, attribute)}")
    return record


def pay_order(state: SimulatorState, out_trade_no: str, *, success_time: datetime | None = None) -> PayOrder:
    """The order's payer pays it in ``wx.requestPayment`` (at ``success_time``, default now)."""
    with state.lock:
        order: PayOrder = _awaiting(state.pay_orders, out_trade_no, "order", "state", "NOTPAY")
        now = clock.now()
        if now > order.time_expire:
            raise StageError(409, f"order {out_trade_no} expired at {order.time_expire.isoformat()}")
        order.state = "SUCCESS"
        order.transaction_id = "42000" + _digits(5) + _local_day() + _digits(10)
        order.paid_openid = order.payer_openid
        order.success_time = success_time or now
        return order


def end_refund(state: SimulatorState, out_refund_no: str, status: str) -> PayRefund:
    """A PROCESSING refund ends: SUCCESS (the money is back), ABNORMAL (stuck) or CLOSED."""
    if status not in ("SUCCESS", "ABNORMAL", "CLOSED"):
        raise StageError(400, "status must be SUCCESS, ABNORMAL or CLOSED")
    with state.lock:
        refund: PayRefund = _awaiting(state.pay_refunds, out_refund_no, "refund", "status", "PROCESSING")
        refund.status = status
        refund.success_time = clock.now() if status == "SUCCESS" else None
        return refund


def payment_notification(
    state: SimulatorState, order: PayOrder, *, amount_fen: int | None = None, undecryptable: bool = False,
    stated: dict[str, str] | None = None,
) -> PayNotification:
    """TRANSACTION.SUCCESS for a paid order, remembered (not yet sent). ``stated`` makes the resource
    state another ``appid`` or ``mchid`` (a misconfigured or foreign account), signed and encrypted as usual."""
    assert state.credentials.pay is not None
    with state.lock:
        resource = {**transaction_json(order, amount_fen), **(stated or {})}
        note = build_notification(state.credentials.pay, "TRANSACTION.SUCCESS", resource,
                                  notify_url=order.notify_url, out_trade_no=order.out_trade_no,
                                  undecryptable=undecryptable, created=clock.now())
        state.pay_notifications[note.id] = note
        return note


def refund_notification(state: SimulatorState, refund: PayRefund, *, undecryptable: bool = False) -> PayNotification:
    """REFUND.SUCCESS / REFUND.ABNORMAL / REFUND.CLOSED for an ended refund, remembered (not yet sent)."""
    credentials = state.credentials.pay
    assert credentials is not None
    with state.lock:
        note = build_notification(credentials, f"REFUND.{refund.status}", refund_resource(refund, credentials.mchid),
                                  notify_url=refund.notify_url, out_trade_no=refund.out_trade_no,
                                  out_refund_no=refund.out_refund_no, undecryptable=undecryptable,
                                  created=clock.now())
        state.pay_notifications[note.id] = note
        return note


def order_json(order: PayOrder) -> dict[str, Any]:
    """An order as the control API shows it (more than WeChat's query says)."""
    return {
        **transaction_json(order),
        "description": order.description,
        "payer_openid": order.payer_openid,
        "notify_url": order.notify_url,
        "time_expire": wechat_time(order.time_expire),
        "prepay_ids": list(order.prepay_ids),
    }
