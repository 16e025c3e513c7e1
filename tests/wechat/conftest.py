"""Fixtures for the WeChat adapter and simulator: a live simulator over HTTP and a real Redis, WeChat
Pay key material made for the session, a notification sink, and WeChat Pay providers.

They depend on no backend app so these tests run alone or under the whole suite's conftest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from app.wechat.client import MiniProgramClient, WeComClient, make_wechat_client, make_wecom_client
from app.wechat.pay import PayConfig, WeChatPayV3, make_pay_provider
from app.wechat.paykeys import APIV3_KEY, MERCHANT_KEY, PLATFORM_PUBLIC_KEY, PayKeys, generate_pay_keys
from app.wechat.simulator import SimulatorServer, create_simulator
from app.wechat.simulator_control import SimulatorControl
from tests.wechat.constants import AGENT_ID, APP_ID, APP_SECRET, CORP_ID, CORP_SECRET, MCHID
from tests.wechat.notify_sink import NotifySink


@pytest.fixture(scope="session")
def pay_keys(tmp_path_factory: pytest.TempPathFactory) -> PayKeys:
    """Fresh merchant and platform key pairs and APIv3 key for the session (``app.wechat.paykeys``)."""
    return generate_pay_keys(tmp_path_factory.mktemp("wechatpay-keys"))


@pytest.fixture(scope="session")
def _simulator_server(pay_keys: PayKeys) -> Iterator[SimulatorServer]:
    app = create_simulator(APP_ID, APP_SECRET, CORP_ID, CORP_SECRET, mchid=MCHID, pay_keys_dir=pay_keys.directory)
    with SimulatorServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def _notify_sink() -> Iterator[NotifySink]:
    with NotifySink() as sink:
        yield sink


@pytest.fixture
def notify_sink(_notify_sink: NotifySink) -> NotifySink:
    """Where the simulator posts WeChat Pay notifications in these tests; empty, answering 204."""
    _notify_sink.reset()
    return _notify_sink


@pytest.fixture(scope="session")
def _pay_providers() -> dict:
    return {}


@pytest.fixture
def make_pay(
    sim_url: str, pay_keys: PayKeys, notify_sink: NotifySink, _pay_providers: dict
) -> Callable[..., WeChatPayV3]:
    """Build WeChat Pay providers aimed at the simulator; keyword arguments override ``PayConfig``'s.
    Providers hold no state, so one per configuration serves the session (loading RSA keys is slow)."""

    def build(**overrides: object) -> WeChatPayV3:
        key = tuple(sorted(overrides.items()))
        if key not in _pay_providers:
            _pay_providers[key] = _build(**overrides)
        return _pay_providers[key]

    def _build(**overrides: object) -> WeChatPayV3:
        options: dict = {
            "mchid": MCHID,
            "appid": APP_ID,
            "merchant_serial_no": pay_keys.merchant_serial_no,
            "merchant_private_key": pay_keys.read(MERCHANT_KEY),
            "apiv3_key": pay_keys.read(APIV3_KEY),
            "public_key": pay_keys.read(PLATFORM_PUBLIC_KEY),
            "public_key_id": pay_keys.public_key_id,
            "notify_url": notify_sink.url,
            "api_base_url": sim_url,
            "timeout": 3.0,
        }
        return make_pay_provider(PayConfig(**{**options, **overrides}))

    return build


@pytest.fixture
def wxpay(make_pay: Callable[..., WeChatPayV3]) -> WeChatPayV3:
    return make_pay()


@pytest.fixture
def sim_url(_simulator_server: SimulatorServer) -> str:
    """Base URL of a simulator that starts every test with empty state."""
    SimulatorControl(_simulator_server.base_url).reset()
    return _simulator_server.base_url


@pytest.fixture
def sim(sim_url: str) -> SimulatorControl:
    return SimulatorControl(sim_url)


@pytest.fixture
def wechat_redis(redis_conn: redis.Redis) -> redis.Redis:
    """The suite's real Redis (tests/conftest.py), flushed for this test."""
    return redis_conn


@pytest.fixture
def make_mp_client(sim_url: str) -> Callable[..., MiniProgramClient]:
    """Build mini-program clients aimed at the simulator; keyword arguments override the defaults."""

    def build(**overrides: object) -> MiniProgramClient:
        options: dict = {"app_id": APP_ID, "app_secret": APP_SECRET, "api_base_url": sim_url, "timeout": 3.0}
        return make_wechat_client(**{**options, **overrides})

    return build


@pytest.fixture
def mp_client(make_mp_client: Callable[..., MiniProgramClient], wechat_redis: redis.Redis) -> MiniProgramClient:
    """A mini-program client with its token cached in Redis, as in production."""
    return make_mp_client(redis=wechat_redis)


@pytest.fixture
def wecom_client(sim_url: str, wechat_redis: redis.Redis) -> WeComClient:
    return make_wecom_client(
        corp_id=CORP_ID, secret=CORP_SECRET, agent_id=str(AGENT_ID), api_base_url=sim_url, redis=wechat_redis
    )
