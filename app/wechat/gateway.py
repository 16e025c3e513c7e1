"""The application's WeChat clients, built once per app from its settings.

Services call ``mini_program()`` / ``wecom()`` and hand the client to ``app.wechat.client``'s
functions; tokens are shared through Redis by every process.
"""

from __future__ import annotations

from flask import current_app

from app.core.errors import UpstreamError
from app.core.redis import get_redis
from app.wechat.client import MiniProgramClient, WeComClient, make_wechat_client, make_wecom_client

TIMEOUT_SECONDS = 5.0


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


def miniprogram_state() -> str:
    return current_app.config["WECHAT_MINIPROGRAM_STATE"]
