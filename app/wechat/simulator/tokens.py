"""Mini-program access tokens: ``GET /cgi-bin/token`` (``grant_type=client_credential``).

Every token request issues a new random token; earlier ones stay valid until they expire (7200 s)
or the control API invalidates them. Other products check them with ``protocol.check_token("mp")``.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.wechat.simulator.protocol import check_app_credentials, wx_error
from app.wechat.simulator.state import TOKEN_TTL, current_state

bp = Blueprint("token", __name__)


@bp.get("/cgi-bin/token")
def access_token() -> Response:
    if request.args.get("grant_type") != "client_credential":
        return wx_error(40002)
    if problem := check_app_credentials(request.args.get("appid"), request.args.get("secret")):
        return problem
    return jsonify(access_token=current_state().issue_token("mp"), expires_in=TOKEN_TTL)
