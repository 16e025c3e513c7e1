"""Mini-program codes (``wxacode``): real PNGs, published pages, WeChat's refusals."""

from __future__ import annotations

import pytest
import requests

from tests.wechat.simulator.helpers import mp_token, post


def code(sim_url: str, **body: object) -> requests.Response:
    return post(sim_url, "wxa/getwxacodeunlimit", mp_token(sim_url), {"scene": "a=1", **body})


def test_code_is_png_and_width_is_clamped(sim_url):
    small, large = code(sim_url, width=10), code(sim_url, width=5000)
    assert small.headers["Content-Type"] == large.headers["Content-Type"] == "image/png"
    assert small.content.startswith(b"\x89PNG") and len(large.content) > len(small.content)


def test_check_path_against_published_pages(sim_url, sim):
    sim.register_pages("pages/index/index", "packageMeeting/pages/checkin/index")
    assert code(sim_url, page="packageMeeting/pages/checkin/index").headers["Content-Type"] == "image/png"
    assert code(sim_url, page="packageMeeting/pages/draft/index").json()["errcode"] == 41030
    unchecked = code(sim_url, page="packageMeeting/pages/draft/index", check_path=False)
    assert unchecked.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"scene": ""}, 40169),
        ({"scene": "id%3D1"}, 40169),
        ({"page": "pages/a?x=1"}, 41030),
        ({"env_version": "x"}, 40097),
    ],
)
def test_code_refusals(sim_url, body, errcode):
    assert code(sim_url, **body).json()["errcode"] == errcode
