from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView

from app.auth import service
from app.auth.schemas import RefreshSchema, TokensSchema, WechatLoginSchema
from app.core.blueprint import Blueprint
from app.extensions import limiter
from app.users import service as users_service

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录与令牌")


def _login_code() -> str:
    body = request.get_json(silent=True)
    return str(body.get("code", ""))[:128] if isinstance(body, dict) else ""


def _login_code_key() -> str:
    return f"login-code:{_login_code()}"


def _reusable_demo_code() -> bool:
    """The simulator's ``demo-<role>`` codes are shared by design: no per-code limit for them."""
    return bool(current_app.config["WECHAT_SIMULATOR"]) and _login_code().startswith("demo-")


def _answer(tokens: service.Tokens) -> dict:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_in": tokens.expires_in,
        "user": users_service.profile(user_id=tokens.user_id),
    }


@blp.route("/wechat-login")
class WechatLogin(MethodView):
    decorators = [limiter.limit("300/minute"),
                  limiter.limit("5/minute", key_func=_login_code_key, exempt_when=_reusable_demo_code)]

    @blp.arguments(WechatLoginSchema)
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, description="`auth.invalid_code`: the code is invalid, expired or used")
    @blp.alt_response(502, description="`wechat.unavailable`: WeChat did not answer")
    def post(self, data):
        """Log in with the code of `wx.login()`; a new WeChat user is created unbound."""
        tokens = service.wechat_login(code=data["code"], user_agent=request.user_agent.string,
                                      ip=request.remote_addr)
        return _answer(tokens)


@blp.route("/refresh")
class Refresh(MethodView):
    decorators = [limiter.limit("60/minute")]

    @blp.arguments(RefreshSchema)
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, description="`auth.invalid_refresh_token`; a reused token also ends its session")
    def post(self, data):
        """Exchange a refresh token for a new pair (the old refresh token stops working)."""
        return _answer(service.refresh(refresh_token=data["refresh_token"]))


@blp.route("/logout")
class Logout(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(204)
    def post(self, data):
        """End this login session: its access and refresh tokens stop working at once."""
        service.logout(refresh_token=data["refresh_token"])

