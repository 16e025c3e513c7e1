"""Our own small exception hierarchy for WeChat calls.

Services catch these instead of wechatpy's exceptions so that callers never depend on the SDK, and
so that the handling a caller needs (ask the user for a new code, drop a notification, retry later)
follows from the class rather than from memorised error codes.
"""

from __future__ import annotations


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
