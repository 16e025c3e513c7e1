"""Subscribe messages (``subscribe``): WeChat's field rules, quota, templates and envelope."""

from __future__ import annotations

import pytest

from app.wechat.simulator.subscribe import check_subscribe_value
from tests.wechat.simulator.helpers import mp_token, post, stock_wechatpy

OPENID = "o-sim-user"
TEMPLATE = "tpl-sim"


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
