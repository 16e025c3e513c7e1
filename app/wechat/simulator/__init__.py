"""The WeChat simulator: a small Flask app that speaks WeChat's server protocols offline.

WeChat's servers are unreachable from development machines and CI, and patching our own code in
tests would test nothing. So the real clients (wechatpy) talk HTTP to this app instead: same paths,
query parameters, JSON bodies, ``errcode``/``errmsg`` answers and error codes as
``api.weixin.qq.com`` and ``qyapi.weixin.qq.com`` (the two hosts share one base URL here; their
paths do not collide).

One module per WeChat product, each a Flask blueprint serving that product's real paths:

=================  ==================================================================================
``tokens``         ``GET /cgi-bin/token``: mini-program access tokens
``login``          ``GET /sns/jscode2session``, ``POST /wxa/business/getuserphonenumber``
``subscribe``      ``POST /cgi-bin/message/subscribe/send`` and WeChat's field rules for its values
``wxacode``        ``POST /wxa/getwxacodeunlimit``: mini-program codes (real PNG QR codes)
``wecom``          WeCom's ``GET /cgi-bin/gettoken`` and ``POST /cgi-bin/message/send``
``pay``            WeChat Pay API v3 (``/v3/…``): JSAPI orders, refunds, the trade bill; with ``paynotify``
                   (the notifications it posts) and ``paybill`` (the bill's CSV)
``control``        the control API under ``/__sim__/`` (``app.wechat.simulator_control`` wraps it)
=================  ==================================================================================

and what they share: ``state`` (everything the simulator remembers, one lock) and ``protocol``
(WeChat's error answer, JSON bodies, credential and token checks, call accounting and faults, Pay
v3's signed requests and answers).
``server`` serves an app from a thread (tests) and ``__main__`` alone: ``python -m
app.wechat.simulator --host 127.0.0.1 --port 5001 [--pay-keys-dir DIR]``. WeChat Pay needs key
material (``app.wechat.paykeys``): without ``pay_keys_dir`` the ``/v3/`` paths answer 501.

How a product module plugs in (e.g. a WeChat Pay v3 simulator, ``pay.py``):

* **The blueprint.** The module defines ``bp = Blueprint("<product>", __name__)`` with routes at the
  product's real paths (no ``url_prefix``: clients are given the bare base URL) and is added to
  ``PRODUCTS`` below. Nothing else is registered by hand.
* **State.** A handler gets the app's ``SimulatorState`` with ``state.current_state()`` and touches its
  collections under ``state.lock``. New memory (orders, refunds…) is initialised in
  ``SimulatorState.reset()`` so that ``/__sim__/reset`` forgets it too; the product's credentials
  join ``state.Credentials`` and ``create_simulator``'s keyword arguments.
* **Faults and call counts** come for free: ``protocol.install_call_accounting`` counts every request
  outside ``/__sim__/`` and applies the next fault queued for its path (delay, HTTP status, or an
  ``errcode`` answered in WeChat's JSON shape) before any product handler runs. A product whose
  errors are not ``errcode`` JSON (Pay v3 answers an HTTP status with ``{"code", "message"}``) is
  faulted with ``http_status``/``delay_seconds``.
* **Authentication.** A handler starts with ``protocol.check_token(kind)`` (or
  ``authorized_body(kind, malformed=…)`` for a JSON body, or ``check_app_credentials``), returning the
  refusal it gives, and answers its own refusals with ``protocol.wx_error(errcode, detail)``; a
  product module never re-implements these. A scheme a new product brings (Pay v3's signed
  ``Authorization`` header and its error answer) goes into ``protocol`` too, once.
* **Stage setting and inspection** (register a code, grant quota, list what was sent) are control
  endpoints in ``control`` under ``/__sim__/``, each with a method on ``SimulatorControl``.
* **Tests** go in ``tests/wechat/simulator/test_<product>.py``: stock wechatpy (or plain HTTP) against
  a live simulator, asserting WeChat's answers.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

from app.wechat.paykeys import DEFAULT_MCHID
from app.wechat.simulator import control, login, pay, subscribe, tokens, wecom, wxacode
from app.wechat.simulator.protocol import install_call_accounting
from app.wechat.simulator.server import SimulatorServer, make_simulator_server
from app.wechat.simulator.state import EXTENSION_KEY, Credentials, SimulatorState

__all__ = ["PRODUCTS", "SimulatorServer", "create_simulator", "make_simulator_server"]

PRODUCTS: tuple[Blueprint, ...] = (tokens.bp, login.bp, subscribe.bp, wxacode.bp, wecom.bp, pay.bp, control.bp)
"""Every blueprint a simulator app serves; a new product module adds its ``bp`` here."""


def create_simulator(
    app_id: str = "wx0000000000sim00",
    app_secret: str = "sim-app-secret",
    corp_id: str | None = None,
    corp_secret: str | None = None,
    *,
    lenient_quota: bool = False,
    strict_templates: bool = False,
    mchid: str = DEFAULT_MCHID,
    pay_keys_dir: str | Path | None = None,
) -> Flask:
    """Build the simulator app; its state lives in ``app.extensions["wechat_simulator"]``. WeChat Pay
    plays merchant ``mchid`` with the keys ``app.wechat.paykeys`` wrote into ``pay_keys_dir``."""
    app = Flask(__name__)
    pay_credentials = pay.load_pay_credentials(pay_keys_dir, mchid) if pay_keys_dir else None
    credentials = Credentials(app_id, app_secret, corp_id, corp_secret, pay_credentials)
    app.extensions[EXTENSION_KEY] = SimulatorState(
        credentials, lenient_quota=lenient_quota, strict_templates=strict_templates
    )
    install_call_accounting(app)
    for blueprint in PRODUCTS:
        app.register_blueprint(blueprint)
    return app
