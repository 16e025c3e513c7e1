"""Consents: the subscribe-message grants a user gave (one push each), recorded from the mini-program."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.core import clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import ValidationFailed
from app.notifications import templates
from app.notifications.models import SubscriptionGrant
from app.notifications.states import (
    MAX_SUBSCRIBE_GRANTS,
)
from app.users import service as users_service
from app.wechat import gateway

# --- consents ---------------------------------------------------------------------------------------------


def add_grants(user_id: int, template_id: str, count: int) -> None:
    stmt = insert(SubscriptionGrant).values(user_id=user_id, template_id=template_id,
                                            remaining=min(count, MAX_SUBSCRIBE_GRANTS))
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["user_id", "template_id"],
        set_={"remaining": func.least(SubscriptionGrant.remaining + count, MAX_SUBSCRIBE_GRANTS),
              "updated_at": clock.now()},
    ))


def record_subscriptions(*, actor: Actor, results: dict[str, str]) -> dict[str, int]:
    """The result of ``wx.requestSubscribeMessage``: each ``accept`` adds one consent. WeChat keeps
    its own count of them (the user tapped 允许 in its client); in simulator mode the gateway can
    mirror them to the simulator, which has no client (``WECHAT_SIMULATOR_MIRROR_CONSENTS``)."""
    known = {templates.template_id_for(spec.event) for spec in templates.all_specs()} - {None}
    unknown = sorted(set(results) - known)
    if unknown:
        raise ValidationFailed("notifications.unknown_template", "未知的消息模板",
                               errors={"results": {tid: ["未知的消息模板"] for tid in unknown}})
    accepted = [template_id for template_id, answer in results.items() if answer == "accept"]
    for template_id in accepted:
        add_grants(actor.user_id, template_id, 1)
    if accepted and gateway.mirrors_consents():
        gateway.mirror_consents(users_service.get_user(actor.user_id).openid, accepted)
    rows = db.session.execute(select(SubscriptionGrant.template_id, SubscriptionGrant.remaining).where(
        SubscriptionGrant.user_id == actor.user_id)).all()
    return {tid: remaining for tid, remaining in rows}


def subscribable_templates() -> list[dict[str, str]]:
    """What the mini-program may ask consent for: event, template id, title."""
    out = []
    for spec in templates.all_specs():
        template_id = templates.template_id_for(spec.event)
        if template_id:
            out.append({"event": spec.event, "template_id": template_id, "title": spec.title})
    return out
