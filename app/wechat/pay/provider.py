"""The WeChat Pay v3 provider: the interface the payments domain calls, and its wechatpayv3 implementation.

Why not wechatpayv3 as it comes:

* **Public-key mode only.** WeChat Pay verifies with its platform public key and id (``pub_key.pem``,
  ``PUB_KEY_ID_…``). Platform certificates are the older scheme; a configuration with both, or with
  neither, is refused when the client is built (the SDK would download certificates for "neither").
* **Guards before the SDK acts.** The SDK raises bare ``Exception`` or ``ValueError`` from deep inside
  on a missing header and, for any ``Wechatpay-Serial`` that is not its public key id, downloads
  certificates from WeChat. Here the five ``Wechatpay-*`` headers are checked first, a foreign serial
  is refused without a call (certificate download is disabled outright), the signature type must be
  ``WECHATPAY2-SHA256-RSA2048`` and a notification's timestamp within five minutes of our clock.
* **The base URL is a setting.** The SDK hard-codes ``https://api.mch.weixin.qq.com`` in its core;
  ours is a subclass of that core with the base URL of ``WECHATPAY_API_BASE_URL`` (the SDK itself is
  not patched).
* **Our errors, our timeouts.** Every call has the configured timeout; every failure leaves as
  ``PayUnavailable`` (retry), ``PayRejected`` (do not), ``BadSignature`` (never act on it) or
  ``BillHashMismatch``, carrying WeChat's code. Key material never reaches a log: the SDK is given no
  logger (it would log the ``Authorization`` header) and no exception text carries a request.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import secrets
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.core import Core
from wechatpayv3.utils import aes_decrypt

from app.core import clock
from app.wechat.errors import (
    PAY_RETRYABLE_CODES,
    BadSignature,
    BillHashMismatch,
    ForeignMerchant,
    PayConfigError,
    PayError,
    PayRejected,
    PayUnavailable,
)
from app.wechat.pay.records import (
    OUT_REFUND_NO,
    OUT_TRADE_NO,
    Notification,
    Prepay,
    Refund,
    TradeState,
    parse_time,
    refund_from,
    rfc3339,
    trade_state_from,
)

log = logging.getLogger(__name__)

WECHATPAY_API_BASE = "https://api.mch.weixin.qq.com"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
SIGNATURE_HEADERS = (
    "Wechatpay-Signature",
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)
NOTIFY_MAX_SKEW = timedelta(minutes=5)
DEFAULT_TIMEOUT = 5.0


class PayProvider(Protocol):
    """What the payments domain needs from WeChat Pay (JSAPI, i.e. the mini-program's ``wx.requestPayment``)."""

    def prepay(
        self,
        out_trade_no: str,
        description: str,
        amount_fen: int,
        payer_openid: str,
        expires_at: datetime,
        attach: str | None = None,
    ) -> Prepay:
        """Create (or, with the same parameters, renew) the order at WeChat Pay; ``expires_at`` is our
        own payment deadline, sent as ``time_expire``."""
        ...

    def jsapi_params(self, prepay_id: str) -> dict[str, str]:
        """The ``wx.requestPayment`` parameters, ``paySign`` signed with the merchant key."""
        ...

    def query(self, out_trade_no: str) -> TradeState: ...

    def close(self, out_trade_no: str) -> None:
        """Close an unpaid order; a paid one answers ``PayRejected`` ``ORDERPAID``."""
        ...

    def refund(self, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int, reason: str) -> Refund:
        """Ask for a refund; repeating an ``out_refund_no`` answers the same refund, never a second one."""
        ...

    def query_refund(self, out_refund_no: str) -> Refund: ...

    def parse_notify(self, headers: Mapping[str, str], body: bytes | str) -> Notification:
        """Verify and decrypt a notification as WeChat Pay posted it (raw body, request headers)."""
        ...

    def fetch_bill(self, bill_date: date) -> bytes:
        """The day's trade bill (``ALL``), a CSV in WeChat's format, unzipped and checked against its SHA1."""
        ...


@dataclass(frozen=True)
class PayConfig:
    """Everything a provider is built from; key material is kept out of ``repr``."""

    mchid: str
    appid: str
    merchant_serial_no: str
    merchant_private_key: str = field(repr=False)
    apiv3_key: str = field(repr=False)
    public_key: str | None = field(repr=False)
    public_key_id: str | None
    notify_url: str
    api_base_url: str = WECHATPAY_API_BASE
    timeout: float = DEFAULT_TIMEOUT
    platform_cert_dir: str | None = None


_FILE_SETTINGS = {
    "merchant_private_key": "WECHATPAY_MERCHANT_KEY_FILE",
    "apiv3_key": "WECHATPAY_APIV3_KEY_FILE",
    "public_key": "WECHATPAY_PUBLIC_KEY_FILE",
}


def pay_config_from_settings(settings: Mapping[str, Any]) -> PayConfig:
    """A ``PayConfig`` from the ``WECHATPAY_*`` settings, key material read from the files they name.
    Errors name the setting, never a value."""
    missing = [name for name in ("WECHATPAY_MCHID", "WECHATPAY_MERCHANT_SERIAL_NO", "WECHATPAY_MERCHANT_KEY_FILE",
                                 "WECHATPAY_APIV3_KEY_FILE", "WECHATPAY_NOTIFY_URL") if not settings.get(name)]
    if missing:
        raise PayConfigError(f"WeChat Pay is not configured: {', '.join(missing)} empty")
    material: dict[str, str | None] = {}
    for attribute, setting in _FILE_SETTINGS.items():
        path = settings.get(setting)
        try:
            material[attribute] = Path(path).read_text(encoding="utf-8").strip() if path else None
        except OSError as exc:
            raise PayConfigError(f"{setting} cannot be read ({type(exc).__name__})") from None
    return PayConfig(
        mchid=settings["WECHATPAY_MCHID"],
        appid=settings["WECHAT_APP_ID"],
        merchant_serial_no=settings["WECHATPAY_MERCHANT_SERIAL_NO"],
        merchant_private_key=material["merchant_private_key"] or "",
        apiv3_key=material["apiv3_key"] or "",
        public_key=material["public_key"],
        public_key_id=settings.get("WECHATPAY_PUBLIC_KEY_ID") or None,
        notify_url=settings["WECHATPAY_NOTIFY_URL"],
        api_base_url=settings.get("WECHATPAY_API_BASE_URL") or WECHATPAY_API_BASE,
        timeout=float(settings.get("WECHATPAY_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT),
        platform_cert_dir=settings.get("WECHATPAY_PLATFORM_CERT_DIR") or None,
    )


# --- the guards ------------------------------------------------------------------------------------


def signature_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The five ``Wechatpay-*`` headers (any case), or ``BadSignature`` for the first one missing or a
    signature type other than ``WECHATPAY2-SHA256-RSA2048``."""
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    found = {}
    for name in SIGNATURE_HEADERS:
        value = lowered.get(name.lower(), "").strip()
        if not value:
            raise BadSignature("MISSING_SIGNATURE_HEADER", f"{name} is missing")
        found[name] = value
    if found["Wechatpay-Signature-Type"] != SIGNATURE_TYPE:
        raise BadSignature("UNSUPPORTED_SIGNATURE_TYPE", f"signature type {found['Wechatpay-Signature-Type']!r}")
    return found


def check_timestamp(timestamp: str, now: datetime) -> None:
    """A notification's ``Wechatpay-Timestamp`` must be within five minutes of ``now``, either way."""
    try:
        sent = int(timestamp)
    except ValueError:
        raise BadSignature("BAD_TIMESTAMP", "Wechatpay-Timestamp is not a number") from None
    skew = abs(now.timestamp() - sent)
    if skew > NOTIFY_MAX_SKEW.total_seconds():
        raise BadSignature("STALE_TIMESTAMP", f"Wechatpay-Timestamp is {int(skew)} s away from our clock")


class _PublicKeyCore(Core):
    """wechatpayv3's core in public-key mode, aimed at our base URL, verifying behind our guards (built
    from the SDK's own core by ``WeChatPayV3``, never by ``__init__``)."""

    def _update_certificates(self) -> None:
        raise BadSignature("CERTIFICATE_DOWNLOAD_REFUSED", "public-key mode never downloads platform certificates")

    def _verify_signature(self, headers: Mapping[str, str], body: str) -> bool:
        found = signature_headers(headers)
        if found["Wechatpay-Serial"] != self._public_key_id:
            raise BadSignature("UNKNOWN_SERIAL", "Wechatpay-Serial is not our platform public key id")
        if not super()._verify_signature(found, body):
            raise BadSignature("SIGNATURE_MISMATCH", "Wechatpay-Signature does not verify")
        return True


# --- the provider ----------------------------------------------------------------------------------


def _check_config(config: PayConfig) -> None:
    if config.platform_cert_dir and config.public_key:
        raise PayConfigError("WeChat Pay: both a platform public key and platform certificates are configured; "
                             "public-key mode only: drop WECHATPAY_PLATFORM_CERT_DIR")
    if config.platform_cert_dir:
        raise PayConfigError("WeChat Pay: platform-certificate mode is not supported; "
                             "configure WECHATPAY_PUBLIC_KEY_FILE and WECHATPAY_PUBLIC_KEY_ID")
    if not (config.public_key and config.public_key_id):
        raise PayConfigError("WeChat Pay: neither a platform public key nor certificates are configured; "
                             "set WECHATPAY_PUBLIC_KEY_FILE and WECHATPAY_PUBLIC_KEY_ID")
    if len(config.apiv3_key.encode()) != 32:
        raise PayConfigError("WeChat Pay: the APIv3 key must be 32 bytes")
    notify = urlsplit(config.notify_url)
    if notify.scheme not in ("http", "https") or not notify.netloc or notify.query or notify.fragment:
        raise PayConfigError("WeChat Pay: WECHATPAY_NOTIFY_URL must be an absolute URL without a query string")
    base = urlsplit(config.api_base_url)
    if base.scheme not in ("http", "https") or not base.netloc:
        raise PayConfigError("WeChat Pay: WECHATPAY_API_BASE_URL must be an absolute URL")


def _text(content: str | bytes) -> str:
    return content.decode("utf-8", "replace") if isinstance(content, bytes) else content


class WeChatPayV3:
    """``PayProvider`` over wechatpayv3 (JSAPI in a mini-program, direct merchant, public-key mode)."""

    def __init__(self, config: PayConfig) -> None:
        _check_config(config)
        self.config = config
        self._base = config.api_base_url.rstrip("/")
        try:
            self._sdk = WeChatPay(
                wechatpay_type=WeChatPayType.MINIPROG,
                mchid=config.mchid,
                private_key=config.merchant_private_key,
                cert_serial_no=config.merchant_serial_no,
                appid=config.appid,
                apiv3_key=config.apiv3_key,
                notify_url=config.notify_url,
                timeout=config.timeout,
                public_key=config.public_key,
                public_key_id=config.public_key_id,
            )
        except Exception as exc:  # wechatpayv3 says "failed to load private key." as a bare Exception
            raise PayConfigError(f"WeChat Pay: unusable key material ({exc})") from None
        # The SDK's core, keys loaded once (RSA key checks are slow), as our subclass aimed at our base URL.
        core = object.__new__(_PublicKeyCore)
        core.__dict__.update(vars(self._sdk._core))
        core._gate_way = self._base
        self._sdk._core = self._core = core

    # --- every call ---------------------------------------------------------------------------

    def _call(self, what: str, method: Callable[..., tuple[int, Any]], *args: Any, **kwargs: Any) -> tuple[int, Any]:
        """One SDK call with every failure as our error; the text of a requests exception is left out
        (it holds URLs, some with a download token)."""
        try:
            return method(*args, **kwargs)
        except PayError:
            raise
        except requests.Timeout as exc:
            log.warning("wechat pay call timed out", extra={"call": what, "error": type(exc).__name__})
            raise PayUnavailable("TIMEOUT", f"{what}: {type(exc).__name__}") from None
        except requests.RequestException as exc:
            log.warning("wechat pay unreachable", extra={"call": what, "error": type(exc).__name__})
            raise PayUnavailable("NETWORK_ERROR", f"{what}: {type(exc).__name__}") from None
        except Exception as exc:  # wechatpayv3 raises bare Exception for a bad signature or a parameter
            if "signature" in str(exc):
                raise BadSignature("SIGNATURE_MISMATCH", f"{what}: {exc}") from None
            raise PayRejected("CLIENT_ERROR", f"{what}: {exc}") from None

    def _refusal(self, what: str, status: int, content: str | bytes) -> PayError:
        """The error for a non-2xx answer: WeChat's ``{"code", "message"}`` when it sent one."""
        code, message = f"HTTP_{status}", ""
        try:
            doc = json.loads(_text(content))
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            code = str(doc.get("code") or code)
            message = str(doc.get("message") or "")
        else:
            message = _text(content)[:200]
        log.warning("wechat pay call failed", extra={"call": what, "status": status, "code": code, "errmsg": message})
        if status >= 500 or status == 429 or code in PAY_RETRYABLE_CODES:
            return PayUnavailable(code, message, http_status=status)
        return PayRejected(code, message, http_status=status)

    def _answer(self, what: str, status: int, content: str | bytes, parse: Callable[[Any], Any] | None = None) -> Any:
        if not 200 <= status < 300:
            raise self._refusal(what, status, content)
        try:
            doc = json.loads(_text(content)) if content else {}
            return parse(doc) if parse else doc
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PayUnavailable("MALFORMED_ANSWER", f"{what}: {type(exc).__name__} {exc}") from None

    # --- payments -----------------------------------------------------------------------------

    def prepay(self, out_trade_no: str, description: str, amount_fen: int, payer_openid: str, expires_at: datetime,
               attach: str | None = None) -> Prepay:
        _check_out_trade_no(out_trade_no)
        _check_fen(amount_fen)
        if not description or not payer_openid:
            raise ValueError("description and payer_openid are required")
        status, content = self._call(
            "prepay",
            self._sdk.pay,
            description=description,
            out_trade_no=out_trade_no,
            amount={"total": amount_fen, "currency": "CNY"},
            payer={"openid": payer_openid},
            time_expire=rfc3339(expires_at),
            attach=attach,
        )
        prepay_id = self._answer("prepay", status, content, lambda doc: str(doc["prepay_id"]))
        return Prepay(prepay_id=prepay_id, out_trade_no=out_trade_no, expires_at=expires_at)

    def jsapi_params(self, prepay_id: str) -> dict[str, str]:
        params = {
            "appId": self.config.appid,
            "timeStamp": str(int(clock.now().timestamp())),
            "nonceStr": secrets.token_hex(16),
            "package": f"prepay_id={prepay_id}",
            "signType": "RSA",
        }
        # RSA-SHA256 over "appId\ntimeStamp\nnonceStr\npackage\n" with the merchant key.
        params["paySign"] = self._sdk.sign([params[k] for k in ("appId", "timeStamp", "nonceStr", "package")])
        return params

    def query(self, out_trade_no: str) -> TradeState:
        _check_out_trade_no(out_trade_no)
        status, content = self._call("query", self._sdk.query, out_trade_no=out_trade_no)
        return self._answer("query", status, content, trade_state_from)

    def close(self, out_trade_no: str) -> None:
        _check_out_trade_no(out_trade_no)
        status, content = self._call("close", self._sdk.close, out_trade_no=out_trade_no)
        if not 200 <= status < 300:
            raise self._refusal("close", status, content)

    def refund(self, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int, reason: str) -> Refund:
        _check_out_trade_no(out_trade_no)
        if not OUT_REFUND_NO.fullmatch(out_refund_no):
            raise ValueError(f"out_refund_no must match {OUT_REFUND_NO.pattern}")
        _check_fen(amount_fen)
        _check_fen(total_fen)
        if amount_fen > total_fen:
            raise ValueError("a refund cannot exceed the order's total")
        status, content = self._call(
            "refund",
            self._sdk.refund,
            out_refund_no=out_refund_no,
            amount={"refund": amount_fen, "total": total_fen, "currency": "CNY"},
            out_trade_no=out_trade_no,
            reason=reason[:80] or None,
        )
        return self._answer("refund", status, content, refund_from)

    def query_refund(self, out_refund_no: str) -> Refund:
        if not OUT_REFUND_NO.fullmatch(out_refund_no):
            raise ValueError(f"out_refund_no must match {OUT_REFUND_NO.pattern}")
        status, content = self._call("query_refund", self._sdk.query_refund, out_refund_no=out_refund_no)
        return self._answer("query_refund", status, content, refund_from)

    # --- notifications ------------------------------------------------------------------------

    def parse_notify(self, headers: Mapping[str, str], body: bytes | str) -> Notification:
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
        except UnicodeDecodeError:
            raise BadSignature("MALFORMED_NOTIFICATION", "body is not UTF-8") from None
        found = signature_headers(headers)
        check_timestamp(found["Wechatpay-Timestamp"], clock.now())
        self._core._verify_signature(found, text)  # serial, then the signature; raises BadSignature
        try:
            doc = json.loads(text)
            resource = doc["resource"]
            if doc.get("resource_type") != "encrypt-resource" or resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise ValueError("not an AEAD_AES_256_GCM encrypt-resource")
            plain = aes_decrypt(nonce=resource["nonce"], ciphertext=resource["ciphertext"],
                                associated_data=resource.get("associated_data") or "", apiv3_key=self.config.apiv3_key)
            if plain is None:
                raise BadSignature("UNDECRYPTABLE", "resource does not decrypt with our APIv3 key")
            content = json.loads(plain)
            kind = resource.get("original_type") or resource.get("associated_data")
            parse = {"transaction": trade_state_from, "refund": refund_from}.get(kind)
            if parse is None:
                raise PayRejected("UNSUPPORTED_EVENT", f"{doc.get('event_type')} carries a {kind!r} resource")
            record = parse(content)
            notification = Notification(
                id=str(doc["id"]),
                event_type=str(doc["event_type"]),
                create_time=parse_time(doc.get("create_time")),
                summary=str(doc.get("summary", "")),
                resource=record,
            )
        except PayError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadSignature("MALFORMED_NOTIFICATION", f"{type(exc).__name__} {exc}") from None
        if (record.mchid or self.config.mchid) != self.config.mchid:
            raise ForeignMerchant(notification, record.mchid)
        return notification

    # --- bills --------------------------------------------------------------------------------

    def fetch_bill(self, bill_date: date) -> bytes:
        status, content = self._call("tradebill", self._sdk.trade_bill, bill_date=bill_date.isoformat(),
                                     bill_type="ALL", tar_type="GZIP")
        hash_type, hash_value, url = self._answer("tradebill", status, content, _bill_announcement)
        if hash_type != "SHA1" or not hash_value:
            raise BillHashMismatch("UNSUPPORTED_HASH", f"hash_type {hash_type!r}")
        if not url.startswith(self._base + "/"):  # our Authorization goes to WeChat Pay's host only
            raise PayRejected("FOREIGN_DOWNLOAD_URL", "download_url is not on the WeChat Pay API host")
        status, content = self._call("billdownload", self._sdk.download_bill, url)
        if status != 200:
            raise self._refusal("billdownload", status, content)
        data = content.encode() if isinstance(content, str) else content
        try:
            bill = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise BillHashMismatch("NOT_GZIP", f"bill of {bill_date} does not unzip") from None
        if hashlib.sha1(bill).hexdigest() != hash_value.lower():
            raise BillHashMismatch("HASH_MISMATCH", f"bill of {bill_date} does not match its SHA1")
        return bill


def _bill_announcement(doc: Mapping[str, Any]) -> tuple[str, str, str]:
    return str(doc.get("hash_type") or ""), str(doc.get("hash_value") or ""), str(doc.get("download_url") or "")


def _check_out_trade_no(out_trade_no: str) -> None:
    if not OUT_TRADE_NO.fullmatch(out_trade_no):
        raise ValueError(f"out_trade_no must match {OUT_TRADE_NO.pattern}")


def _check_fen(amount: int) -> None:
    if type(amount) is not int or amount <= 0:
        raise ValueError(f"amounts are positive integer fen, not {amount!r}")


def make_pay_provider(config: PayConfig) -> WeChatPayV3:
    """A provider for ``config``; ``PayConfigError`` when it is incomplete, mixed or unusable."""
    return WeChatPayV3(config)
