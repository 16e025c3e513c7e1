"""The mini-program's side of 扫码登录: scan a console sign-in code, then confirm or reject it."""

from __future__ import annotations

from flask.views import MethodView

from app.console import service
from app.console.schemas import DoneSchema, ScanSchema
from app.core.auth import current_actor
from app.core.blueprint import Blueprint

blp = Blueprint("console_logins", __name__, url_prefix="/api/v1",
                description="管理后台扫码登录（小程序确认）")


@blp.route("/console/logins/<string:token>/scan")
class Scan(MethodView):
    @blp.response(200, ScanSchema)
    def post(self, token):
        """A bound staff member scanned a sign-in code: who/where is asking. Only a console role
        (admin, dispatcher, finance, canteen) may go on; others get 403 `console.forbidden` (audited). An expired
        code is 410 `console.code_expired`, a used one 409 `console.code_used`."""
        return service.scan(actor=current_actor(), token=token)


@blp.route("/console/logins/<string:token>/confirm")
class Confirm(MethodView):
    @blp.response(200, DoneSchema)
    def post(self, token):
        """确认登录: the browser that shows the code is signed in as me within a second or two."""
        service.confirm(actor=current_actor(), token=token)
        return {"ok": True}


@blp.route("/console/logins/<string:token>/reject")
class Reject(MethodView):
    @blp.response(200, DoneSchema)
    def post(self, token):
        """取消: the code is spent and the browser says the sign-in was cancelled."""
        service.reject(actor=current_actor(), token=token)
        return {"ok": True}
