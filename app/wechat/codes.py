"""Printable codes: what a person scans with WeChat to land on a page of the mini-program.

One helper for every domain (a room's code on the door, a meeting's door code, a canteen order's
pickup code, a parcel's code): WeChat's mini-program code (``wxa/getwxacodeunlimit``, a ``scene`` of
at most 32 characters read by ``page``), or a plain QR code of a link under ``WECHAT_QR_LINK_BASE``
when WeChat cannot make one. WeChat's scanner opens both (the link is registered under
扫普通链接二维码打开小程序), so a printout never depends on WeChat answering at print time.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import segno
from flask import Response, current_app, make_response

from app.wechat import client as wx
from app.wechat import gateway
from app.wechat.errors import WeChatError

SOURCES = ("wechat", "qr")


@dataclass(frozen=True)
class Image:
    data: bytes
    mimetype: str
    source: str  # "wechat" (mini-program code) or "qr" (plain QR code of a link)

    def response(self) -> Response:
        """The code as a view's answer: the image, its kind in ``X-Code-Source``, kept an hour by the
        browser that asked (a printout's code does not change)."""
        response = make_response(self.data)
        response.headers.update({"Content-Type": self.mimetype, "X-Code-Source": self.source,
                                 "Cache-Control": "private, max-age=3600"})
        return response


def link(path: str) -> str:
    """A link a plain QR code carries: ``WECHAT_QR_LINK_BASE`` + ``path`` (``"place?code=A-101"``)."""
    return f"{current_app.config['WECHAT_QR_LINK_BASE']}{path}"


def qr_png(text: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def qr_data_uri(text: str) -> str:
    """A QR code as a ``data:`` URI, for an ``<image>`` that shows a code which changes (no file)."""
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode()


def link_qr(path: str) -> Image:
    """A plain QR code of ``link(path)``: what a page shows for a code that is scanned by staff, not printed
    (a canteen order's, a parcel's pickup code)."""
    return Image(qr_png(link(path)), "image/png", "qr")


def env_version() -> str:
    """Which mini-program version a code opens (from ``WECHAT_MINIPROGRAM_STATE``)."""
    return {"developer": "develop", "trial": "trial"}.get(gateway.miniprogram_state(), "release")


def printable(*, scene: str, page: str, fallback_path: str, prefer: str = "wechat") -> Image:
    """A code opening ``page`` with ``scene``: WeChat's mini-program code when ``prefer`` is
    ``"wechat"`` and WeChat makes one, else a plain QR code of ``link(fallback_path)``."""
    if prefer == "wechat":
        try:
            env = env_version()
            png = wx.get_unlimited_code(gateway.mini_program(), scene, page, env_version=env,
                                        check_path=env == "release")
            return Image(png, "image/png", "wechat")
        except WeChatError:
            pass  # the plain QR code opens the same page
    return link_qr(fallback_path)
