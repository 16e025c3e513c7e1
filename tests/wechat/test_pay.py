"""The WeChat Pay provider (``app.wechat.pay``): the real wechatpayv3 SDK against the live simulator."""

from __future__ import annotations

import base64
import csv
import io
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask

from app.config import ConfigError, check_production, load_settings
from app.wechat import gateway
from app.wechat.errors import (
    BadSignature,
    BillHashMismatch,
    PayConfigError,
    PayRejected,
    PayUnavailable,
)
from app.wechat.pay import Refund, TradeState, pay_config_from_settings
from app.wechat.pay.records import CHINA
from app.wechat.paykeys import (
    ALL_FILES,
    APIV3_KEY,
    MERCHANT_KEY,
    MERCHANT_PUBLIC_KEY,
    PLATFORM_KEY,
    ensure_pay_keys,
    load_pay_keys,
)
from tests.support import wait_for
from tests.wechat.constants import APP_ID, MCHID

OPENID = "o-payer-student-1"
PREPAY_PATH = "/v3/pay/transactions/jsapi"
REFUND_PATH = "/v3/refund/domestic/refunds"


def in_30_minutes() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=30)


def order(wxpay, out_trade_no: str = "FEE20261014001", amount_fen: int = 150_000, **extra):
    return wxpay.prepay(out_trade_no, "2026秋季学期住宿费", amount_fen, OPENID, in_30_minutes(), **extra)


def paid_order(wxpay, sim, out_trade_no: str = "FEE20261014001", amount_fen: int = 150_000, **pay_options) -> str:
    order(wxpay, out_trade_no, amount_fen)
    sim.pay_order(out_trade_no, notify="never", **pay_options)
    return out_trade_no


# --- prepay and wx.requestPayment ---------------------------------------------------------------------


def test_prepay_sends_our_deadline_and_jsapi_params_are_signed_with_the_merchant_key(wxpay, sim, pay_keys):
    expires_at = datetime(2026, 10, 14, 2, 30, tzinfo=UTC)  # 10:30 at school
    prepay = wxpay.prepay("FEE20261014001", "2026秋季学期住宿费", 150_000, OPENID, expires_at, attach="bill:42")

    at_wechat = sim.pay_order_state("FEE20261014001")
    assert at_wechat["time_expire"] == "2026-10-14T10:30:00+08:00"
    assert (at_wechat["amount"]["total"], at_wechat["payer_openid"], at_wechat["trade_state"]) == (150_000, OPENID,
                                                                                                    "NOTPAY")
    assert at_wechat["prepay_ids"] == [prepay.prepay_id] and prepay.expires_at == expires_at

    params = wxpay.jsapi_params(prepay.prepay_id)
    assert params["appId"] == APP_ID and params["signType"] == "RSA"
    assert params["package"] == f"prepay_id={prepay.prepay_id}"
    assert abs(int(params["timeStamp"]) - datetime.now(UTC).timestamp()) < 5
    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode()
    merchant_public = load_pem_public_key(pay_keys.read(MERCHANT_PUBLIC_KEY).encode())
    merchant_public.verify(base64.b64decode(params["paySign"]), message, padding.PKCS1v15(), SHA256())


def test_prepay_again_with_the_same_parameters_renews_and_with_others_is_refused(wxpay, sim):
    first = order(wxpay)
    again = order(wxpay)
    assert again.prepay_id != first.prepay_id
    with pytest.raises(PayRejected) as refused:
        order(wxpay, amount_fen=1)
    assert (refused.value.code, refused.value.http_status) == ("OUT_TRADE_NO_USED", 403)


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"amount_fen": 0}, "positive integer fen"),
    ({"amount_fen": 1.5}, "positive integer fen"),
    ({"amount_fen": True}, "positive integer fen"),
    ({"out_trade_no": "FEE|2026|001"}, "out_trade_no"),
    ({"out_trade_no": "short"}, "out_trade_no"),
])
def test_prepay_refuses_what_would_break_the_request_before_sending_it(wxpay, sim, kwargs, problem):
    args = {"out_trade_no": "FEE20261014001", "amount_fen": 100, **kwargs}
    with pytest.raises(ValueError, match=problem):
        wxpay.prepay(args["out_trade_no"], "住宿费", args["amount_fen"], OPENID, in_30_minutes())
    assert sim.calls() == {}


