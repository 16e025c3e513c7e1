"""The adapter (``app.wechat.client``) against the simulator, over real HTTP with real Redis."""

from __future__ import annotations

import io
import json
import logging

import pytest
from PIL import Image
from wechatpy.client import WeChatClient
from wechatpy.client.api import WeChatWxa
from wechatpy.enterprise import WeChatClient as EnterpriseClient

from app.wechat import client as wx
from app.wechat.errors import (
    InvalidCode,
    InvalidCredential,
    InvalidToken,
    NoSubscriptionQuota,
    RateLimited,
    WeChatError,
    WeChatUnavailable,
)
from app.wechat.simulator.state import DEMO_ROLES
from app.wechat.simulator.wxacode import render_code_png
from tests.support import race

SEND_PATH = "/cgi-bin/message/subscribe/send"
TOKEN_PATH = "/cgi-bin/token"
TEMPLATE = "tpl-repair-accepted"
OPENID = "demo-openid-teacher"
DATA = {"thing1": "宿舍楼3栋水龙头漏水", "phrase2": "已受理", "time3": "2026年11月21日 10:30"}


# --- login and phone number ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", DEMO_ROLES)
def test_demo_login_codes_always_work_and_need_no_access_token(mp_client, sim, role):
    for _ in range(2):
        info = wx.code_to_session(mp_client, f"demo-{role}")
        assert (info.openid, info.unionid) == (f"demo-openid-{role}", f"demo-unionid-{role}")
        assert info.session_key
    assert TOKEN_PATH not in sim.calls()  # jscode2session is authenticated by the secret alone


def test_registered_login_code_is_single_use(mp_client, sim):
    registered = sim.register_login_code("code-once", openid="o-registered", unionid="u-registered")

    info = wx.code_to_session(mp_client, "code-once")
    assert (info.openid, info.unionid, info.session_key) == ("o-registered", "u-registered", registered["session_key"])
    with pytest.raises(InvalidCode) as exc_info:
        wx.code_to_session(mp_client, "code-once")
    assert exc_info.value.errcode == 40163


def test_unknown_login_code_is_invalid(mp_client):
    with pytest.raises(InvalidCode) as exc_info:
        wx.code_to_session(mp_client, "never-issued")
    assert exc_info.value.errcode == 40029


def test_session_key_stays_out_of_repr(mp_client, sim):
    sim.register_login_code("code-repr", session_key="SECRET-SESSION-KEY==")
    info = wx.code_to_session(mp_client, "code-repr")
    assert info.session_key == "SECRET-SESSION-KEY=="
    assert "SECRET-SESSION-KEY" not in repr(info)


def test_phone_number_from_demo_and_registered_codes(mp_client, sim):
    assert wx.get_phone_number(mp_client, "demo-phone-worker") == "13800000003"
    code = sim.register_phone_code("13912345678")
    assert wx.get_phone_number(mp_client, code) == "13912345678"
    with pytest.raises(InvalidCode) as exc_info:
        wx.get_phone_number(mp_client, code)
    assert exc_info.value.errcode == 40029


# --- subscribe messages --------------------------------------------------------------------------------


def test_subscribe_message_is_accepted_recorded_and_spends_the_grant(mp_client, sim):
    sim.grant_subscription(OPENID, TEMPLATE)

    msgid = wx.send_subscribe_message(mp_client, OPENID, TEMPLATE, DATA, page="pages/index/index", state="developer")

    [sent] = sim.subscribe_messages(openid=OPENID)
    assert sent["msgid"] == msgid
    assert sent["data"] == {key: {"value": value} for key, value in DATA.items()}
    assert (sent["template_id"], sent["page"], sent["miniprogram_state"]) == (
        TEMPLATE,
        "pages/index/index",
        "developer",
    )
    with pytest.raises(NoSubscriptionQuota) as exc_info:
        wx.send_subscribe_message(mp_client, OPENID, TEMPLATE, DATA)
    assert exc_info.value.errcode == 43101
    assert len(sim.subscribe_messages()) == 1


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("thing1", "一二三四五六七八九十一二三四五六七八九十一"),
        ("phrase2", "正在处理中了"),
        ("character_string4", "单号123"),
    ],
)
def test_field_rule_violation_is_47003_and_spends_nothing(mp_client, sim, key, value):
    sim.grant_subscription(OPENID, TEMPLATE)

    with pytest.raises(WeChatError) as exc_info:
        wx.send_subscribe_message(mp_client, OPENID, TEMPLATE, {**DATA, key: value})

    assert exc_info.value.errcode == 47003
    assert f"data.{key}.value invalid" in exc_info.value.errmsg
    assert sim.subscribe_messages() == []
    assert sim.subscriptions(OPENID)[0]["remaining"] == 1


