"""WeChat Pay v3 for the mini-program (JSAPI): the provider the payments domain calls.

``PayProvider`` is the interface; ``WeChatPayV3`` implements it with wechatpayv3 in public-key mode
(``provider`` says why it is wrapped and what it guards); ``records`` holds what it answers, typed.
``app.wechat.gateway.pay()`` builds one per app from the ``WECHATPAY_*`` settings. Failures are the
``Pay*`` exceptions of ``app.wechat.errors``.
"""

from app.wechat.pay.provider import (
    PayConfig,
    PayProvider,
    WeChatPayV3,
    make_pay_provider,
    pay_config_from_settings,
)
from app.wechat.pay.records import Notification, Prepay, Refund, TradeState

__all__ = [
    "Notification",
    "PayConfig",
    "PayProvider",
    "Prepay",
    "Refund",
    "TradeState",
    "WeChatPayV3",
    "make_pay_provider",
    "pay_config_from_settings",
]
