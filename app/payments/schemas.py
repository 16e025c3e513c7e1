"""Request and response shapes of the payments API (money in integer fen)."""

from __future__ import annotations

import marshmallow as ma

from app.core.schemas import Schema
from app.payments.states import LABELS, REFUND_LABELS, Status

_STATUSES = [s.value for s in Status]


class RefundSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    out_refund_no = ma.fields.String(dump_only=True)
    amount_fen = ma.fields.Integer(dump_only=True)
    reason = ma.fields.String(dump_only=True)
    status = ma.fields.String(dump_only=True)
    status_label = ma.fields.Function(lambda r: REFUND_LABELS.statuses.get(r.status, r.status), dump_only=True)
    requested_by = ma.fields.Integer(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    succeeded_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class PaymentSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    biz_type = ma.fields.String(dump_only=True)
    biz_id = ma.fields.Integer(dump_only=True)
    payer_id = ma.fields.Integer(dump_only=True)
    amount_fen = ma.fields.Integer(dump_only=True)
    refunded_fen = ma.fields.Integer(dump_only=True)
    description = ma.fields.String(dump_only=True)
    out_trade_no = ma.fields.String(dump_only=True)
    status = ma.fields.String(dump_only=True)
    status_label = ma.fields.Function(lambda p: LABELS.statuses.get(p.status, p.status), dump_only=True)
    expires_at = ma.fields.DateTime(dump_only=True)
    transaction_id = ma.fields.String(dump_only=True, allow_none=True)
    paid_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    closed_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)


class PaymentDetailSchema(Schema):
    """A payment with its refunds."""

    payment = ma.fields.Nested(PaymentSchema, dump_only=True)
    refunds = ma.fields.List(ma.fields.Nested(RefundSchema), dump_only=True)


class SyncQuerySchema(Schema):
    sync = ma.fields.Boolean(load_default=False, metadata={"description": "1: ask WeChat now (the result page)"})


class AdminQuerySchema(Schema):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(_STATUSES))


class AlertQuerySchema(Schema):
    resolved = ma.fields.Boolean(load_default=False)


class CheckoutSchema(Schema):
    payment_id = ma.fields.Integer(dump_only=True)
    status = ma.fields.String(dump_only=True)
    params = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), dump_only=True, allow_none=True,
                            metadata={"description": "the wx.requestPayment parameters; null once not payable"})


class RefundRequestSchema(Schema):
    amount_fen = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=80))
    out_refund_no = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^[0-9A-Za-z_*@-]{1,64}$"),
                                     metadata={"description": "idempotency key: same number, same refund"})


class AlertSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    payment_id = ma.fields.Integer(dump_only=True, allow_none=True)
    details = ma.fields.Dict(dump_only=True)
    resolved = ma.fields.Boolean(dump_only=True)
    resolved_by = ma.fields.Integer(dump_only=True, allow_none=True)
    resolved_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    note = ma.fields.String(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)


class ResolveSchema(Schema):
    note = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1000))


class ReconciliationQuerySchema(Schema):
    date = ma.fields.Date(required=True, metadata={"description": "the bill's day (school time)"})


class MismatchSchema(Schema):
    kind = ma.fields.String(dump_only=True, metadata={"description": "missing_ours, missing_wechat or amount_diff"})
    line_type = ma.fields.String(dump_only=True, metadata={"description": "payment or refund"})
    reference = ma.fields.String(dump_only=True, metadata={"description": "out_trade_no or out_refund_no"})
    ours_fen = ma.fields.Integer(dump_only=True, allow_none=True)
    wechat_fen = ma.fields.Integer(dump_only=True, allow_none=True)


class ReconciliationSchema(Schema):
    bill_date = ma.fields.Date(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata={"description": "pending, matched, mismatched or refused"})
    bill_lines = ma.fields.Integer(dump_only=True)
    wechat_paid_fen = ma.fields.Integer(dump_only=True)
    wechat_refunded_fen = ma.fields.Integer(dump_only=True)
    error = ma.fields.String(dump_only=True, allow_none=True)
    mismatches = ma.fields.List(ma.fields.Nested(MismatchSchema), dump_only=True)


class NotifyFailSchema(Schema):
    """What WeChat Pay is answered for a notification we refuse (WeChat sends it again later)."""

    code = ma.fields.String(dump_only=True, metadata={"description": "always FAIL"})
    message = ma.fields.String(dump_only=True)