def test_no_grant_means_no_subscription_quota(mp_client, sim):
    with pytest.raises(NoSubscriptionQuota):
        wx.send_subscribe_message(mp_client, OPENID, TEMPLATE, DATA)
    assert sim.subscribe_messages() == []


# --- tokens --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["invalid", "expired"])
def test_rejected_token_is_refreshed_and_the_call_retried_once(mp_client, sim, wechat_redis, mode):
    sim.configure(lenient_quota=True)
    first = mp_client.access_token
    sim.invalidate_tokens(mode)

    wx.send_subscribe_message(mp_client, OPENID, TEMPLATE, DATA)

    calls = sim.calls()
    assert (calls[TOKEN_PATH], calls[SEND_PATH]) == (2, 2)
    assert len(sim.subscribe_messages()) == 1
    cached = json.loads(wechat_redis.get(f"wechat:{mp_client.appid}_access_token"))
    assert cached == mp_client.access_token != first


def test_token_rejected_twice_is_not_retried_again(mp_client, sim):
    sim.configure(lenient_quota=True)
    sim.inject_fault(SEND_PATH, count=5, errcode=40001)

    with pytest.raises(InvalidToken):
        wx.send_subscribe_message(mp_client, OPENID, TEMPLATE, DATA)
    assert sim.calls()[SEND_PATH] == 2


def test_token_cached_in_redis_is_shared_by_two_clients(make_mp_client, sim, wechat_redis):
    sim.configure(lenient_quota=True)
    first, second = make_mp_client(redis=wechat_redis), make_mp_client(redis=wechat_redis)

    wx.send_subscribe_message(first, OPENID, TEMPLATE, DATA)
    wx.send_subscribe_message(second, OPENID, TEMPLATE, DATA)

    assert sim.calls()[TOKEN_PATH] == 1
    assert first.access_token == second.access_token
    ttl = wechat_redis.ttl(f"wechat:{first.appid}_access_token")
    assert 0 < ttl <= 7200 - wx.TOKEN_EXPIRY_MARGIN


def test_concurrent_refresh_fetches_one_token(make_mp_client, sim, wechat_redis):
    """Five workers find the cache empty at once; the lock lets exactly one of them ask WeChat."""
    sim.inject_fault(TOKEN_PATH, delay_seconds=0.3)  # keep the first fetch in flight while the others arrive
    clients = [make_mp_client(redis=wechat_redis) for _ in range(5)]

    tokens: list[str] = race([lambda c=c: c.access_token for c in clients])

    assert sim.calls()[TOKEN_PATH] == 1
    assert len(tokens) == 5 and len(set(tokens)) == 1


def test_wrong_secret_is_an_invalid_credential(make_mp_client):
    with pytest.raises(InvalidCredential) as exc_info:
        wx.get_phone_number(make_mp_client(app_secret="not-the-secret"), "demo-phone-teacher")
    assert exc_info.value.errcode == 40125


# --- failures ------------------------------------------------------------------------------------------


def test_rate_limit_is_rate_limited(mp_client, sim):
    sim.inject_fault("/wxa/business/getuserphonenumber", errcode=45009)
    with pytest.raises(RateLimited) as exc_info:
        wx.get_phone_number(mp_client, "demo-phone-teacher")
    assert exc_info.value.errcode == 45009


@pytest.mark.parametrize(
    ("fault", "errcode"),
    [({"errcode": -1}, -1), ({"http_status": 500}, None), ({"http_status": 502}, None)],
)
def test_system_busy_and_server_errors_are_unavailable(mp_client, sim, fault, errcode):
    sim.inject_fault("/sns/jscode2session", **fault)
    with pytest.raises(WeChatUnavailable) as exc_info:
        wx.code_to_session(mp_client, "demo-student")
    assert exc_info.value.errcode == errcode
    assert wx.code_to_session(mp_client, "demo-student").openid == "demo-openid-student"  # the fault was used up


def test_token_endpoint_failure_is_unavailable(mp_client, sim):
    sim.inject_fault(TOKEN_PATH, http_status=503)
    with pytest.raises(WeChatUnavailable):
        wx.get_phone_number(mp_client, "demo-phone-teacher")


def test_simulator_down_is_unavailable_and_names_no_secret(make_mp_client, closed_port_url):
    down = make_mp_client(api_base_url=closed_port_url)
    with pytest.raises(WeChatUnavailable) as exc_info:
        wx.code_to_session(down, "demo-teacher")
    assert exc_info.value.errcode is None
    assert down.secret not in str(exc_info.value)
    assert exc_info.value.__suppress_context__  # requests' message carries the query string with the secret


