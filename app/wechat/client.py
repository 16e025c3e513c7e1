"""The wechatpy adapter the rest of the backend uses.

Why a subclass of wechatpy's clients rather than plain instances:

* **Base URLs are settings.** wechatpy hard-codes WeChat's hosts in three kinds of places: the
  client's ``API_BASE_URL``, the literal token URL inside ``fetch_access_token`` and the
  ``API_BASE_URL`` of API groups such as ``client.wxa``. We rewrite all of them on the instance
  (never on wechatpy's classes or module globals), so a client aimed at the simulator and one aimed
  at WeChat can live in the same process.
* **One token for many processes.** The token is cached in Redis (wechatpy's ``RedisStorage``) and
  refreshed under a Redis lock with a re-check after the lock is taken, so a fleet of gunicorn and
  RQ workers asks WeChat for one token, not one each (a fresh token also shortens the old one's life).
* **Retry once on a stale token.** wechatpy's own ``auto_retry`` refreshes without the lock and
  recurses for ever while WeChat keeps answering 40001; ours refreshes only if nobody else did
  already and retries exactly once.
* **Our exceptions, our timeouts.** Every call has a timeout (wechatpy's token fetch has none) and
  every failure leaves as an ``app.wechat.errors`` exception whose message holds no secret.

The functions at the bottom are what services call; they take the client as a parameter and read
no Flask configuration.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import requests
from redis import Redis
from redis.exceptions import LockError
from wechatpy.client import WeChatClient
from wechatpy.client.api import WeChatWxa
from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.enterprise import WeChatClient as EnterpriseClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from app.wechat.errors import (
    TOKEN_ERRCODES,
    InvalidCredential,
    RateLimited,
    WeChatError,
    WeChatUnavailable,
    error_for,
)

log = logging.getLogger(__name__)

WECHAT_API_HOST = "https://api.weixin.qq.com/"
WECOM_API_HOST = "https://qyapi.weixin.qq.com/"
DEFAULT_TIMEOUT = 5.0
TOKEN_EXPIRY_MARGIN = 300
TOKEN_MEMO_SECONDS = 10.0
"""Seconds before WeChat's expiry at which the cached token disappears, so nobody uses a dying one."""
TOKENLESS_ENDPOINTS = ("sns/jscode2session",)
"""Endpoints WeChat authenticates with the app secret; wechatpy would fetch a token for them anyway."""

MiniProgramState = Literal["developer", "trial", "formal"]


