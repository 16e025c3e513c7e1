"""Fixtures for the WeChat adapter and simulator: a live simulator over HTTP and a real Redis.

They depend on no backend app so these tests run alone or under the whole suite's conftest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from app.wechat.client import MiniProgramClient, WeComClient, make_wechat_client, make_wecom_client
from app.wechat.simulator import SimulatorServer, create_simulator
from app.wechat.simulator_control import SimulatorControl
from tests.wechat.constants import AGENT_ID, APP_ID, APP_SECRET, CORP_ID, CORP_SECRET


@pytest.fixture(scope="session")
def _simulator_server() -> Iterator[SimulatorServer]:
    with SimulatorServer(create_simulator(APP_ID, APP_SECRET, CORP_ID, CORP_SECRET)) as server:
        yield server


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