def test_prepay_refuses_a_naive_deadline(wxpay):
    with pytest.raises(ValueError, match="naive"):
        wxpay.prepay("FEE20261014001", "住宿费", 100, OPENID, datetime(2026, 10, 14, 10, 30))


# --- query and close ----------------------------------------------------------------------------------


def test_query_follows_the_order_from_unpaid_to_paid(wxpay, sim):
    order(wxpay, attach="bill:42")
    unpaid = wxpay.query("FEE20261014001")
    assert isinstance(unpaid, TradeState)
    assert (unpaid.state, unpaid.paid, unpaid.amount_fen, unpaid.transaction_id, unpaid.payer_openid) == (
        "NOTPAY", False, 150_000, None, None)

    paid_at = datetime(2026, 10, 14, 1, 45, tzinfo=UTC)
    transaction_id = sim.pay_order("FEE20261014001", notify="never", success_time=paid_at)["order"]["transaction_id"]
    paid = wxpay.query("FEE20261014001")
    assert (paid.state, paid.paid, paid.transaction_id, paid.payer_openid) == ("SUCCESS", True, transaction_id, OPENID)
    assert (paid.amount_fen, paid.payer_total_fen, paid.currency, paid.attach) == (150_000, 150_000, "CNY", "bill:42")
    assert paid.success_time == paid_at and paid.success_time.tzinfo is UTC


def test_query_of_an_unknown_order_is_rejected(wxpay):
    with pytest.raises(PayRejected) as refused:
        wxpay.query("NEVER0000001")
    assert (refused.value.code, refused.value.http_status) == ("ORDER_NOT_EXIST", 404)
    assert refused.value.user_message == "订单不存在"


def test_close_an_unpaid_order_and_a_paid_one_cannot_be(wxpay, sim):
    order(wxpay)
    wxpay.close("FEE20261014001")
    assert wxpay.query("FEE20261014001").state == "CLOSED"
    with pytest.raises(PayRejected) as closed:
        order(wxpay)
    assert closed.value.code == "ORDER_CLOSED"

    paid_order(wxpay, sim, "FEE20261014002")
    with pytest.raises(PayRejected) as refused:
        wxpay.close("FEE20261014002")
    assert (refused.value.code, refused.value.user_message) == ("ORDERPAID", "订单已支付")
    assert wxpay.query("FEE20261014002").state == "SUCCESS"


# --- refunds ------------------------------------------------------------------------------------------


def test_refund_round_trip(wxpay, sim):
    paid_order(wxpay, sim)
    refund = wxpay.refund("FEE20261014001", "RF20261014001", 50_000, 150_000, "退宿")
    assert isinstance(refund, Refund)
    assert (refund.status, refund.refund_fen, refund.total_fen, refund.out_trade_no) == (
        "PROCESSING", 50_000, 150_000, "FEE20261014001")
    assert wxpay.query("FEE20261014001").state == "REFUND"
    assert wxpay.query_refund("RF20261014001").status == "PROCESSING"

    sim.end_refund("RF20261014001", "SUCCESS", notify="never")
    done = wxpay.query_refund("RF20261014001")
    assert (done.status, done.refund_id, done.user_received_account) == ("SUCCESS", refund.refund_id, "支付用户零钱")
    assert done.success_time is not None and done.success_time.tzinfo is UTC


def test_refund_number_is_idempotent(wxpay, sim):
    paid_order(wxpay, sim)
    first = wxpay.refund("FEE20261014001", "RF20261014001", 50_000, 150_000, "退宿")
    again = wxpay.refund("FEE20261014001", "RF20261014001", 50_000, 150_000, "退宿")
    assert again.refund_id == first.refund_id
    # The whole order is still refundable once: the repeat did not refund a second time.
    wxpay.refund("FEE20261014001", "RF20261014002", 100_000, 150_000, "退宿")
    with pytest.raises(PayRejected) as other_amount:
        wxpay.refund("FEE20261014001", "RF20261014001", 40_000, 150_000, "退宿")
    assert other_amount.value.code == "INVALID_REQUEST"


def test_refunds_never_exceed_what_was_paid(wxpay, sim):
    paid_order(wxpay, sim, amount_fen=10_000)
    wxpay.refund("FEE20261014001", "RF20261014001", 6_000, 10_000, "部分退款")
    with pytest.raises(PayRejected) as refused:
        wxpay.refund("FEE20261014001", "RF20261014002", 5_000, 10_000, "部分退款")
    assert refused.value.code == "INVALID_REQUEST" and "超过" in refused.value.message
    with pytest.raises(ValueError, match="exceed"):
        wxpay.refund("FEE20261014001", "RF20261014003", 10_001, 10_000, "部分退款")

    sim.end_refund("RF20261014001", "CLOSED", notify="never")  # a closed refund gives its amount back
    assert wxpay.refund("FEE20261014001", "RF20261014002", 5_000, 10_000, "部分退款").status == "PROCESSING"


