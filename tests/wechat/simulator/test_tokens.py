"""The simulator's mini-program access tokens (``tokens``) and the token checks every product shares."""

from __future__ import annotations

import pytest
import requests

from tests.wechat.constants import APP_ID, APP_SECRET
from tests.wechat.simulator.helpers import get, mp_token, post


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
