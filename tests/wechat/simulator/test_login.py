"""Mini-program login and phone number (``login``): stock wechatpy and plain HTTP get WeChat's answers."""

from __future__ import annotations

import time

import pytest
from wechatpy.exceptions import WeChatClientException

from tests.wechat.constants import APP_ID
from tests.wechat.simulator.helpers import get, mp_token, post, stock_wechatpy


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