def test_refund_of_an_unpaid_or_unknown_order_is_rejected(wxpay, sim):
    order(wxpay)
    with pytest.raises(PayRejected) as unpaid:
        wxpay.refund("FEE20261014001", "RF20261014001", 100, 150_000, "退款")
    assert unpaid.value.code == "INVALID_REQUEST"
    with pytest.raises(PayRejected) as unknown:
        wxpay.refund("NEVER0000001", "RF20261014002", 100, 150_000, "退款")
    assert unknown.value.code == "RESOURCE_NOT_EXISTS"
    with pytest.raises(PayRejected) as no_refund:
        wxpay.query_refund("RF-NEVER")
    assert (no_refund.value.code, no_refund.value.http_status) == ("RESOURCE_NOT_EXISTS", 404)


# --- notifications ------------------------------------------------------------------------------------


def test_payment_notification_as_posted_is_verified_and_decrypted(wxpay, sim, notify_sink):
    order(wxpay, attach="bill:42")
    sent = sim.pay_order("FEE20261014001")
    [posted] = notify_sink.wait(1)
    assert posted.path == "/api/v1/payments/wechat/notify"

    note = wxpay.parse_notify(posted.headers, posted.body)
    assert (note.id, note.event_type, note.summary) == (sent["notification_id"], "TRANSACTION.SUCCESS", "支付成功")
    assert isinstance(note.resource, TradeState)
    assert note.resource == wxpay.query("FEE20261014001")
    assert note.resource.attach == "bill:42"


@pytest.mark.parametrize("status", ["SUCCESS", "ABNORMAL", "CLOSED"])
def test_refund_notifications_are_parsed(wxpay, sim, notify_sink, status):
    paid_order(wxpay, sim)
    wxpay.refund("FEE20261014001", "RF20261014001", 50_000, 150_000, "退宿")
    sim.end_refund("RF20261014001", status)
    [posted] = notify_sink.wait(1)

    note = wxpay.parse_notify(posted.headers, posted.body)
    assert note.event_type == f"REFUND.{status}"
    assert isinstance(note.resource, Refund)
    assert (note.resource.out_refund_no, note.resource.status, note.resource.refund_fen) == (
        "RF20261014001", status, 50_000)
    assert (note.resource.success_time is not None) == (status == "SUCCESS")


def test_duplicate_notifications_carry_the_same_id(wxpay, sim, notify_sink):
    order(wxpay)
    sim.pay_order("FEE20261014001", copies=3, concurrent=True)
    notes = [wxpay.parse_notify(p.headers, p.body) for p in notify_sink.wait(3)]
    assert len({n.id for n in notes}) == 1
    assert len({p.headers["Wechatpay-Nonce"] for p in notify_sink.received}) == 3  # each signed afresh


def test_a_notification_with_a_wrong_amount_is_authentic_but_says_so(wxpay, sim, notify_sink):
    order(wxpay)
    sim.pay_order("FEE20261014001", amount_fen=1)
    [posted] = notify_sink.wait(1)
    note = wxpay.parse_notify(posted.headers, posted.body)
    assert note.resource.amount_fen == 1
    assert wxpay.query("FEE20261014001").amount_fen == 150_000  # the payments domain compares


def test_a_notification_never_sent_is_found_by_the_query(wxpay, sim, notify_sink):
    paid_order(wxpay, sim)
    assert wxpay.query("FEE20261014001").paid
    assert sim.pay_notifications() == [] and notify_sink.received == []


# --- the guards of notifications ----------------------------------------------------------------------


@pytest.fixture
def posted(wxpay, sim, notify_sink):
    """One genuine TRANSACTION.SUCCESS as the simulator posted it."""
    order(wxpay)
    sim.pay_order("FEE20261014001")
    return notify_sink.wait(1)[0]


def refusal(wxpay, headers, body) -> BadSignature:
    with pytest.raises(BadSignature) as refused:
        wxpay.parse_notify(headers, body)
    return refused.value


@pytest.mark.parametrize("header", ["Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce",
                                    "Wechatpay-Serial", "Wechatpay-Signature-Type"])
