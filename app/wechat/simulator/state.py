"""What the simulator remembers, shared by every product blueprint.

One ``SimulatorState`` per simulator app, in ``app.extensions["wechat_simulator"]``; a handler gets
it with ``current_state()``. One re-entrant lock guards all of it (the server is threaded): read or
change the collections under ``state.lock``, or through a method here that takes it. ``reset()``
forgets everything but the credentials the app was built with.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from flask import current_app

EXTENSION_KEY = "wechat_simulator"
DEMO_ROLES = ("teacher", "student", "worker", "dispatcher", "canteen", "courier", "finance", "admin", "parent")
TOKEN_TTL = 7200


@dataclass(frozen=True)
class PayCredentials:
    """WeChat Pay's side of one merchant: the merchant's public key and certificate serial (to verify its
    requests), the platform's private key and public key id (to sign answers and notifications), and
    the APIv3 key (to encrypt notifications)."""

    mchid: str
    merchant_serial_no: str
    merchant_public_key: RSAPublicKey = field(repr=False)
    platform_private_key: RSAPrivateKey = field(repr=False)
    public_key_id: str
    apiv3_key: str = field(repr=False)


@dataclass(frozen=True)
class Credentials:
    """The apps the simulator knows: the mini-program, optionally a WeCom corp and a WeChat Pay merchant
    (whose payments are made in the mini-program, ``app_id``)."""

    app_id: str
    app_secret: str
    corp_id: str | None
    corp_secret: str | None
    pay: PayCredentials | None = None


@dataclass
class LoginIdentity:
    openid: str
    unionid: str | None
    session_key: str


@dataclass
class PhoneRecord:
    phone: str
    country_code: str


@dataclass
class Token:
    kind: str  # "mp" (mini-program) or "wecom"
    expires_at: float
    revoked: str | None = None  # "invalid" (40001/40014) or "expired" (42001)


@dataclass
class Fault:
    path: str
    remaining: int
    errcode: int | None = None
    errmsg: str | None = None
    http_status: int | None = None
    delay_seconds: float = 0.0
    code: str | None = None  # WeChat Pay v3: answered as {"code", "message"} with http_status (400 if unset)
    message: str | None = None


@dataclass
class PayOrder:
    """A JSAPI order: ``state`` NOTPAY, SUCCESS, REFUND (paid, refund asked) or CLOSED."""

    out_trade_no: str
    appid: str
    mchid: str
    description: str
    total: int
    payer_openid: str
    notify_url: str
    attach: str | None
    time_expire: datetime
    requested_expire: str  # the time_expire asked (a repeated prepay must ask the same)
    created_at: datetime
    prepay_ids: list[str]
    state: str = "NOTPAY"
    transaction_id: str | None = None
    paid_openid: str | None = None
    success_time: datetime | None = None


@dataclass
class PayRefund:
    """A refund of an order: ``status`` PROCESSING until the control API completes it."""

    out_refund_no: str
    refund_id: str
    out_trade_no: str
    transaction_id: str
    refund: int
    total: int
    reason: str | None
    notify_url: str
    create_time: datetime
    status: str = "PROCESSING"
    success_time: datetime | None = None


@dataclass
class PayNotification:
    """A notification WeChat Pay posts: the same ``body`` on every delivery, re-signed each time.
    ``status``: held (until a control call sends it), pending, delivered, failed (retries spent)."""

    id: str
    event_type: str
    out_trade_no: str
    out_refund_no: str | None
    notify_url: str
    body: str
    status: str = "pending"
    deliveries: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BillPlant:
    """Mismatches planted in one day's trade bill."""

    omit: set[str] = field(default_factory=set)
    extra: list[dict[str, Any]] = field(default_factory=list)
    amounts: dict[str, int] = field(default_factory=dict)
    corrupt_hash: bool = False


def new_openid() -> str:
    return "o" + secrets.token_urlsafe(21)[:27]


def new_session_key() -> str:
    return secrets.token_urlsafe(16)[:22] + "=="


