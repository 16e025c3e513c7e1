"""WeCom (``wecom``): its own tokens, stock wechatpy's app messages, WeCom's refusals."""

from __future__ import annotations

import pytest
from wechatpy.enterprise import WeChatClient as EnterpriseClient
from wechatpy.exceptions import WeChatClientException

from tests.wechat.constants import CORP_ID, CORP_SECRET
from tests.wechat.simulator.helpers import get, mp_token, post


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