def _normalise_base(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _unavailable(what: str, exc: Exception) -> WeChatUnavailable:
    """A transport failure, described without ``str(exc)``: requests puts the query string (secret) in it."""
    return WeChatUnavailable(None, f"{what}: {type(exc).__name__}")


class _ManagedTokenMixin:
    """Token caching, locking, rebasing and error translation shared by both wechatpy clients."""

    API_BASE_URL: str
    session: SessionStorage
    timeout: float
    _http: requests.Session
    access_token_key: str
    _token_request: Callable[[], tuple[str, dict[str, str]]]  # each client says how WeChat issues its token

    def _setup(self, *, wechat_host: str, api_base_url: str, redis: Redis | None, lock_name: str) -> str:
        """Point every wechatpy base URL of this instance at ``api_base_url``; return the normalised base."""
        base = _normalise_base(api_base_url)
        self.API_BASE_URL = base + self.API_BASE_URL.removeprefix(wechat_host)
        # wechatpy's __new__ gave each instance its own API group objects, so instance attributes
        # are enough. vars() rather than inspect.getmembers(): the latter evaluates access_token.
        for api in vars(self).values():
            api_base = getattr(api, "API_BASE_URL", "") if isinstance(api, BaseWeChatAPI) else ""
            if api_base.startswith(wechat_host):
                api.API_BASE_URL = base + api_base.removeprefix(wechat_host)
        self._redis = redis
        self._lock_name = lock_name
        self._local_lock = threading.Lock()
        self._token_memo: tuple[str, float] | None = None
        return base

    # --- the token ----------------------------------------------------------------------------

    @property
    def access_token(self) -> str:
        """The cached token, or a new one fetched under the lock. A process remembers it for a few
        seconds (a busy worker sends hundreds of messages a second); a token another process
        replaced meanwhile answers 40001, and the one retry then reads the new one from Redis."""
        memo = self._token_memo
        if memo is not None and memo[1] > time.monotonic():
            return memo[0]
        token = self.session.get(self.access_token_key) or self._refresh_access_token(stale=None)
        self._token_memo = (token, time.monotonic() + TOKEN_MEMO_SECONDS)
        return token

    def _refresh_access_token(self, *, stale: str | None) -> str:
        """Fetch a token unless another worker replaced ``stale`` (or filled the empty cache) meanwhile."""
        self._token_memo = None
        with self._token_lock():
            cached = self.session.get(self.access_token_key)
            if cached and cached != stale:
                return cached
            return self.fetch_access_token()["access_token"]

    @contextmanager
    def _token_lock(self) -> Iterator[None]:
        if self._redis is None:
            with self._local_lock:
                yield
            return
        # The lock expires on its own so that a worker killed mid-fetch cannot block the others.
        ttl = self.timeout * 3 + 5
        lock = self._redis.lock(self._lock_name, timeout=ttl, blocking_timeout=ttl)
        acquired = lock.acquire()
        if not acquired:
            log.warning("wechat token lock not acquired, fetching anyway", extra={"lock": self._lock_name})
        try:
            yield
        finally:
            if acquired:
                try:
                    lock.release()
                except LockError:
                    log.warning("wechat token lock expired before release", extra={"lock": self._lock_name})

    def fetch_access_token(self) -> dict[str, Any]:
        """Ask WeChat for a new token and cache it (replaces wechatpy's fetch, which has no timeout)."""
        url, params = self._token_request()
        try:
            res = self._http.get(url, params=params, timeout=self.timeout)
            res.raise_for_status()
            result = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise _unavailable("token", exc) from None
        if not isinstance(result, dict):
            raise WeChatUnavailable(None, "token: answer is not a JSON object")
        errcode = int(result.get("errcode") or 0)
        if errcode:
            error = error_for(errcode, str(result.get("errmsg", "")))
            log.warning("wechat token refused", extra={"errcode": errcode, "errmsg": error.errmsg})
            if isinstance(error, (RateLimited, WeChatUnavailable)):
                raise error
            raise InvalidCredential(errcode, error.errmsg)
        expires_in = int(result.get("expires_in", 7200))
        ttl = expires_in - TOKEN_EXPIRY_MARGIN if expires_in > 2 * TOKEN_EXPIRY_MARGIN else max(expires_in // 2, 1)
        self.session.set(self.access_token_key, result["access_token"], ttl)
        log.info("wechat access token fetched", extra={"expires_in": expires_in})
        return result

    # --- every API call -----------------------------------------------------------------------

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        """wechatpy's request plus a single retry on a stale token and our exception types."""
        params = dict(kwargs.pop("params", None) or {})
        if url_or_endpoint.endswith(TOKENLESS_ENDPOINTS):
            params.setdefault("access_token", None)  # requests drops None-valued params
        caller_token = "access_token" in params
        for attempt in (1, 2):
            sent = params if caller_token else {**params, "access_token": self.access_token}
            try:
                return super()._request(method, url_or_endpoint, params=sent, **kwargs)  # type: ignore[misc]
            except WeChatClientException as exc:
                if attempt == 1 and not caller_token and exc.errcode in TOKEN_ERRCODES:
                    log.info("wechat token rejected, refreshing once", extra={"errcode": exc.errcode})
                    self._refresh_access_token(stale=sent["access_token"])
                    continue
                raise self._translate(url_or_endpoint, exc) from exc
            except requests.RequestException as exc:
                log.warning("wechat unreachable", extra={"endpoint": url_or_endpoint, "error": type(exc).__name__})
                raise _unavailable(url_or_endpoint, exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _translate(endpoint: str, exc: WeChatClientException) -> WeChatError:
        if exc.errcode is None:
            status = exc.response.status_code if exc.response is not None else "no response"
            errmsg = f"HTTP {status}"
        else:
            errmsg = str(exc.errmsg)
        log.warning("wechat call failed", extra={"endpoint": endpoint, "errcode": exc.errcode, "errmsg": errmsg})
        return error_for(exc.errcode, errmsg)


class WxaAPI(WeChatWxa):
    """wechatpy's mini-program API group plus what 1.8.18 lacks or sends incompletely."""

    def get_user_phone_number(self, code: str) -> dict[str, Any]:
        """``wxa/business/getuserphonenumber``: the phone code from ``<button open-type="getPhoneNumber">``."""
        return self._post("wxa/business/getuserphonenumber", data={"code": code})

    def send_subscribe_message(
        self,
        user_id: str,
        template_id: str,
        data: dict[str, Any],
        page: str | None = None,
        miniprogram_state: str | None = None,
        lang: str | None = None,
    ) -> dict[str, Any]:
        """wechatpy's version cannot say which mini-program version (``miniprogram_state``) to open."""
        body = {
            "touser": user_id,
            "template_id": template_id,
            "page": page,
            "data": data,
            "miniprogram_state": miniprogram_state,
            "lang": lang,
        }
        return self._post("cgi-bin/message/subscribe/send", data={k: v for k, v in body.items() if v is not None})

    def get_unlimited_code(
        self, scene: str, page: str | None, width: int, check_path: bool, env_version: str
    ) -> requests.Response | dict[str, Any]:
        """wechatpy's ``get_wxa_code_unlimited`` cannot send ``check_path`` / ``env_version``."""
        body = {"scene": scene, "page": page, "width": width, "check_path": check_path, "env_version": env_version}
        return self._post("wxa/getwxacodeunlimit", data={k: v for k, v in body.items() if v is not None})


class MiniProgramClient(_ManagedTokenMixin, WeChatClient):
    """wechatpy's mini-program client aimed at ``api_base_url`` with a shared, locked token."""

    wxa = WxaAPI()

    def __init__(self, *, app_id: str, app_secret: str, api_base_url: str, redis: Redis | None, timeout: float) -> None:
        storage = RedisStorage(redis, prefix="wechat") if redis is not None else MemoryStorage()
        super().__init__(app_id, app_secret, session=storage, timeout=timeout, auto_retry=False)
        base = self._setup(
            wechat_host=WECHAT_API_HOST, api_base_url=api_base_url, redis=redis, lock_name=f"wechat:token-lock:{app_id}"
        )
        self._token_url = base + "cgi-bin/token"

    def _token_request(self) -> tuple[str, dict[str, str]]:
        return self._token_url, {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}


class WeComClient(_ManagedTokenMixin, EnterpriseClient):
    """wechatpy's WeCom (企业微信) client aimed at ``api_base_url`` with a shared, locked token."""

    def __init__(
        self,
        *,
        corp_id: str,
        secret: str,
        agent_id: int,
        api_base_url: str,
        redis: Redis | None,
        timeout: float,
    ) -> None:
        storage = RedisStorage(redis, prefix="wechat") if redis is not None else MemoryStorage()
        self.agent_id = agent_id
        super().__init__(corp_id, secret, session=storage, timeout=timeout, auto_retry=False)
        base = self._setup(
            wechat_host=WECOM_API_HOST,
            api_base_url=api_base_url,
            redis=redis,
            lock_name=f"wechat:token-lock:{corp_id}:{agent_id}",
        )
        self._token_url = base + "cgi-bin/gettoken"

    @property
    def access_token_key(self) -> str:
        """wechatpy's key embeds the first ten characters of the secret; a digest says as much."""
        digest = hashlib.sha256(self.secret.encode()).hexdigest()[:12]
        return f"wecom_{self.corp_id}_{digest}_access_token"

    def _token_request(self) -> tuple[str, dict[str, str]]:
        return self._token_url, {"corpid": self.corp_id, "corpsecret": self.secret}


# --- construction ----------------------------------------------------------------------------------


def make_wechat_client(
    *, app_id: str, app_secret: str, api_base_url: str, redis: Redis | None = None, timeout: float = DEFAULT_TIMEOUT
) -> MiniProgramClient:
    """A mini-program client; pass ``redis`` wherever more than one process calls WeChat."""
    return MiniProgramClient(
        app_id=app_id, app_secret=app_secret, api_base_url=api_base_url, redis=redis, timeout=timeout
    )


def make_wecom_client(
    *,
    corp_id: str,
    secret: str,
    agent_id: int | str,
    api_base_url: str,
    redis: Redis | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> WeComClient:
    """A WeCom app client (staff notifications); ``agent_id`` may come as the string setting."""
    return WeComClient(
        corp_id=corp_id, secret=secret, agent_id=int(agent_id), api_base_url=api_base_url, redis=redis, timeout=timeout
    )


# --- what services call ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInfo:
    """The result of ``wx.login`` → ``code_to_session``; ``session_key`` is kept out of ``repr``."""

    openid: str
    unionid: str | None
    session_key: str = field(repr=False)


def code_to_session(client: MiniProgramClient, code: str) -> SessionInfo:
    """Exchange a ``wx.login`` code; raises ``InvalidCode`` for an unknown, expired or reused code."""
    result = client.wxa.code_to_session(code)
    return SessionInfo(openid=result["openid"], unionid=result.get("unionid"), session_key=result["session_key"])


def get_phone_number(client: MiniProgramClient, code: str) -> str:
    """The phone number behind a ``getPhoneNumber`` code (with the country code for foreign numbers).

    The watermark's app id is checked so that an answer meant for another mini-program is refused.
    """
    info = client.wxa.get_user_phone_number(code)["phone_info"]
    if info.get("watermark", {}).get("appid") != client.appid:
        raise WeChatError(None, "phone number watermark does not match our app id")
    return info["phoneNumber"]


def send_subscribe_message(
    client: MiniProgramClient,
    openid: str,
    template_id: str,
    data: Mapping[str, str],
    page: str | None = None,
    state: MiniProgramState = "formal",
) -> int:
    """Send one subscribe message; ``data`` maps template keys to values (``{"thing1": "报修已受理"}``).

    Raises ``NoSubscriptionQuota`` when the user has no grant left (do not retry) and a plain
    ``WeChatError`` with errcode 47003 when a value breaks the template's field rules.
    """
    wrapped = {key: {"value": value} for key, value in data.items()}
    result = client.wxa.send_subscribe_message(openid, template_id, wrapped, page=page, miniprogram_state=state)
    return int(result["msgid"])


def get_unlimited_code(
    client: MiniProgramClient,
    scene: str,
    page: str | None,
    width: int = 430,
    *,
    check_path: bool = True,
    env_version: Literal["release", "trial", "develop"] = "release",
) -> bytes:
    """A mini-program code image (PNG/JPEG bytes) whose scan opens ``page`` with ``scene``."""
    result = client.wxa.get_unlimited_code(scene, page, width, check_path, env_version)
    if not isinstance(result, requests.Response) or not result.headers.get("Content-Type", "").startswith("image/"):
        raise WeChatUnavailable(None, "getwxacodeunlimit answered without an image")
    return result.content


def send_wecom_text(client: WeComClient, agent_id: int | str, userid: str, content: str) -> str:
    """A plain-text WeCom app message to one staff member; returns WeCom's msgid."""
    return str(client.message.send_text(int(agent_id), userid, content)["msgid"])


def send_wecom_card(
    client: WeComClient,
    agent_id: int | str,
    userid: str,
    title: str,
    description: str,
    url: str,
    btntxt: str = "详情",
) -> str:
    """A text-card WeCom app message (title, description, a link button); returns WeCom's msgid."""
    return str(client.message.send_text_card(int(agent_id), userid, title, description, url, btntxt=btntxt)["msgid"])