def test_a_missing_signature_header_is_a_clean_refusal(wxpay, posted, header):
    headers = {k: v for k, v in posted.headers.items() if k.lower() != header.lower()}
    assert refusal(wxpay, headers, posted.body).code == "MISSING_SIGNATURE_HEADER"


def test_headers_are_found_in_any_case(wxpay, posted):
    lowered = {k.lower(): v for k, v in posted.headers.items()}
    assert wxpay.parse_notify(lowered, posted.body).event_type == "TRANSACTION.SUCCESS"


@pytest.mark.parametrize(("minutes", "accepted"), [(4, True), (-4, True), (6, False), (-6, False)])
def test_the_timestamp_must_be_within_five_minutes_of_our_clock(wxpay, posted, clock, minutes, accepted):
    clock.shift(minutes=minutes)
    if accepted:
        assert wxpay.parse_notify(posted.headers, posted.body).event_type == "TRANSACTION.SUCCESS"
    else:
        assert refusal(wxpay, posted.headers, posted.body).code == "STALE_TIMESTAMP"


SPOILED_SIGNATURES = {
    "missing_signature": "MISSING_SIGNATURE_HEADER",
    "forged_signature": "SIGNATURE_MISMATCH",
    "wrong_signature_type": "UNSUPPORTED_SIGNATURE_TYPE",
    "unknown_serial": "UNKNOWN_SERIAL",
}
"""How the simulator can spoil a signed message, and the refusal each earns."""


@pytest.mark.parametrize(("tampering", "code"), [
    *SPOILED_SIGNATURES.items(), ("stale_timestamp", "STALE_TIMESTAMP"), ("undecryptable", "UNDECRYPTABLE")])
def test_spoiled_notifications_are_refused(wxpay, sim, notify_sink, tampering, code):
    order(wxpay)
    sim.pay_order("FEE20261014001", tampering=tampering)
    posted = notify_sink.wait(1)[0]
    assert refusal(wxpay, posted.headers, posted.body).code == code


def test_an_unknown_serial_is_refused_without_any_outbound_call(wxpay, make_pay, sim, notify_sink, closed_port_url):
    order(wxpay)
    sim.pay_order("FEE20261014001", tampering="unknown_serial")
    posted = notify_sink.wait(1)[0]
    sim.reset()  # call counts start again from zero

    assert refusal(wxpay, posted.headers, posted.body).code == "UNKNOWN_SERIAL"
    assert sim.calls() == {}  # no /v3/certificates, nothing at all
    unreachable = make_pay(api_base_url=closed_port_url)  # had it tried a call, it would fail otherwise
    assert refusal(unreachable, posted.headers, posted.body).code == "UNKNOWN_SERIAL"


def test_a_body_changed_after_signing_is_refused(wxpay, posted):
    forged = posted.body.replace(b'"TRANSACTION.SUCCESS"', b'"TRANSACTION.SUCCESS" ')
    assert refusal(wxpay, posted.headers, forged).code == "SIGNATURE_MISMATCH"
    assert refusal(wxpay, posted.headers, b"\xff\xfe").code == "MALFORMED_NOTIFICATION"


def test_another_merchants_apiv3_key_cannot_read_it(make_pay, posted):
    stranger = make_pay(apiv3_key="0123456789abcdef0123456789abcdef")
    assert refusal(stranger, posted.headers, posted.body).code == "UNDECRYPTABLE"


# --- the guards of answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(("tampering", "code"), SPOILED_SIGNATURES.items())
def test_answers_are_verified_before_they_are_believed(wxpay, sim, tampering, code):
    order(wxpay)
    sim.tamper_pay_answers(tampering)
    with pytest.raises(BadSignature) as refused:
        wxpay.query("FEE20261014001")
    assert refused.value.code == code
    assert "/v3/certificates" not in sim.calls()  # the SDK would have downloaded certificates
    assert wxpay.query("FEE20261014001").state == "NOTPAY"  # the next answer is signed again


def test_answers_are_not_held_to_the_notification_clock(wxpay, sim):
    """A stale timestamp refuses a notification (replay), not an answer to our own call over TLS."""
    order(wxpay)
    sim.tamper_pay_answers("stale_timestamp")
    assert wxpay.query("FEE20261014001").state == "NOTPAY"


# --- unavailability and refusals ----------------------------------------------------------------------


