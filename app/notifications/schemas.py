from __future__ import annotations

import marshmallow as ma

from app.core.auth import ROLES
from app.core.schemas import Line, Schema
from app.notifications.states import Channel, DeliveryStatus, Urgency


class NotificationSchema(Schema):
    id = ma.fields.Integer()
    event = ma.fields.String(metadata={"example": "repairs.assigned"})
    title = ma.fields.String()
    body = ma.fields.String()
    link = ma.fields.String(allow_none=True, metadata={
        "description": "mini-program page to open on tap: `/pages/…` or `/package…/pages/…?query`; null = none"})
    urgency = ma.fields.String()
    read = ma.fields.Function(lambda n: n.read_at is not None)
    created_at = ma.fields.DateTime()


class InboxQuerySchema(Schema):
    unread = ma.fields.Boolean(load_default=False)


class UnreadSchema(Schema):
    unread = ma.fields.Integer()


class MarkedSchema(Schema):
    marked = ma.fields.Integer()


class SubscriptionResultSchema(Schema):
    results = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        values=ma.fields.String(validate=ma.validate.OneOf(["accept", "reject", "ban", "filter"])),
        required=True,
        validate=ma.validate.Length(min=1, max=10),
        metadata={"description": "the success result of `wx.requestSubscribeMessage` without `errMsg`"},
    )


class GrantsSchema(Schema):
    remaining = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                               metadata={"description": "template id -> consents left"})


class TemplateSchema(Schema):
    event = ma.fields.String()
    template_id = ma.fields.String()
    title = ma.fields.String()


class DeliveryQuerySchema(Schema):
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in DeliveryStatus]))
    channel = ma.fields.String(validate=ma.validate.OneOf([c.value for c in Channel]))


class DeliverySchema(Schema):
    id = ma.fields.Integer()
    notification_id = ma.fields.Integer()
    user_id = ma.fields.Function(lambda d: d.notification.user_id)
    recipient = ma.fields.String(allow_none=True, metadata={"description": "the recipient's name"})
    event = ma.fields.Function(lambda d: d.notification.event)
    title = ma.fields.Function(lambda d: d.notification.title)
    channel = ma.fields.String()
    status = ma.fields.String()
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.DateTime()
    last_error = ma.fields.String(allow_none=True)
    sent_at = ma.fields.DateTime(allow_none=True)
    updated_at = ma.fields.DateTime(metadata={"description": "last change (for a dead delivery: when it died)"})


class NoticeSchema(Schema):
    title = Line(required=True, validate=ma.validate.Length(min=1, max=40))
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    roles = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(ROLES)), required=True,
                           validate=ma.validate.Length(min=1))
    urgency = ma.fields.String(load_default="normal", validate=ma.validate.OneOf([u.value for u in Urgency]))


class NoticeResultSchema(Schema):
    recipients = ma.fields.Integer()
