"""The simulator speaks WeChat's protocols: stock wechatpy and plain HTTP get WeChat's answers."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from wechatpy.client import WeChatClient
from wechatpy.enterprise import WeChatClient as EnterpriseClient
from wechatpy.exceptions import WeChatClientException

from app.wechat.simulator.subscribe import check_subscribe_value
from tests.wechat.constants import APP_ID, APP_SECRET, CORP_ID, CORP_SECRET

OPENID = "o-sim-user"
TEMPLATE = "tpl-sim"


def get(sim_url: str, path: str, **params: str) -> dict:
    return requests.get(sim_url + path, params=params, timeout=5).json()


def post(sim_url: str, path: str, token: str, body: dict) -> requests.Response:
    return requests.post(sim_url + path, params={"access_token": token}, json=body, timeout=5)


def mp_token(sim_url: str) -> str:
    return get(sim_url, "cgi-bin/token", grant_type="client_credential", appid=APP_ID, secret=APP_SECRET)[
        "access_token"
    ]


def stock_wechatpy(sim_url: str) -> WeChatClient:
    """Unmodified wechatpy (token handed in, bases set on the instance): proves wire compatibility."""
    client = WeChatClient(APP_ID, APP_SECRET, access_token=mp_token(sim_url), timeout=5)
    client.API_BASE_URL = sim_url + "cgi-bin/"
    client.wxa.API_BASE_URL = sim_url
    return client


# --- tokens and credentials --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"grant_type": "client_credential", "appid": "wx-other", "secret": APP_SECRET}, 40013),
        ({"grant_type": "client_credential", "appid": APP_ID, "secret": "wrong"}, 40125),
        ({"grant_type": "password", "appid": APP_ID, "secret": APP_SECRET}, 40002),
    ],
)
def test_token_endpoint_checks_credentials(sim_url, params, errcode):
    answer = get(sim_url, "cgi-bin/token", **params)
    assert answer["errcode"] == errcode
    assert "access_token" not in answer


def test_each_token_request_issues_a_new_valid_token(sim_url, sim):
    first, second = mp_token(sim_url), mp_token(sim_url)
    assert first != second
    for token in (first, second):
        assert (
            post(sim_url, "wxa/business/getuserphonenumber", token, {"code": "demo-phone-admin"}).json()["errcode"] == 0
        )
    assert sim.calls()["/cgi-bin/token"] == 2


@pytest.mark.parametrize(("mode", "errcode"), [("invalid", 40001), ("expired", 42001)])
def test_invalidated_tokens_are_refused(sim_url, sim, mode, errcode):
    token = mp_token(sim_url)
    assert sim.invalidate_tokens(mode) == 1
    answer = post(sim_url, "wxa/business/getuserphonenumber", token, {"code": "demo-phone-admin"}).json()
    assert answer["errcode"] == errcode
    assert post(sim_url, "wxa/business/getuserphonenumber", mp_token(sim_url), {"code": "demo-phone-admin"}).ok


def test_missing_or_unknown_token(sim_url):
    url = sim_url + "cgi-bin/message/subscribe/send"
    assert requests.post(url, json={}, timeout=5).json()["errcode"] == 41001
    assert post(sim_url, "cgi-bin/message/subscribe/send", "forged", {}).json()["errcode"] == 40001


# --- login and phone -----------------------------------------------------------------------------------


def test_stock_wechatpy_login_and_reuse(sim_url, sim):
    client = stock_wechatpy(sim_url)
    registered = sim.register_login_code("wx-login-1", openid="o-1", unionid=None)

    answer = client.wxa.code_to_session("wx-login-1")
    assert answer == {"openid": "o-1", "session_key": registered["session_key"]}  # no unionid when none is bound
    with pytest.raises(WeChatClientException) as exc_info:
        client.wxa.code_to_session("wx-login-1")
    assert (exc_info.value.errcode, exc_info.value.errmsg.split(" rid:")[0]) == (40163, "code been used")


def test_login_code_checks_app_credentials(sim_url):
    answer = get(
        sim_url,
        "sns/jscode2session",
        appid=APP_ID,
        secret="wrong",
        js_code="demo-teacher",
        grant_type="authorization_code",
    )
    assert answer["errcode"] == 40125


def test_login_code_can_carry_a_phone_code(sim_url, sim):
    registered = sim.register_login_code("wx-login-2", phone="13700000000")
    answer = post(sim_url, "wxa/business/getuserphonenumber", mp_token(sim_url), {"code": registered["phone_code"]})
    assert answer.json()["phone_info"]["purePhoneNumber"] == "13700000000"


def test_phone_info_has_wechats_shape(sim_url, sim):
    code = sim.register_phone_code("2025550123", country_code="1")
    answer = post(sim_url, "wxa/business/getuserphonenumber", mp_token(sim_url), {"code": code}).json()

    info = answer["phone_info"]
    assert (answer["errcode"], answer["errmsg"]) == (0, "ok")
    assert (info["purePhoneNumber"], info["countryCode"], info["watermark"]["appid"]) == ("2025550123", "1", APP_ID)
    assert info["phoneNumber"] == "+1 2025550123"
    assert abs(info["watermark"]["timestamp"] - time.time()) < 60


# --- subscribe messages --------------------------------------------------------------------------------


def send(sim_url: str, data: dict, template_id: str = TEMPLATE, **extra: str) -> dict:
    body = {"touser": OPENID, "template_id": template_id, "data": {k: {"value": v} for k, v in data.items()}, **extra}
    return post(sim_url, "cgi-bin/message/subscribe/send", mp_token(sim_url), body).json()


@pytest.mark.parametrize(
    ("key", "value", "valid"),
    [
        ("thing1", "宿舍楼3栋水龙头漏水", True),
        ("thing1", "a" * 20, True),
        ("thing1", "a" * 21, False),
        ("thing1", "换行\n不行", False),
        ("short_thing2", "五个字以内", True),
        ("short_thing2", "超过五个字了", False),
        ("phrase2", "已受理", True),
        ("phrase2", "配送中了吗呀", False),
        ("phrase2", "OK", False),
        ("character_string3", "R2026-11-21_0001", True),
        ("character_string3", "A" * 33, False),
        ("character_string3", "单号1", False),
        ("character_string3", "has space", False),
        ("number4", "-12.50", True),
        ("number4", "12a", False),
        ("letter5", "ABCxyz", True),
        ("letter5", "ABC1", False),
        ("symbol6", "~!@", True),
        ("symbol6", "a!", False),
        ("time7", "10:30", True),
        ("time7", "2026年11月21日 10:30", True),
        ("time7", "2026-11-21 10:30", True),
        ("time7", "10:30~12:00", True),
        ("time7", "25:00", False),
        ("time7", "2026年11月21日", False),
        ("date8", "2026年11月21日", True),
        ("date8", "2026-11-21", True),
        ("date8", "2026/11/21 08:00", True),
        ("date8", "2026-11-21 ~ 2026-11-23", True),
        ("date8", "明天", False),
        ("amount9", "¥12.50", True),
        ("amount9", "30元", True),
        ("amount9", "12.5.0", False),
        ("amount9", "¥12345678901", False),
        ("phone_number10", "+86-0766-66888866", True),
        ("phone_number10", "138 0000 0000 1234 5", False),
        ("phone_number10", "tel:123", False),
        ("car_number11", "粤A8Z888挂", True),
        ("car_number11", "粤A8Z8888挂", False),
        ("name12", "欧阳娜娜", True),
        ("name12", "Jennifer Lawrence", True),
        ("name12", "一二三四五六七八九十一", False),
        ("name12", "Tom2", False),
        ("enum13", "anything", True),
    ],
)
def test_subscribe_field_rules(key, value, valid):
    assert check_subscribe_value(key, value) is valid


def test_field_violation_names_the_field(sim_url, sim):
    sim.grant_subscription(OPENID, TEMPLATE)
    answer = send(sim_url, {"thing1": "好", "phrase2": "正在努力处理"})
    assert answer["errcode"] == 47003
    assert answer["errmsg"].startswith("argument invalid! data.phrase2.value invalid rid: ")


def test_stock_wechatpy_subscribe_send_is_recorded(sim_url, sim):
    sim.grant_subscription(OPENID, TEMPLATE, count=2)
    result = stock_wechatpy(sim_url).wxa.send_subscribe_message(OPENID, TEMPLATE, {"thing1": {"value": "取件提醒"}})

    [sent] = sim.subscribe_messages(openid=OPENID, template_id=TEMPLATE)
    assert (result["errcode"], sent["msgid"], sent["miniprogram_state"]) == (0, result["msgid"], "formal")
    assert sim.subscriptions(OPENID) == [{"openid": OPENID, "template_id": TEMPLATE, "remaining": 1}]
    assert sim.subscribe_messages(openid="someone-else") == []
    assert sim.subscribe_messages(template_id="other-template") == []


def test_strict_templates_require_registration_and_keys(sim_url, sim):
    sim.configure(strict_templates=True, lenient_quota=True)
    assert send(sim_url, {"thing1": "x"}, template_id="unknown")["errcode"] == 40037

    sim.register_template(TEMPLATE, ["thing1", "time2"])
    answer = send(sim_url, {"thing1": "x"})
    assert answer["errcode"] == 47003
    assert "data.time2.value is empty" in answer["errmsg"]
    assert send(sim_url, {"thing1": "x", "time2": "10:30"})["errcode"] == 0


def test_lenient_quota_accepts_every_send_until_reset(sim_url, sim):
    sim.configure(lenient_quota=True)
    assert [send(sim_url, {"thing1": "x"})["errcode"] for _ in range(3)] == [0, 0, 0]
    sim.reset()
    assert send(sim_url, {"thing1": "x"})["errcode"] == 43101
    assert sim.subscribe_messages() == []


@pytest.mark.parametrize(
    ("extra", "errcode"),
    [({"miniprogram_state": "beta"}, 47003), ({"lang": "fr_FR"}, 47003), ({"touser": ""}, 40003)],
)
def test_subscribe_checks_the_envelope(sim_url, sim, extra, errcode):
    sim.configure(lenient_quota=True)
    assert send(sim_url, {"thing1": "x"}, **extra)["errcode"] == errcode


# --- mini-program codes --------------------------------------------------------------------------------


def code(sim_url: str, **body: object) -> requests.Response:
    return post(sim_url, "wxa/getwxacodeunlimit", mp_token(sim_url), {"scene": "a=1", **body})


def test_code_is_png_and_width_is_clamped(sim_url):
    small, large = code(sim_url, width=10), code(sim_url, width=5000)
    assert small.headers["Content-Type"] == large.headers["Content-Type"] == "image/png"
    assert small.content.startswith(b"\x89PNG") and len(large.content) > len(small.content)


def test_check_path_against_published_pages(sim_url, sim):
    sim.register_pages("pages/index/index", "packageMeeting/pages/checkin/index")
    assert code(sim_url, page="packageMeeting/pages/checkin/index").headers["Content-Type"] == "image/png"
    assert code(sim_url, page="packageMeeting/pages/draft/index").json()["errcode"] == 41030
    unchecked = code(sim_url, page="packageMeeting/pages/draft/index", check_path=False)
    assert unchecked.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"scene": ""}, 40169),
        ({"scene": "id%3D1"}, 40169),
        ({"page": "pages/a?x=1"}, 41030),
        ({"env_version": "x"}, 40097),
    ],
)
def test_code_refusals(sim_url, body, errcode):
    assert code(sim_url, **body).json()["errcode"] == errcode


# --- WeCom ---------------------------------------------------------------------------------------------


def wecom_token(sim_url: str) -> str:
    return get(sim_url, "cgi-bin/gettoken", corpid=CORP_ID, corpsecret=CORP_SECRET)["access_token"]


@pytest.mark.parametrize(("corpid", "secret", "errcode"), [("ww-other", CORP_SECRET, 40013), (CORP_ID, "x", 40001)])
def test_wecom_gettoken_checks_credentials(sim_url, corpid, secret, errcode):
    assert get(sim_url, "cgi-bin/gettoken", corpid=corpid, corpsecret=secret)["errcode"] == errcode


def test_wecom_and_mini_program_tokens_do_not_mix(sim_url):
    body = {"touser": "zhangsan", "agentid": 1, "msgtype": "text", "text": {"content": "hi"}}
    assert post(sim_url, "cgi-bin/message/send", mp_token(sim_url), body).json()["errcode"] == 40014
    assert post(sim_url, "cgi-bin/message/subscribe/send", wecom_token(sim_url), {}).json()["errcode"] == 40001


def test_stock_wechatpy_wecom_send_reports_invalid_users(sim_url, sim):
    sim.register_wecom_users("zhangsan")
    client = EnterpriseClient(CORP_ID, CORP_SECRET, access_token=wecom_token(sim_url), timeout=5)
    client.API_BASE_URL = sim_url + "cgi-bin/"

    answer = client.message.send_text(1000002, ["zhangsan", "ghost"], "请处理报修单")
    assert (answer["errcode"], answer["invaliduser"]) == (0, "ghost")
    [sent] = sim.wecom_messages()
    assert sent["touser"] == ["zhangsan"]
    with pytest.raises(WeChatClientException) as exc_info:
        client.message.send_text(1000002, "ghost", "请处理报修单")
    assert exc_info.value.errcode == 81013


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"agentid": "x", "msgtype": "text", "text": {"content": "hi"}}, 40056),
        ({"agentid": 1, "msgtype": "voice", "voice": {}}, 40008),
        ({"agentid": 1, "msgtype": "text", "text": {"content": ""}}, 44004),
        ({"agentid": 1, "msgtype": "text", "text": {"content": "长" * 700}}, 45002),
        ({"agentid": 1, "msgtype": "textcard", "textcard": {"title": "t", "url": "https://x"}}, 44004),
    ],
)
def test_wecom_send_refusals(sim_url, sim, body, errcode):
    assert (
        post(sim_url, "cgi-bin/message/send", wecom_token(sim_url), {"touser": "u1", **body}).json()["errcode"]
        == errcode
    )
    assert sim.wecom_messages() == []


# --- faults and control --------------------------------------------------------------------------------


def test_faults_hit_the_next_n_calls_of_their_path_only(sim_url, sim):
    sim.inject_fault("/sns/jscode2session", count=2, errcode=45011)
    args = {"appid": APP_ID, "secret": APP_SECRET, "js_code": "demo-teacher", "grant_type": "authorization_code"}

    assert mp_token(sim_url)  # another path is untouched
    answers = [get(sim_url, "sns/jscode2session", **args) for _ in range(3)]

    assert [a.get("errcode") for a in answers] == [45011, 45011, None]
    assert answers[0]["errmsg"].startswith("api minute-quota reach limit")
    assert answers[2]["openid"] == "demo-openid-teacher"
    assert sim.calls()["/sns/jscode2session"] == 3


def test_peak_in_flight_counts_calls_in_progress_at_once(sim_url, sim):
    sim.inject_fault("/cgi-bin/token", count=3, delay_seconds=0.5)
    url = sim_url + "cgi-bin/token"
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _: requests.get(url, timeout=5), range(3)))  # three slow calls side by side
    requests.get(url, timeout=5)  # and one alone
    assert sim.calls()["/cgi-bin/token"] == 4
    assert sim.peak_in_flight() == 3
    sim.reset()
    assert sim.peak_in_flight() == 0


def test_http_status_fault_and_clearing(sim_url, sim):
    sim.inject_fault("/cgi-bin/token", count=3, http_status=503)
    url = sim_url + "cgi-bin/token"
    assert requests.get(url, timeout=5).status_code == 503
    sim.clear_faults()
    assert "access_token" in get(
        sim_url, "cgi-bin/token", grant_type="client_credential", appid=APP_ID, secret=APP_SECRET
    )


def test_control_api_rejects_bad_input(sim_url):
    assert requests.post(sim_url + "__sim__/faults", json={"path": "no-slash"}, timeout=5).status_code == 400
    assert requests.post(sim_url + "__sim__/config", json={"typo": True}, timeout=5).status_code == 400
    assert requests.post(sim_url + "__sim__/tokens/invalidate", json={"mode": "x"}, timeout=5).status_code == 400


def test_runner_serves_the_simulator(closed_port_url):
    port = closed_port_url.rsplit(":", 1)[1].rstrip("/")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.wechat.simulator", "--host", "127.0.0.1", "--port", port],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                health = requests.get(f"{closed_port_url}__sim__/health", timeout=1).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the simulator did not come up"
                time.sleep(0.1)
        assert health == {"status": "ok", "app_id": "wx0000000000sim00", "corp_id": None}
    finally:
        proc.terminate()
        proc.wait(timeout=5)
