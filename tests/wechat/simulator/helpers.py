"""Plain HTTP and stock wechatpy against the simulator: what its protocol tests speak."""

from __future__ import annotations

import requests
from wechatpy.client import WeChatClient

from tests.wechat.constants import APP_ID, APP_SECRET


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
