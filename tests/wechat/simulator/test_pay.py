"""WeChat Pay v3 (``pay``, ``paynotify``, ``paybill``): the simulator's protocol in plain HTTP, no SDK."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from app.wechat.simulator import create_simulator
from app.wechat.simulator.protocol import CHINA
from tests.wechat.constants import APP_ID, MCHID
from tests.wechat.simulator.helpers import PayHttp

ORDER = "CANTEEN0000001"
QUERY = f"/v3/pay/transactions/out-trade-no/{ORDER}?mchid={MCHID}"


@pytest.fixture
def http(sim_url, pay_keys) -> PayHttp:
    return PayHttp(sim_url, pay_keys)


@pytest.fixture
def paid(http, sim, notify_sink) -> dict:
    """ORDER, paid (no notification)."""
    assert http.prepay(ORDER, notify_sink.url).status_code == 200
    return sim.pay_order(ORDER, notify="never")["order"]


def error(response: requests.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"code", "message"} and body["message"]
    return response.status_code, body["code"]


# --- signed requests, signed answers ------------------------------------------------------------------


def test_every_answer_is_signed_with_the_platform_key_errors_included(http, notify_sink):
    created = http.prepay(ORDER, notify_sink.url)
    assert created.status_code == 200 and http.verified(created)
    assert created.json()["prepay_id"].startswith("wx")
    missing = http.call("GET", f"/v3/pay/transactions/out-trade-no/NOSUCHORDER1?mchid={MCHID}")
    assert error(missing) == (404, "ORDER_NOT_EXIST") and http.verified(missing)


def test_requests_must_be_signed_by_the_merchant(http, notify_sink):
    body = {"out_refund_no": "R1", "out_trade_no": ORDER, "amount": {"refund": 1, "total": 1, "currency": "CNY"}}
    text = json.dumps(body)
    target = "/v3/refund/domestic/refunds"
    cases = {
        "none": requests.post(http.base + target, json=body, timeout=5),
        "another serial": http.call("POST", target, body,
                                    authorization=http.authorization("POST", target, text, serial="ABCDEF")),
        "stale": http.call("POST", target, body,
                           authorization=http.authorization("POST", target, text, timestamp=int(time.time()) - 400)),
        "body changed": http.call("POST", target, body, sent_body=text.replace('"refund": 1', '"refund": 2')),
        "another path": http.call("POST", target, body,
                                  authorization=http.authorization("POST", target + "?x=1", text)),
    }
    assert {name: error(answer) for name, answer in cases.items()} == dict.fromkeys(cases, (401, "SIGN_ERROR"))


def test_without_key_material_wechat_pay_is_not_served():
    answer = create_simulator().test_client().get(f"/v3/pay/transactions/out-trade-no/{ORDER}?mchid={MCHID}")
    assert answer.status_code == 501 and answer.get_json()["code"] == "SYSTEM_ERROR"


# --- prepay -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"appid": "wx-someone-else"}, 400, "APPID_MCHID_NOT_MATCH"),
    ({"mchid": "1900000000"}, 400, "MCH_NOT_EXISTS"),
    ({"payer": {}}, 400, "PARAM_ERROR"),
    ({"amount": {"total": 0}}, 400, "PARAM_ERROR"),
    ({"amount": {"total": 9.5}}, 400, "PARAM_ERROR"),
    ({"amount": {"total": 100, "currency": "USD"}}, 400, "PARAM_ERROR"),
    ({"description": ""}, 400, "PARAM_ERROR"),
    ({"out_trade_no": "abc"}, 400, "PARAM_ERROR"),
    ({"notify_url": "https://zhhq.example.edu.cn/notify?order=1"}, 400, "PARAM_ERROR"),
    ({"notify_url": "zhhq.example.edu.cn/notify"}, 400, "PARAM_ERROR"),
    ({"time_expire": "2026-10-14 10:30:00"}, 400, "PARAM_ERROR"),
    ({"time_expire": "2026-10-14T10:30:00"}, 400, "PARAM_ERROR"),
])
def test_prepay_validates_like_wechat(http, notify_sink, change, status, code):
    body = {"appid": APP_ID, "mchid": MCHID, "description": "食堂订餐", "out_trade_no": ORDER,
            "notify_url": notify_sink.url, "amount": {"total": 100, "currency": "CNY"},
            "payer": {"openid": "o-sim-payer"}, **change}
    assert error(http.call("POST", "/v3/pay/transactions/jsapi", body)) == (status, code)


def test_time_expire_is_read_as_wechat_reads_it(http, sim, notify_sink):
    now = datetime.now(CHINA)
    asked = (now + timedelta(seconds=10)).isoformat(timespec="seconds")
    http.prepay(ORDER, notify_sink.url, time_expire=asked)
    kept = datetime.fromisoformat(sim.pay_order_state(ORDER)["time_expire"])
    assert timedelta(seconds=55) <= kept - now <= timedelta(seconds=65)  # at least a minute after the prepay

    http.prepay("CANTEEN0000002", notify_sink.url)
    default = datetime.fromisoformat(sim.pay_order_state("CANTEEN0000002")["time_expire"])
    assert abs(default - now - timedelta(days=7)) < timedelta(seconds=5)


def test_an_expired_order_cannot_be_paid_or_prepaid(http, sim, notify_sink, clock):
    expire = (datetime.now(CHINA) + timedelta(minutes=15)).isoformat(timespec="seconds")
    http.prepay(ORDER, notify_sink.url, time_expire=expire)
    clock.shift(minutes=16)
    with pytest.raises(requests.HTTPError) as refused:
        sim.pay_order(ORDER)
    assert refused.value.response.status_code == 409
    assert error(http.prepay(ORDER, notify_sink.url, time_expire=expire)) == (400, "INVALID_REQUEST")


# --- query and close ----------------------------------------------------------------------------------


def test_query_answers_wechats_shapes(http, sim, notify_sink):
    http.prepay(ORDER, notify_sink.url, attach="bill:7")
    unpaid = http.call("GET", QUERY).json()
    assert unpaid["trade_state"] == "NOTPAY" and unpaid["trade_state_desc"] == "订单未支付"
    assert not {"transaction_id", "payer", "success_time", "attach"} & set(unpaid)
    assert unpaid["amount"] == {"total": 1000, "currency": "CNY", "payer_currency": "CNY"}

    sim.pay_order(ORDER, notify="never")
    paid = http.call("GET", QUERY).json()
    assert (paid["trade_state"], paid["trade_type"], paid["attach"]) == ("SUCCESS", "JSAPI", "bill:7")
    assert len(paid["transaction_id"]) == 28 and paid["payer"] == {"openid": "o-sim-payer"}
    assert paid["amount"]["payer_total"] == 1000 and paid["success_time"].endswith("+08:00")
    assert error(http.call("GET", f"/v3/pay/transactions/out-trade-no/{ORDER}?mchid=1900000000")) == (
        400, "PARAM_ERROR")


def test_close_answers_204_and_a_paid_order_cannot_be_closed(http, sim, notify_sink, paid):
    http.prepay("CANTEEN0000002", notify_sink.url)
    target = "/v3/pay/transactions/out-trade-no/CANTEEN0000002/close"
    closed = http.call("POST", target, {"mchid": MCHID})
    assert (closed.status_code, closed.content) == (204, b"") and http.verified(closed)
    assert sim.pay_order_state("CANTEEN0000002")["trade_state"] == "CLOSED"
    assert error(http.prepay("CANTEEN0000002", notify_sink.url)) == (400, "ORDER_CLOSED")

    refused = http.call("POST", f"/v3/pay/transactions/out-trade-no/{ORDER}/close", {"mchid": MCHID})
    assert error(refused) == (400, "ORDERPAID")
    assert error(http.prepay(ORDER, notify_sink.url)) == (400, "ORDERPAID")


# --- refunds ------------------------------------------------------------------------------------------


def test_refunds_never_exceed_what_was_paid(http, sim, paid):
    assert http.refund(ORDER, "R1", 600).json()["status"] == "PROCESSING"
    assert error(http.refund(ORDER, "R2", 401)) == (400, "INVALID_REQUEST")
    assert http.refund(ORDER, "R2", 400).status_code == 200
    assert error(http.refund(ORDER, "R3", 1)) == (400, "INVALID_REQUEST")
    assert http.call("GET", QUERY).json()["trade_state"] == "REFUND"


def test_the_same_refund_number_is_the_same_refund(http, sim, paid):
    first = http.refund(ORDER, "R1", 600).json()
    assert http.refund(ORDER, "R1", 600).json() == first
    assert error(http.refund(ORDER, "R1", 500)) == (400, "INVALID_REQUEST")
    assert http.refund(ORDER, "R2", 400).status_code == 200  # 600 refunded once, not twice


def test_refund_checks_the_order(http, sim, notify_sink, paid):
    assert error(http.refund("NOSUCHORDER1", "R1", 1)) == (404, "RESOURCE_NOT_EXISTS")
    assert error(http.refund(ORDER, "R1", 1, total=999)) == (400, "INVALID_REQUEST")
    http.prepay("CANTEEN0000002", notify_sink.url)
    assert error(http.refund("CANTEEN0000002", "R2", 1)) == (400, "INVALID_REQUEST")
    by_transaction = {"transaction_id": paid["transaction_id"], "out_refund_no": "R3",
                      "amount": {"refund": 1, "total": 1000, "currency": "CNY"}}
    assert http.call("POST", "/v3/refund/domestic/refunds", by_transaction).json()["out_trade_no"] == ORDER


def test_refund_query_follows_the_refund(http, sim, paid):
    http.refund(ORDER, "R1", 600)
    assert http.call("GET", "/v3/refund/domestic/refunds/R1").json()["status"] == "PROCESSING"
    sim.end_refund("R1", "SUCCESS", notify="never")
    done = http.call("GET", "/v3/refund/domestic/refunds/R1").json()
    assert (done["status"], done["amount"]["refund"], done["amount"]["total"]) == ("SUCCESS", 600, 1000)
    assert done["success_time"].endswith("+08:00")
    assert error(http.call("GET", "/v3/refund/domestic/refunds/R9")) == (404, "RESOURCE_NOT_EXISTS")
    with pytest.raises(requests.HTTPError):
        sim.end_refund("R1", "SUCCESS")  # already ended


# --- notifications ------------------------------------------------------------------------------------


def test_the_payment_notification_is_wechats_envelope_signed_and_encrypted(http, sim, notify_sink):
    http.prepay(ORDER, notify_sink.url)
    sim.pay_order(ORDER)
    [posted] = notify_sink.wait(1)
    body = json.loads(posted.body)
    assert (body["event_type"], body["resource_type"], body["summary"]) == (
        "TRANSACTION.SUCCESS", "encrypt-resource", "支付成功")
    assert body["resource"]["algorithm"] == "AEAD_AES_256_GCM"
    assert body["resource"]["associated_data"] == body["resource"]["original_type"] == "transaction"
    assert http.decrypt(body) == http.call("GET", QUERY).json()

    fake = requests.Response()
    fake.headers.update(posted.headers)
    fake._content = posted.body
    assert http.verified(fake)


def test_paying_by_prepay_id_is_what_wx_request_payment_does(http, sim, notify_sink):
    prepay_id = http.prepay(ORDER, notify_sink.url).json()["prepay_id"]
    answer = sim.pay_prepay(prepay_id)
    assert answer["order"]["out_trade_no"] == ORDER and answer["order"]["trade_state"] == "SUCCESS"
    [posted] = notify_sink.wait(1)
    assert http.decrypt(json.loads(posted.body))["out_trade_no"] == ORDER
    with pytest.raises(requests.HTTPError) as unknown:
        sim.pay_prepay("wx-no-such-prepay")
    assert unknown.value.response.status_code == 404


def test_the_refund_notification_carries_refund_status(http, sim, notify_sink, paid):
    http.refund(ORDER, "R1", 600)
    sim.end_refund("R1", "ABNORMAL")
    body = json.loads(notify_sink.wait(1)[0].body)
    assert (body["event_type"], body["resource"]["associated_data"]) == ("REFUND.ABNORMAL", "refund")
    resource = http.decrypt(body)
    assert (resource["refund_status"], resource["out_refund_no"], resource["mchid"]) == ("ABNORMAL", "R1", MCHID)
    assert "success_time" not in resource


def test_a_notification_answered_with_an_error_is_retried(http, sim, notify_sink):
    http.prepay(ORDER, notify_sink.url)
    notify_sink.answer(500, 404)
    sent = sim.pay_order(ORDER)
    note = sim.wait_pay_deliveries(sent["notification_id"], attempts=3)
    assert [d["status_code"] for d in note["deliveries"]] == [500, 404, 204]
    assert note["status"] == "delivered"
    assert len({p.body for p in notify_sink.received}) == 1  # the same body every time


def test_a_notification_nobody_accepts_fails_after_the_retries(http, sim, notify_sink):
    http.prepay(ORDER, notify_sink.url)
    notify_sink.answer(*[503] * 10)
    sent = sim.pay_order(ORDER)
    sim.wait_pay_deliveries(sent["notification_id"], attempts=4)
    deadline = time.monotonic() + 3
    while (notes := sim.pay_notifications())[0]["status"] != "failed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(n["status"], len(n["deliveries"])) for n in notes] == [("failed", 4)]


def test_notifications_can_be_held_and_arrive_out_of_order(http, sim, notify_sink):
    http.prepay(ORDER, notify_sink.url)
    payment = sim.pay_order(ORDER, notify="hold")["notification_id"]
    http.refund(ORDER, "R1", 1000)
    sim.end_refund("R1", "SUCCESS")
    notify_sink.wait(1)
    assert [n["status"] for n in sim.pay_notifications(event_type="TRANSACTION.SUCCESS")] == ["held"]

    sim.send_pay_notification(payment)
    arrived = [json.loads(p.body)["event_type"] for p in notify_sink.wait(2)]
    assert arrived == ["REFUND.SUCCESS", "TRANSACTION.SUCCESS"]


def test_late_duplicate_and_concurrent_notifications(http, sim, notify_sink):
    http.prepay(ORDER, notify_sink.url)
    sent = sim.pay_order(ORDER, delay_seconds=0.4)
    time.sleep(0.2)
    assert notify_sink.received == []
    notify_sink.wait(1)
    sim.send_pay_notification(sent["notification_id"], copies=3, concurrent=True)
    posts = notify_sink.wait(4)
    assert len({json.loads(p.body)["id"] for p in posts}) == 1


def test_never_means_no_notification(http, sim, notify_sink, paid):
    time.sleep(0.2)
    assert sim.pay_notifications() == [] and notify_sink.received == []


def test_reset_forgets_orders_and_stops_deliveries(http, sim, notify_sink):
    http.prepay(ORDER, notify_sink.url)
    sim.pay_order(ORDER, delay_seconds=0.3)
    sim.reset()
    time.sleep(0.5)
    assert notify_sink.received == []
    assert error(http.call("GET", QUERY)) == (404, "ORDER_NOT_EXIST")


@pytest.mark.parametrize("bad", [{"copies": 0}, {"tampering": "rot13"}, {"notify": "later"},
                                 {"delay_seconds": -1}, {"amount_fen": "1"}, {"success_time": "yesterday"}])
def test_control_refuses_bad_options(sim_url, http, notify_sink, bad):
    http.prepay(ORDER, notify_sink.url)
    answer = requests.post(f"{sim_url}__sim__/pay/orders/{ORDER}/pay", json=bad, timeout=5)
    assert answer.status_code == 400


def test_control_refuses_to_pay_twice_or_an_unknown_order(sim, paid):
    for out_trade_no, status in ((ORDER, 409), ("NOSUCHORDER1", 404)):
        with pytest.raises(requests.HTTPError) as refused:
            sim.pay_order(out_trade_no)
        assert refused.value.response.status_code == status


# --- the trade bill -----------------------------------------------------------------------------------


def yesterday_at(hour: int) -> datetime:
    day = datetime.now(CHINA).date() - timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA)


def bill(http: PayHttp, day: str, tar_type: str | None = "GZIP") -> tuple[dict, bytes]:
    query = f"/v3/bill/tradebill?bill_date={day}&bill_type=ALL" + (f"&tar_type={tar_type}" if tar_type else "")
    announced = http.call("GET", query)
    assert announced.status_code == 200 and http.verified(announced), announced.text
    doc = announced.json()
    target = doc["download_url"].removeprefix(http.base)
    file = http.call("GET", target)
    assert file.status_code == 200 and "Wechatpay-Signature" not in file.headers  # WeChat does not sign files
    return doc, file.content


@pytest.fixture
def day_of_business(http, sim, notify_sink) -> str:
    """Yesterday: two payments (100.00 and 0.01 yuan), a refund of 30.00 of the first."""
    for no, total, hour in (("CANTEEN0000001", 10_000, 9), ("CANTEEN0000002", 1, 12)):
        http.prepay(no, notify_sink.url, total=total)
        sim.pay_order(no, notify="never", success_time=yesterday_at(hour))
    http.refund("CANTEEN0000001", "R1", 3_000, total=10_000)
    return yesterday_at(0).date().isoformat()


def test_the_bill_is_wechats_csv_gzipped_with_the_sha1_of_the_csv(http, sim, day_of_business):
    doc, file = bill(http, day_of_business)
    csv_bytes = gzip.decompress(file)
    assert (doc["hash_type"], doc["hash_value"]) == ("SHA1", hashlib.sha1(csv_bytes).hexdigest())
    text = csv_bytes.decode("utf-8")
    assert text.startswith("\ufeff交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型")
    lines = text.removeprefix("\ufeff").split("\r\n")
    assert lines[-1] == "" and lines[-3].startswith("总交易单数,应结订单总金额,退款总金额")
    details = [line.split(",") for line in lines[1:-3]]
    assert all(field.startswith("`") for row in details for field in row)
    assert [(r[6], r[9], r[12]) for r in details] == [("`CANTEEN0000001", "`SUCCESS", "`100.00"),
                                                      ("`CANTEEN0000002", "`SUCCESS", "`0.01")]
    assert [r[0] for r in details] == [f"`{yesterday_at(9):%Y-%m-%d} 09:00:00", f"`{yesterday_at(9):%Y-%m-%d} 12:00:00"]
    assert lines[-2].split(",")[:3] == ["`2", "`100.01", "`0.00"]


def test_the_bill_shows_refunds_on_the_day_wechat_accepted_them(http, sim, clock, day_of_business):
    clock.shift(days=1)  # the refund was accepted today: today's bill is out tomorrow
    today = datetime.now(CHINA).date() - timedelta(days=1)
    _, file = bill(http, today.isoformat(), tar_type=None)
    rows = [line.split(",") for line in file.decode("utf-8-sig").split("\r\n")[1:-3]]
    assert [(r[9], r[15], r[16], r[22]) for r in rows] == [("`REFUND", "`R1", "`30.00", "`-0.18")]


def test_planted_mismatches(http, sim, day_of_business):
    sim.plant_bill_mismatch(yesterday_at(0).date(), omit=["CANTEEN0000002"], amounts={"CANTEEN0000001": 9_999},
                            extra=[{"out_trade_no": "GHOST0000001", "amount_fen": 500}])
    _, file = bill(http, day_of_business)
    rows = [line.split(",") for line in gzip.decompress(file).decode("utf-8-sig").split("\r\n")]
    details = {r[6]: r[12] for r in rows[1:-3]}
    assert details == {"`CANTEEN0000001": "`99.99", "`GHOST0000001": "`5.00"}
    assert rows[-2][:2] == ["`2", "`104.99"]


def test_a_corrupt_hash_is_announced_when_planted(http, sim, day_of_business):
    sim.plant_bill_mismatch(yesterday_at(0).date(), corrupt_hash=True)
    doc, file = bill(http, day_of_business)
    assert doc["hash_value"] != hashlib.sha1(gzip.decompress(file)).hexdigest()


def test_bills_before_ten_the_next_day_or_without_business(http, sim, clock, day_of_business):
    today = datetime.now(CHINA).date().isoformat()
    assert error(http.call("GET", f"/v3/bill/tradebill?bill_date={today}")) == (400, "STATEMENT_CREATING")
    clock.move_to(yesterday_at(9) + timedelta(days=1))  # 09:00 today: yesterday's bill is not out yet
    assert error(http.call("GET", f"/v3/bill/tradebill?bill_date={day_of_business}")) == (400, "STATEMENT_CREATING")
    clock.move_to(datetime.now(UTC) + timedelta(days=3))
    two_days_ago = (datetime.now(CHINA).date() - timedelta(days=2)).isoformat()
    assert error(http.call("GET", f"/v3/bill/tradebill?bill_date={two_days_ago}")) == (400, "NO_STATEMENT_EXIST")
    assert error(http.call("GET", "/v3/bill/tradebill?bill_date=13/10/2026")) == (400, "PARAM_ERROR")


def test_bill_downloads_need_authorization_and_expire(http, sim, clock, day_of_business):
    announced = http.call("GET", f"/v3/bill/tradebill?bill_date={day_of_business}&tar_type=GZIP").json()
    assert requests.get(announced["download_url"], timeout=5).status_code == 401
    clock.shift(minutes=6)
    target = announced["download_url"].removeprefix(http.base)
    assert error(http.call("GET", target)) == (400, "INVALID_REQUEST")


# --- faults on Pay paths ------------------------------------------------------------------------------


def test_pay_faults_answer_in_wechat_pay_shape(http, sim, notify_sink):
    sim.inject_pay_error("/v3/pay/transactions/jsapi", "SYSTEM_ERROR", http_status=500)
    failed = http.prepay(ORDER, notify_sink.url)
    assert error(failed) == (500, "SYSTEM_ERROR") and http.verified(failed)
    assert http.prepay(ORDER, notify_sink.url).status_code == 200
    assert sim.calls()["/v3/pay/transactions/jsapi"] == 2
