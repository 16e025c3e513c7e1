"""Our own small exception hierarchy for WeChat calls.

Services catch these instead of wechatpy's exceptions so that callers never depend on the SDK, and
so that the handling a caller needs (ask the user for a new code, drop a notification, retry later)
follows from the class rather than from memorised error codes.
"""

from __future__ import annotations

from typing import Any


class WeChatError(Exception):
    """A call to WeChat failed; ``errcode`` is WeChat's code, ``None`` when no answer came back."""

    def __init__(self, errcode: int | None, errmsg: str):
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class InvalidCode(WeChatError):
    """The login or phone code is unknown, expired or already used (40029, 40163): log in again."""


class NoSubscriptionQuota(WeChatError):
    """The user has no subscribe-message grant left for the template (43101): not worth a retry."""


class InvalidToken(WeChatError):
    """The access token was rejected again after one refresh (40001, 40014, 42001)."""


class InvalidCredential(WeChatError):
    """WeChat refused the app id or secret while issuing a token: a configuration error, not transient."""


class RateLimited(WeChatError):
    """WeChat's call quota is exhausted (45009, 45011): retry later with backoff."""


class WeChatUnavailable(WeChatError):
    """No usable answer: network error, timeout, HTTP 5xx, or WeChat's own "system busy" (-1)."""


INVALID_CODE_ERRCODES = frozenset({40029, 40163})
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
RATE_LIMIT_ERRCODES = frozenset({45009, 45011})
UNAVAILABLE_ERRCODES = frozenset({-1, -1000})


def error_for(errcode: int | None, errmsg: str) -> WeChatError:
    """Build the most specific exception for a WeChat error code."""
    if errcode is None or errcode in UNAVAILABLE_ERRCODES:
        return WeChatUnavailable(errcode, errmsg)
    if errcode in INVALID_CODE_ERRCODES:
        return InvalidCode(errcode, errmsg)
    if errcode == 43101:
        return NoSubscriptionQuota(errcode, errmsg)
    if errcode in TOKEN_ERRCODES:
        return InvalidToken(errcode, errmsg)
    if errcode in RATE_LIMIT_ERRCODES:
        return RateLimited(errcode, errmsg)
    return WeChatError(errcode, errmsg)


# --- WeChat Pay v3 ----------------------------------------------------------------------------------


class PayConfigError(RuntimeError):
    """The WeChat Pay client cannot be built from these settings (missing, unreadable or mixed keys)."""


class PayError(Exception):
    """A WeChat Pay v3 call or notification failed.

    ``code`` is WeChat's error code (``ORDERPAID``, ``SYSTEM_ERROR``…) or, for a failure of our own
    side of the wire, one of ours (``TIMEOUT``, ``NETWORK_ERROR``, ``BAD_SIGNATURE``…); ``message`` is
    WeChat's message or our description, for logs; ``user_message`` is what a user may be shown.
    ``retryable`` says whether the same call may succeed later.
    """

    retryable = False
    default_user_message = "微信支付暂时不可用，请稍后再试"

    def __init__(self, code: str, message: str, *, http_status: int | None = None):
        super().__init__(f"WeChat Pay {code}: {message}" + (f" (HTTP {http_status})" if http_status else ""))
        self.code = code
        self.message = message
        self.http_status = http_status

    @property
    def user_message(self) -> str:
        return PAY_USER_MESSAGES.get(self.code, self.default_user_message)


class PayUnavailable(PayError):
    """No usable answer: timeout, network error, HTTP 5xx or 429, or WeChat's SYSTEM_ERROR, BANK_ERROR,
    FREQUENCY_LIMITED. The outcome of a write is unknown: query before doing anything else."""

    retryable = True


class PayRejected(PayError):
    """WeChat refused the call for good (ORDER_NOT_EXIST, ORDERPAID, ORDER_CLOSED, NOT_ENOUGH,
    PARAM_ERROR, SIGN_ERROR…): the same call will fail again."""

    default_user_message = "微信支付未能处理该请求"


class BadSignature(PayError):
    """An answer or a notification that is not proven to come from WeChat Pay: a signature header
    missing, a timestamp out of the ±5 minutes window, an unknown ``Wechatpay-Serial``, another signature
    type, a signature that does not verify, or a resource that does not decrypt. Never act on it; a
    notification endpoint answers it with a 4xx (WeChat retries real notifications)."""

    default_user_message = "微信支付的应答未通过验证"


class ForeignMerchant(BadSignature):
    """A notification that verifies and decrypts — WeChat Pay sent it with our keys — but states another
    merchant id: our configuration and WeChat's disagree. Never act on it; tell finance. ``notification``
    is what it said (``app.wechat.pay.Notification``)."""

    def __init__(self, notification: Any, mchid: str):
        super().__init__("FOREIGN_MERCHANT", f"notification is for merchant id {mchid}")
        self.notification = notification
        self.mchid = mchid


class BillHashMismatch(PayError):
    """The downloaded trade bill does not match the SHA1 WeChat announced (or does not unzip): a
    corrupted or tampered download. Fetching the bill again may succeed."""

    retryable = True
    default_user_message = "对账单校验失败，请稍后重试"


PAY_RETRYABLE_CODES = frozenset({"SYSTEM_ERROR", "SYSTEMERROR", "BANK_ERROR", "BANKERROR", "FREQUENCY_LIMITED"})
"""WeChat Pay codes that say "try again later" even on a 4xx status (5xx and 429 always do)."""

PAY_USER_MESSAGES = {
    "ORDER_NOT_EXIST": "订单不存在",
    "RESOURCE_NOT_EXISTS": "订单或退款单不存在",
    "ORDERPAID": "订单已支付",
    "ORDER_PAID": "订单已支付",
    "ORDER_CLOSED": "订单已关闭",
    "OUT_TRADE_NO_USED": "订单号已被使用",
    "NOT_ENOUGH": "商户账户余额不足，暂时无法退款",
    "PARAM_ERROR": "支付参数有误",
    "INVALID_REQUEST": "支付请求无效",
    "APPID_MCHID_NOT_MATCH": "支付配置有误",
    "MCH_NOT_EXISTS": "支付配置有误",
    "SIGN_ERROR": "支付配置有误",
    "NO_AUTH": "商户没有该支付权限",
    "NO_STATEMENT_EXIST": "该日没有对账单",
    "STATEMENT_CREATING": "对账单生成中，请稍后再试",
    "FREQUENCY_LIMITED": "操作太频繁，请稍后再试",
}
"""What a user is shown per WeChat Pay code (WeChat's own messages are for logs: they can be technical)."""