def test_a_timeout_is_unavailable(make_pay, sim):
    wxpay = make_pay(timeout=0.3)
    sim.inject_fault(PREPAY_PATH, delay_seconds=1.0)
    with pytest.raises(PayUnavailable) as late:
        order(wxpay, "FEE20261014LATE")
    assert (late.value.code, late.value.retryable) == ("TIMEOUT", True)
    # WeChat still creates the order it answered too late (why a retry must reuse the order number);
    # waiting for it also keeps the late request from landing in the next test's simulator.
    assert wait_for(lambda: sim.pay_order_state("FEE20261014LATE")["trade_state"] == "NOTPAY", seconds=10)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable(wxpay, sim, status):
    sim.inject_fault(PREPAY_PATH, http_status=status)
    with pytest.raises(PayUnavailable) as failed:
        order(wxpay)
    assert (failed.value.http_status, failed.value.code) == (status, f"HTTP_{status}")
    assert failed.value.user_message == "微信支付暂时不可用，请稍后再试"


@pytest.mark.parametrize(("code", "status", "error"), [
    ("SYSTEM_ERROR", 500, PayUnavailable),
    ("FREQUENCY_LIMITED", 429, PayUnavailable),
    ("BANK_ERROR", 400, PayUnavailable),
    ("NOT_ENOUGH", 403, PayRejected),
    ("PARAM_ERROR", 400, PayRejected),
])
def test_wechat_codes_decide_between_retry_and_refusal(wxpay, sim, code, status, error):
    paid_order(wxpay, sim)
    sim.inject_pay_error(REFUND_PATH, code, http_status=status)
    with pytest.raises(error) as failed:
        wxpay.refund("FEE20261014001", "RF20261014001", 100, 150_000, "退款")
    assert (failed.value.code, failed.value.http_status) == (code, status)
    assert failed.value.retryable is (error is PayUnavailable)


def test_nothing_listening_is_unavailable(make_pay, closed_port_url):
    with pytest.raises(PayUnavailable) as failed:
        order(make_pay(api_base_url=closed_port_url))
    assert failed.value.code == "NETWORK_ERROR"


def test_key_material_stays_out_of_the_logs(make_pay, sim, pay_keys, caplog):
    wxpay = make_pay()
    caplog.set_level(logging.DEBUG)
    sim.inject_fault(PREPAY_PATH, http_status=500)
    with pytest.raises(PayUnavailable):
        order(wxpay)
    order(wxpay, "FEE20261014002")
    logged = caplog.text + repr(wxpay.config)
    material = [pay_keys.read(APIV3_KEY), *pay_keys.read(MERCHANT_KEY).splitlines()[1:-1], "WECHATPAY2-SHA256"]
    assert "wechat pay call failed" in caplog.text
    assert not [m for m in material if m in logged]


# --- the trade bill -----------------------------------------------------------------------------------


def yesterday() -> date:
    return datetime.now(CHINA).date() - timedelta(days=1)


def bill_rows(bill: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(bill.decode("utf-8-sig"))))


def test_the_bill_is_unzipped_and_checked_against_its_sha1(wxpay, sim):
    paid_at = datetime.combine(yesterday(), datetime.min.time(), CHINA) + timedelta(hours=9)
    paid_order(wxpay, sim, "FEE20261013001", 150_000, success_time=paid_at)
    paid_order(wxpay, sim, "FEE20261013002", 2_000, success_time=paid_at + timedelta(hours=1))

    rows = bill_rows(wxpay.fetch_bill(yesterday()))
    assert rows[0][:3] == ["交易时间", "公众账号ID", "商户号"]
    assert [r[6] for r in rows[1:3]] == ["`FEE20261013001", "`FEE20261013002"]
    assert rows[-1][:2] == ["`2", "`1520.00"]


def test_a_bill_whose_sha1_does_not_match_is_refused(wxpay, sim):
    paid_order(wxpay, sim, success_time=datetime.combine(yesterday(), datetime.min.time(), CHINA))
    sim.plant_bill_mismatch(yesterday(), corrupt_hash=True)
    with pytest.raises(BillHashMismatch) as refused:
        wxpay.fetch_bill(yesterday())
    assert (refused.value.code, refused.value.retryable) == ("HASH_MISMATCH", True)


def test_bills_not_ready_or_empty_are_rejected(wxpay, sim):
    paid_order(wxpay, sim)
    with pytest.raises(PayRejected) as today:
        wxpay.fetch_bill(datetime.now(CHINA).date())
    assert today.value.code == "STATEMENT_CREATING"
    with pytest.raises(PayRejected) as empty:
        wxpay.fetch_bill(yesterday())
    assert empty.value.code == "NO_STATEMENT_EXIST"


