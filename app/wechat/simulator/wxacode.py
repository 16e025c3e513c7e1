"""Mini-program codes: ``POST /wxa/getwxacodeunlimit``.

The image is a real, scannable PNG (a QR code of ``wxsim://<page>?scene=<scene>``). Once published
pages are registered through the control API, codes for other pages answer 41030 unless
``check_path`` is false, as on WeChat.
"""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import segno
from flask import Blueprint, Response

from app.wechat.simulator.protocol import check_token, json_body, wx_error
from app.wechat.simulator.state import current_state

bp = Blueprint("wxacode", __name__)

DEFAULT_PAGE = "pages/index/index"
SCENE = re.compile(r"[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}")


def render_code_png(page: str, scene: str, width: int) -> bytes:
    """A real, scannable PNG: a QR code of ``wxsim://<page>?scene=<scene>`` about ``width`` px wide."""
    qr = segno.make(f"wxsim://{page}?scene={quote(scene, safe='')}", error="m")
    modules = qr.symbol_size(scale=1, border=4)[0]
    out = io.BytesIO()
    qr.save(out, kind="png", scale=max(1, width // modules), border=4)
    return out.getvalue()


@bp.post("/wxa/getwxacodeunlimit")
def unlimited_code() -> Response:
    if problem := check_token("mp"):
        return problem
    body = json_body()
    scene = body.get("scene") if body else None
    if not isinstance(scene, str) or not SCENE.fullmatch(scene):
        return wx_error(40169)
    page = body.get("page") or DEFAULT_PAGE
    if not isinstance(page, str) or page.startswith("/") or "?" in page:
        return wx_error(41030)
    state = current_state()
    with state.lock:
        unpublished = bool(state.pages) and page not in state.pages
    if unpublished and body.get("check_path", True):
        return wx_error(41030)
    if body.get("env_version", "release") not in ("release", "trial", "develop"):
        return wx_error(40097)
    try:
        width = min(max(int(body.get("width", 430)), 280), 1280)
    except (TypeError, ValueError):
        return wx_error(40097)
    return Response(render_code_png(page, scene, width), mimetype="image/png")
