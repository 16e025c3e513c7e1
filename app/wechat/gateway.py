"""The application's WeChat clients, built once per app from its settings.

Services call ``mini_program()`` / ``wecom()`` and hand the client to ``app.wechat.client``'s
functions (tokens are shared through Redis by every process), or ``pay()`` for the WeChat Pay
provider. ``mirror_consents`` is the one thing only simulator mode does (see there).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import requests
from flask import current_app

from app.core.errors import UpstreamError
from app.core.redis import get_redis
from app.wechat.client import MiniProgramClient, WeComClient, make_wechat_client, make_wecom_client
from app.wechat.pay import PayProvider, make_pay_provider, pay_config_from_settings
from app.wechat.simulator_control import SimulatorControl

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
MIRROR_TIMEOUT_SECONDS = 2.0
"""A user waits for the mirror: a simulator that does not answer must not hold the request long."""
_MIRROR_FAILURES = (requests.RequestException, ValueError, KeyError, TypeError)
"""Unreachable, an HTTP error, or an answer that is not the simulator's (a wrong base URL)."""


class WeChatUnavailable(UpstreamError):
    """What a user is told when WeChat fails or does not answer (502)."""

    error_code = "wechat.unavailable"
    message = "微信服务暂时不可用，请稍后再试"


def mini_program() -> MiniProgramClient:
    clients = current_app.extensions.setdefault("wechat", {})
    client = clients.get("mini_program")
    if client is None:
        cfg = current_app.config
        client = make_wechat_client(app_id=cfg["WECHAT_APP_ID"], app_secret=cfg["WECHAT_APP_SECRET"],
                                    api_base_url=cfg["WECHAT_API_BASE_URL"], redis=get_redis(),
                                    timeout=TIMEOUT_SECONDS)
        clients["mini_program"] = client
    return client


def wecom() -> WeComClient | None:
    """The WeCom (企业微信) app client, or None when WeCom is not configured."""
    cfg = current_app.config
    if not (cfg["WECOM_CORP_ID"] and cfg["WECOM_SECRET"] and cfg["WECOM_AGENT_ID"]):
        return None
    clients = current_app.extensions.setdefault("wechat", {})
    client = clients.get("wecom")
    if client is None:
        client = make_wecom_client(corp_id=cfg["WECOM_CORP_ID"], secret=cfg["WECOM_SECRET"],
                                   agent_id=cfg["WECOM_AGENT_ID"], api_base_url=cfg["WECOM_API_BASE_URL"],
                                   redis=get_redis(), timeout=TIMEOUT_SECONDS)
        clients["wecom"] = client
    return client


def pay() -> PayProvider:
    """The WeChat Pay provider, built once per app from the ``WECHATPAY_*`` settings (its key files are
    read then); ``PayConfigError`` when they are incomplete or mix platform certificates in."""
    clients = current_app.extensions.setdefault("wechat", {})
    provider = clients.get("pay")
    if provider is None:
        provider = make_pay_provider(pay_config_from_settings(current_app.config))
        clients["pay"] = provider
    return provider


def miniprogram_state() -> str:
    return current_app.config["WECHAT_MINIPROGRAM_STATE"]


def mirrors_consents() -> bool:
    """Whether recorded consents are granted at the simulator too (``mirror_consents``)."""
    cfg = current_app.config
    return bool(cfg["WECHAT_SIMULATOR"] and cfg["WECHAT_SIMULATOR_MIRROR_CONSENTS"])


def mirror_consents(openid: str, template_ids: Iterable[str]) -> None:
    """Simulator mode only: grant at the simulator one subscribe-message send per template, what the
    user's 允许 in ``wx.requestSubscribeMessage`` grants at WeChat's side. The simulator has no WeChat
    client to tap it, so without this a demo's pushes all end in 43101. Does nothing unless
    ``mirrors_consents()``; never raises (a failure is logged and the rest are not tried)."""
    if not mirrors_consents():
        return
    clients = current_app.extensions.setdefault("wechat", {})
    control = clients.get("simulator_control")
    if control is None:
        control = SimulatorControl(current_app.config["WECHAT_API_BASE_URL"], timeout=MIRROR_TIMEOUT_SECONDS)
        clients["simulator_control"] = control
    for template_id in template_ids:
        try:
            control.grant_subscription(openid, template_id)
        except _MIRROR_FAILURES as exc:
            log.warning("consent not mirrored to the wechat simulator",
                        extra={"template_id": template_id, "error": type(exc).__name__})
            return
