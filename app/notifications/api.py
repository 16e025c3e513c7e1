from __future__ import annotations

from flask.views import MethodView

from app.core.auth import current_actor
from app.core.blueprint import Blueprint
from app.notifications import service
from app.notifications.schemas import (
    DeliveryQuerySchema,
    DeliverySchema,
    GrantsSchema,
    InboxQuerySchema,
    MarkedSchema,
    NoticeResultSchema,
    NoticeSchema,
    NotificationSchema,
    SubscriptionResultSchema,
    TemplateSchema,
    UnreadSchema,
)

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="消息：站内信、订阅消息")


@blp.route("/notifications")
class Inbox(MethodView):
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, NotificationSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """My messages, newest first (`unread=true` for unread only)."""
        return service.inbox(actor=current_actor(), params=pagination_parameters, **query)


@blp.route("/notifications/unread-count")
class UnreadCount(MethodView):
    @blp.response(200, UnreadSchema)
    def get(self):
        """For the badge on the 消息 tab."""
        return {"unread": service.unread_count(actor=current_actor())}


@blp.route("/notifications/<int:notification_id>/read")
class MarkRead(MethodView):
    @blp.response(200, NotificationSchema)
    def post(self, notification_id):
        """Mark one of my messages read (idempotent)."""
        return service.mark_read(actor=current_actor(), notification_id=notification_id)


@blp.route("/notifications/read-all")
class MarkAllRead(MethodView):
    @blp.response(200, MarkedSchema)
    def post(self):
        """Mark all my messages read."""
        return {"marked": service.mark_all_read(actor=current_actor())}


@blp.route("/notifications/templates")
class Templates(MethodView):
    @blp.response(200, TemplateSchema(many=True))
    def get(self):
        """Subscribe-message templates the mini-program may ask consent for."""
        current_actor()
        return service.subscribable_templates()


@blp.route("/notifications/subscriptions")
class Subscriptions(MethodView):
    @blp.arguments(SubscriptionResultSchema)
    @blp.response(200, GrantsSchema)
    def post(self, data):
        """Report a `wx.requestSubscribeMessage` result: each `accept` allows one more message."""
        return {"remaining": service.record_subscriptions(actor=current_actor(), results=data["results"])}


@blp.route("/admin/notifications")
class Deliveries(MethodView):
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliverySchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Push deliveries by status (admins), e.g. `status=dead`."""
        return service.list_deliveries(actor=current_actor(), params=pagination_parameters, **query)


@blp.route("/admin/notifications/<int:delivery_id>/retry")
class Retry(MethodView):
    @blp.response(200, DeliverySchema)
    def post(self, delivery_id):
        """Send a dead delivery again (admins; audited)."""
        return service.retry_delivery(actor=current_actor(), delivery_id=delivery_id)


@blp.route("/admin/notices")
class Notices(MethodView):
    @blp.arguments(NoticeSchema)
    @blp.response(201, NoticeResultSchema)
    def post(self, data):
        """Send a notice (停水、停电 …) to everyone holding any of `roles` (admins; audited)."""
        return {"recipients": service.send_notice(actor=current_actor(), **data)}
