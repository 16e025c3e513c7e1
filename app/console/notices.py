"""The console's notifications pages (通知): a notice (停水、停电 …) to everyone holding the chosen roles —
the same service function and checks as ``POST /api/v1/admin/notices`` (``notifications.send_notice``:
admins, audited), confirmed before it goes — and the delivery figures (已发送 / 失败待重试 / 已停止发送)
by day with a chart. Registered on the console's Blueprint (``views.bp``)."""

from __future__ import annotations

from datetime import timedelta

import marshmallow as ma
from flask import g, render_template, request

from app.console.canteen import _day
from app.console.views import bp
from app.core import clock
from app.core.auth import ROLE_LABELS, ROLES
from app.core.errors import ValidationFailed
from app.notifications import service as notifications
from app.notifications.schemas import NoticeSchema
from app.notifications.states import STATUS_LABELS, DeliveryStatus, Urgency

FIELDS = {"title": "标题", "body": "内容", "roles": "发送对象", "urgency": "紧急程度"}
CHART_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.DEAD)


def _figures_page(**extra) -> str:
    today = clock.local_now().date()
    start, end = _day("start", today - timedelta(days=13)), _day("end", today)
    days = notifications.delivery_counts_by_day(actor=g.console_actor, start=start, end=end)
    chart = {"days": [d["day"].isoformat() for d in days],
             "series": [{"status": str(s), "name": STATUS_LABELS[s], "data": [d[str(s)] for d in days]}
                        for s in CHART_STATUSES]}
    return render_template("console/notices.html", days=days, chart=chart, start=start, end=end,
                           roles=ROLES, labels=ROLE_LABELS, statuses=STATUS_LABELS, shown=CHART_STATUSES, **extra)


@bp.get("/notices")
def notices():
    """通知: the form to send a notice to roles, and the deliveries of the last two weeks by day."""
    return _figures_page()


@bp.post("/notices")
def send_notice():
    """发送通知 (the page asked 确定发送 first): the API's schema checks the form, then
    ``notifications.send_notice``; answers how many people it went to."""
    form = request.form
    data = {"title": form.get("title", "").strip(), "body": form.get("body", "").strip(),
            "roles": form.getlist("roles"), "urgency": form.get("urgency") or Urgency.NORMAL}
    try:
        data = NoticeSchema().load(data)
    except ma.ValidationError as exc:
        text = "；".join(f"{FIELDS.get(k, k)}：{'、'.join(map(str, v)) if isinstance(v, list) else v}"
                        for k, v in exc.messages.items())
        raise ValidationFailed(message=f"请检查填写的内容（{text}）", errors=exc.messages) from exc
    recipients = notifications.send_notice(actor=g.console_actor, **data)
    return render_template("console/_notice_sent.html", recipients=recipients, title=data["title"])
