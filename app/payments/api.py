"""Payments: WeChat Pay's notifications, my payments, checkout, a payment as WeChat says it is now,
refunds (finance), the list, alerts and reconciliation (finance; admins read them)."""

from __future__ import annotations

from flask import g, jsonify, request
from flask.views import MethodView

from app.core.auth import current_actor
from app.core.blueprint import Blueprint
from app.extensions import limiter
from app.payments import service
from app.payments.schemas import (
    AdminQuerySchema,
    AlertQuerySchema,
    AlertSchema,
    CheckoutSchema,
    NotifyFailSchema,
    PaymentDetailSchema,
    ReconciliationQuerySchema,
    ReconciliationSchema,
    RefundRequestSchema,
    RefundSchema,
    ResolveSchema,
    SyncQuerySchema,
)

blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="支付：微信支付、退款、财务")


@blp.route("/payments/notify", methods=["POST"])
@blp.doc(security=[], summary="WeChat Pay's notifications (no login; signed by WeChat Pay)")
@blp.response(204)
@blp.alt_response(400, schema=NotifyFailSchema, description="not a notification we can act on")
@blp.alt_response(401, schema=NotifyFailSchema, description="does not verify (signature, timestamp, serial)")
@limiter.exempt
def notify():
    """Verified against WeChat Pay's public key, stored, answered at once (204); applied by a job.
    Anything that does not verify: 4xx ``{"code": "FAIL"}``, nothing stored."""
    try:
        service.receive(request.headers, request.get_data(cache=False))
    except service.NotificationRefused as exc:
        g.keep_writes = exc.keep_writes  # an alert about it (another merchant id) stays
        response = jsonify({"code": "FAIL", "message": exc.message})
        response.status_code = exc.status
        return response
    return "", 204


@blp.route("/payments")
class MyPayments(MethodView):
    @blp.response(200, PaymentDetailSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """My payments with their refunds, newest first."""
        return service.my_payments(actor=current_actor(), pagination=pagination_parameters)


@blp.route("/payments/admin")
class AdminPayments(MethodView):
    @blp.arguments(AdminQuerySchema, location="query")
    @blp.response(200, PaymentDetailSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Every payment, by status (finance, admins)."""
        return service.admin_payments(actor=current_actor(), pagination=pagination_parameters, **query)


@blp.route("/payments/alerts")
class Alerts(MethodView):
    @blp.arguments(AlertQuerySchema, location="query")
    @blp.response(200, AlertSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """What finance must look at (open ones by default), newest first (finance, admins)."""
        return service.alerts(actor=current_actor(), pagination=pagination_parameters, **query)


@blp.route("/payments/alerts/<int:alert_id>/resolve")
class ResolveAlert(MethodView):
    @blp.arguments(ResolveSchema)
    @blp.response(200, AlertSchema)
    def post(self, data, alert_id):
        """Resolve an alert with a note (finance; audited)."""
        return service.resolve_alert(actor=current_actor(), alert_id=alert_id, **data)


@blp.route("/payments/reconciliation")
class Reconciliation(MethodView):
    @blp.arguments(ReconciliationQuerySchema, location="query")
    @blp.response(200, ReconciliationSchema)
    def get(self, query):
        """A day's reconciliation with WeChat's trade bill and its mismatches (finance, admins)."""
        return service.reconciliation(actor=current_actor(), bill_date=query["date"])


@blp.route("/payments/<int:payment_id>")
class PaymentDetail(MethodView):
    @blp.arguments(SyncQuerySchema, location="query")
    @blp.response(200, PaymentDetailSchema)
    def get(self, query, payment_id):
        """A payment (its payer or finance). Still unpaid a while after creation, or ``?sync=1`` (the result
        page), WeChat is asked first: what the client says is never taken for payment."""
        payment = service.sync(actor=current_actor(), payment_id=payment_id, force=query["sync"])
        return service.present(payment)


@blp.route("/payments/<int:payment_id>/checkout")
class Checkout(MethodView):
    @blp.response(200, CheckoutSchema)
    def post(self, payment_id):
        """Prepay at WeChat and the ``wx.requestPayment`` parameters (the payer; safe to repeat)."""
        return service.checkout(actor=current_actor(), payment_id=payment_id)


@blp.route("/payments/<int:payment_id>/refunds")
class Refunds(MethodView):
    @blp.response(200, RefundSchema(many=True))
    def get(self, payment_id):
        """A payment's refunds (its payer or finance)."""
        return service.list_refunds(actor=current_actor(), payment_id=payment_id)

    @blp.arguments(RefundRequestSchema)
    @blp.response(201, RefundSchema)
    def post(self, data, payment_id):
        """Refund part or all of a paid payment (finance): never more than paid − refunded; the same
        ``out_refund_no`` again answers the same refund. Submitted to WeChat after commit."""
        return service.refund(actor=current_actor(), payment_id=payment_id, **data)