# --- configuration -------------------------------------------------------------------------------------


def test_public_key_mode_only(make_pay, tmp_path):
    with pytest.raises(PayConfigError, match="both"):
        make_pay(platform_cert_dir=str(tmp_path))
    with pytest.raises(PayConfigError, match="neither"):
        make_pay(public_key=None, public_key_id=None)
    with pytest.raises(PayConfigError, match="neither"):
        make_pay(public_key_id=None)
    with pytest.raises(PayConfigError, match="not supported"):
        make_pay(public_key=None, public_key_id=None, platform_cert_dir=str(tmp_path))


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"apiv3_key": "too-short"}, "32 bytes"),
    ({"notify_url": "https://zhhq.example.edu.cn/notify?x=1"}, "query"),
    ({"notify_url": "/relative"}, "NOTIFY_URL"),
    ({"merchant_private_key": "not a key"}, "key material"),
    ({"api_base_url": "api.mch.weixin.qq.com"}, "BASE_URL"),
])
def test_unusable_configurations_are_refused(make_pay, overrides, problem):
    with pytest.raises(PayConfigError, match=problem):
        make_pay(**overrides)


def settings_for(pay_keys, sim_url: str, **extra: str) -> dict:
    return load_settings({**pay_keys.settings(mchid=MCHID), "WECHATPAY_NOTIFY_URL": "https://zhhq.example.edu.cn/n",
                          "WECHATPAY_API_BASE_URL": sim_url, **extra}, environ={})


def test_gateway_builds_the_provider_once_per_app_from_the_settings(pay_keys, sim_url, sim):
    web = Flask(__name__)
    web.config.update(settings_for(pay_keys, sim_url, WECHATPAY_TIMEOUT_SECONDS=2.5))
    with web.app_context():
        provider = gateway.pay()
        assert gateway.pay() is provider
        assert (provider.config.timeout, provider.config.mchid, provider.config.appid) == (2.5, MCHID, APP_ID)
        provider.prepay("FEE20261014001", "住宿费", 100, OPENID, in_30_minutes())
    assert sim.pay_order_state("FEE20261014001")["trade_state"] == "NOTPAY"


def test_settings_errors_name_the_setting_not_the_secret(pay_keys, sim_url, tmp_path):
    with pytest.raises(PayConfigError, match="WECHATPAY_NOTIFY_URL"):
        pay_config_from_settings(settings_for(pay_keys, sim_url, WECHATPAY_NOTIFY_URL=""))
    with pytest.raises(PayConfigError, match="WECHATPAY_APIV3_KEY_FILE cannot be read") as unreadable:
        pay_config_from_settings(settings_for(pay_keys, sim_url, WECHATPAY_APIV3_KEY_FILE=str(tmp_path / "none")))
    assert str(tmp_path) not in str(unreadable.value)


def test_production_wants_wechat_pay_over_https():
    values = load_settings(environ={"APP_ENV": "production", "SECRET_KEY": "x" * 40, "WECHAT_SIMULATOR": "false",
                                    "DATABASE_URL": "postgresql+psycopg://u@db/zhhq", "REDIS_URL": "redis://c:6379/0",
                                    "WECHAT_APP_SECRET": "real", "WECHATPAY_API_BASE_URL": "http://127.0.0.1:5001"})
    with pytest.raises(ConfigError, match="WECHATPAY_API_BASE_URL"):
        check_production(values)


def test_paykeys_are_made_once_kept_and_secret(tmp_path):
    made = ensure_pay_keys(tmp_path / "keys")
    assert ensure_pay_keys(tmp_path / "keys") == made == load_pay_keys(tmp_path / "keys")
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == sorted(ALL_FILES)
    assert len(made.read(APIV3_KEY)) == 32 and len(made.merchant_serial_no) == 40
    for secret in (MERCHANT_KEY, PLATFORM_KEY, APIV3_KEY):
        assert made.path(secret).stat().st_mode & 0o077 == 0
    (tmp_path / "keys" / PLATFORM_KEY).unlink()
    with pytest.raises(FileNotFoundError, match=PLATFORM_KEY):
        load_pay_keys(tmp_path / "keys")
    assert ensure_pay_keys(tmp_path / "keys").public_key_id != made.public_key_id  # incomplete: made afresh
