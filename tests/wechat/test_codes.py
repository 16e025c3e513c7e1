"""Printable codes: WeChat's mini-program code, or a plain QR code of a link when WeChat cannot."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image as PILImage

from app.wechat import codes
from app.wechat.simulator_control import SimulatorControl


@pytest.fixture
def app_sim(app, _wechat_simulator) -> SimulatorControl:
    """The simulator the app talks to (this folder's ``sim`` is a separate one for the adapter tests)."""
    return SimulatorControl(_wechat_simulator.base_url)


def _png_size(data: bytes) -> tuple[int, int]:
    with PILImage.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


def test_a_mini_program_code_from_wechat(app_sim):
    image = codes.printable(scene="p=A-101", page="pages/index/index", fallback_path="place?code=A-101")
    assert (image.source, image.mimetype) == ("wechat", "image/png")
    _png_size(image.data)
    assert app_sim.calls().get("/wxa/getwxacodeunlimit") == 1


def test_a_plain_qr_code_when_wechat_fails_or_when_asked(app_sim):
    app_sim.inject_fault("/wxa/getwxacodeunlimit", errcode=45009, errmsg="reach max api daily quota limit")
    fallback = codes.printable(scene="p=A-101", page="pages/index/index", fallback_path="place?code=A-101")
    assert fallback.source == "qr"
    asked_wechat = app_sim.calls()["/wxa/getwxacodeunlimit"]
    width, height = _png_size(fallback.data)
    assert width == height > 100
    asked = codes.printable(scene="p=A-101", page="pages/index/index", fallback_path="place?code=A-101",
                            prefer="qr")
    assert asked.source == "qr" and asked.data == fallback.data  # the same link, the same picture
    assert app_sim.calls()["/wxa/getwxacodeunlimit"] == asked_wechat  # prefer="qr" does not ask WeChat


def test_links_and_data_uris(app):
    assert codes.link("place?code=A-101") == app.config["WECHAT_QR_LINK_BASE"] + "place?code=A-101"
    uri = codes.qr_data_uri(codes.link("checkin?t=abc"))
    assert uri.startswith("data:image/png;base64,")
    _png_size(base64.b64decode(uri.split(",", 1)[1]))