def _demo_role(code: str, prefix: str) -> str | None:
    role = code.removeprefix(prefix)
    return role if code.startswith(prefix) and role in DEMO_ROLES else None


class SimulatorState:
    """Everything the simulator remembers; one re-entrant lock guards it (threaded server)."""

    def __init__(self, credentials: Credentials, *, lenient_quota: bool, strict_templates: bool) -> None:
        self.credentials = credentials
        self.lock = threading.RLock()
        self._defaults = {"lenient_quota": lenient_quota, "strict_templates": strict_templates}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.config: dict[str, bool] = dict(self._defaults)
            self.tokens: dict[str, Token] = {}
            self.login_codes: dict[str, LoginIdentity] = {}
            self.used_codes: set[str] = set()
            self.phone_codes: dict[str, PhoneRecord] = {}
            self.templates: dict[str, list[str]] = {}
            self.quota: Counter[tuple[str, str]] = Counter()
            self.subscribe_messages: list[dict[str, Any]] = []
            self.wecom_messages: list[dict[str, Any]] = []
            self.wecom_users: set[str] = set()
            self.pages: set[str] = set()
            self.faults: deque[Fault] = deque()
            self.calls: Counter[str] = Counter()
            self.in_flight = 0
            self.peak_in_flight = 0
            self.msgids = itertools.count(3_000_000_001)
            self.pay_orders: dict[str, PayOrder] = {}
            self.pay_refunds: dict[str, PayRefund] = {}
            self.pay_notifications: dict[str, PayNotification] = {}
            self.pay_bill_plants: dict[str, BillPlant] = {}
            self.pay_bill_files: dict[str, tuple[bytes, float]] = {}  # token -> (file, expiry)
            self.pay_answer_tampering: deque[str] = deque()
            # Deliveries still running from before a reset see a new generation and stop.
            self.pay_generation = getattr(self, "pay_generation", 0) + 1

    # --- every product: call accounting, faults, tokens ---------------------------------------------

    def record_call(self, path: str) -> Fault | None:
        """Count a protocol call and hand back the fault it should suffer, if one is queued."""
        with self.lock:
            self.calls[path] += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            fault = next((f for f in self.faults if f.path == path), None)
            if fault is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
            return fault

    def call_done(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def issue_token(self, kind: str) -> str:
        token = secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[token] = Token(kind, time.time() + TOKEN_TTL)
        return token

    def token_problem(self, token: str, kind: str) -> str | None:
        """``None`` when the token is good, else "invalid" or "expired"."""
        with self.lock:
            record = self.tokens.get(token)
        if record is None or record.kind != kind:
            return "invalid"
        if record.revoked:
            return record.revoked
        return "expired" if record.expires_at <= time.time() else None

    # --- single-use codes and quota ---------------------------------------------------------------

    def take_login_code(self, code: str) -> LoginIdentity | int:
        """The identity behind a code, spending it; or the errcode WeChat would answer."""
        if role := _demo_role(code, "demo-"):
            return LoginIdentity(f"demo-openid-{role}", f"demo-unionid-{role}", new_session_key())
        with self.lock:
            if code in self.used_codes:
                return 40163
            identity = self.login_codes.pop(code, None)
            if identity is None:
                return 40029
            self.used_codes.add(code)
            return identity

    def take_phone_code(self, code: str) -> PhoneRecord | None:
        if role := _demo_role(code, "demo-phone-"):
            return PhoneRecord(f"1380000000{DEMO_ROLES.index(role) + 1}", "86")
        with self.lock:
            return self.phone_codes.pop(code, None)  # single use: a second try answers 40029

    def spend_quota(self, openid: str, template_id: str) -> bool:
        with self.lock:
            if self.config["lenient_quota"]:
                return True
            if self.quota[(openid, template_id)] <= 0:
                return False
            self.quota[(openid, template_id)] -= 1
            return True


def current_state() -> SimulatorState:
    """The state of the simulator app serving this request."""
    return current_app.extensions[EXTENSION_KEY]