def test_slow_answer_times_out_as_unavailable(make_mp_client, sim):
    sim.inject_fault("/sns/jscode2session", delay_seconds=1.5)
    with pytest.raises(WeChatUnavailable):
        wx.code_to_session(make_mp_client(timeout=0.3), "demo-teacher")


def test_logs_never_show_secret_session_key_or_phone(mp_client, sim, caplog):
    caplog.set_level(logging.DEBUG, logger="app.wechat")
    sim.register_login_code("code-log", session_key="LOGGED-SESSION-KEY==")
    wx.code_to_session(mp_client, "code-log")
    phone = wx.get_phone_number(mp_client, "demo-phone-finance")
    sim.inject_fault(SEND_PATH, errcode=40001)
    with pytest.raises(NoSubscriptionQuota):
        wx.send_subscribe_message(mp_client, OPENID, TEMPLATE, DATA)

    assert "wechat token rejected" in caplog.text  # something was logged, and it is clean:
    for secret in (mp_client.secret, "LOGGED-SESSION-KEY", phone):
        assert secret not in caplog.text


# --- mini-program codes --------------------------------------------------------------------------------


def test_unlimited_code_is_a_png_encoding_the_scene(mp_client):
    image = wx.get_unlimited_code(mp_client, "m=42&s=abc", "pages/index/index", width=430)

    picture = Image.open(io.BytesIO(image))
    picture.verify()
    assert picture.format == "PNG"
    assert 280 <= picture.size[0] <= 430
    assert image == render_code_png("pages/index/index", "m=42&s=abc", 430)
    assert image != render_code_png("pages/index/index", "m=43&s=abc", 430)


@pytest.mark.parametrize(
    ("scene", "page", "errcode"),
    [
        ("x" * 33, "pages/index/index", 40169),
        ("会议", "pages/index/index", 40169),
        ("m=1", "/pages/index/index", 41030),
    ],
)
def test_bad_scene_or_page_is_refused(mp_client, scene, page, errcode):
    with pytest.raises(WeChatError) as exc_info:
        wx.get_unlimited_code(mp_client, scene, page)
    assert exc_info.value.errcode == errcode


# --- base URLs -----------------------------------------------------------------------------------------


def test_base_urls_are_per_instance_and_wechatpy_is_untouched(make_mp_client, closed_port_url):
    working, down = make_mp_client(), make_mp_client(api_base_url=closed_port_url)

    assert wx.code_to_session(working, "demo-admin").openid == "demo-openid-admin"
    with pytest.raises(WeChatUnavailable):
        wx.code_to_session(down, "demo-admin")
    assert working.wxa.API_BASE_URL != down.wxa.API_BASE_URL
    assert working.datacube.API_BASE_URL.endswith("/datacube/") and working.datacube.API_BASE_URL.startswith("http://")
    assert WeChatClient.API_BASE_URL == "https://api.weixin.qq.com/cgi-bin/"
    assert WeChatWxa.API_BASE_URL == "https://api.weixin.qq.com/"
    assert EnterpriseClient.API_BASE_URL == "https://qyapi.weixin.qq.com/cgi-bin/"


# --- WeCom ---------------------------------------------------------------------------------------------


def test_wecom_text_and_card_are_recorded(wecom_client, sim, wechat_redis):
    agent_id = wecom_client.agent_id
    text_id = wx.send_wecom_text(wecom_client, agent_id, "zhangsan", "3号楼报修单待派工")
    card_id = wx.send_wecom_card(
        wecom_client, agent_id, "zhangsan", "新的报修", "3号楼水龙头漏水", "https://example.edu/repairs/1"
    )

    text, card = sim.wecom_messages(touser="zhangsan")
    assert (text["msgid"], text["msgtype"], text["text"]["content"]) == (text_id, "text", "3号楼报修单待派工")
    assert (card["msgid"], card["textcard"]["title"], card["agentid"]) == (card_id, "新的报修", agent_id)
    assert sim.wecom_messages(touser="lisi") == []
    assert sim.calls()["/cgi-bin/gettoken"] == 1
    keys = [k.decode() for k in wechat_redis.keys("wechat:*")]
    assert keys and not any(wecom_client.secret[:10] in k for k in keys)


def test_wecom_unknown_user_is_an_error(wecom_client, sim):
    sim.register_wecom_users("zhangsan")
    with pytest.raises(WeChatError) as exc_info:
        wx.send_wecom_text(wecom_client, wecom_client.agent_id, "nobody", "hi")
    assert exc_info.value.errcode == 81013
