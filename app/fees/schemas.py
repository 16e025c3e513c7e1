"""Request and response shapes of the fees API (money in integer fen)."""

from __future__ import annotations

import marshmallow as ma

from app.core.schemas import ImportQuerySchema, Line, Schema
from app.fees.states import BILL_LABELS, MAX_BILL_FEN, MAX_BILLS_PER_ORDER, BillStatus, Category

_FEN = ma.validate.Range(min=1, max=MAX_BILL_FEN)


class FeeItemSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = Line(required=True, validate=ma.validate.Length(min=1, max=60))
    category = ma.fields.String(required=True, validate=ma.validate.OneOf([c.value for c in Category]))
    amount_fen = ma.fields.Integer(required=True, validate=_FEN)
    term = Line(required=True, validate=ma.validate.Length(min=1, max=20), metadata={"example": "2026秋"})
    due_date = ma.fields.Date(load_default=None, allow_none=True)
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    created_at = ma.fields.DateTime(dump_only=True)


class FeeItemQuerySchema(Schema):
    term = Line(load_default=None, validate=ma.validate.Length(max=20))


class FeeIssueSchema(Schema):
    grade_ids = ma.fields.List(ma.fields.Integer(), load_default=list, validate=ma.validate.Length(max=100))
    class_ids = ma.fields.List(ma.fields.Integer(), load_default=list, validate=ma.validate.Length(max=500))
    student_numbers = ma.fields.List(Line(validate=ma.validate.Length(min=1, max=32)), load_default=list,
                                     validate=ma.validate.Length(max=5000))
    dry_run = ma.fields.Boolean(load_default=False, metadata={"description": "count only, write nothing"})


class FeeIssueSheetQuerySchema(ImportQuerySchema):
    pass


class FeeIssueResultSchema(Schema):
    created = ma.fields.Integer(metadata={"description": "new bills (what would be new, in a dry run)"})
    skipped = ma.fields.Integer(metadata={"description": "students who had the bill already"})
    dry_run = ma.fields.Boolean()


class FeeReasonSchema(Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class FeeAdjustSchema(FeeReasonSchema):
    amount_fen = ma.fields.Integer(required=True, validate=_FEN)


class _FeeBillItemSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    category = ma.fields.String()
    term = ma.fields.String()
    due_date = ma.fields.Date(allow_none=True)
    description = ma.fields.String()


class _FeeBillStudentSchema(Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    name = ma.fields.String()
    class_name = ma.fields.String()


class FeeBillSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    status = ma.fields.String(dump_only=True)
    status_label = ma.fields.Function(lambda b: BILL_LABELS.statuses.get(b["status"], b["status"]), dump_only=True)
    amount_fen = ma.fields.Integer(dump_only=True)
    item = ma.fields.Nested(_FeeBillItemSchema, dump_only=True)
    student = ma.fields.Nested(_FeeBillStudentSchema, dump_only=True)
    order_id = ma.fields.Integer(dump_only=True, allow_none=True)
    paid_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    paid_by_name = ma.fields.String(dump_only=True, allow_none=True)
    receipt_no = ma.fields.String(dump_only=True, allow_none=True)
    transaction_id = ma.fields.String(dump_only=True, allow_none=True, metadata={"description": "WeChat's, once paid"})
    note = ma.fields.String(dump_only=True, allow_none=True)
    refund_requested = ma.fields.Boolean(dump_only=True)


class FeeMyBillsQuerySchema(Schema):
    student_id = ma.fields.Integer(load_default=None, metadata={"description": "the child (parents of several)"})


class FeeAdminBillsQuerySchema(Schema):
    item_id = ma.fields.Integer(load_default=None)
    class_id = ma.fields.Integer(load_default=None)
    grade_id = ma.fields.Integer(load_default=None)
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf([s.value for s in BillStatus]))


class FeeCheckoutRequestSchema(Schema):
    bill_ids = ma.fields.List(ma.fields.Integer(validate=ma.validate.Range(min=1)), required=True,
                              validate=ma.validate.Length(min=1, max=MAX_BILLS_PER_ORDER))


class FeeCheckoutSchema(Schema):
    order_id = ma.fields.Integer(dump_only=True)
    payment_id = ma.fields.Integer(dump_only=True, metadata={"description": "poll GET /payments/{id}?sync=1"})
    amount_fen = ma.fields.Integer(dump_only=True)
    bill_ids = ma.fields.List(ma.fields.Integer(), dump_only=True)
    params = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), dump_only=True, allow_none=True,
                            metadata={"description": "the wx.requestPayment parameters; null once not payable"})


class FeeCollectionQuerySchema(Schema):
    item_id = ma.fields.Integer(load_default=None)
    term = Line(load_default=None, validate=ma.validate.Length(max=20))


class _FeeFigures(Schema):
    item_id = ma.fields.Integer()
    item_name = ma.fields.String()
    term = ma.fields.String()
    billed = ma.fields.Integer(metadata={"description": "bills not waived"})
    paid = ma.fields.Integer(metadata={"description": "bills paid (a refunded bill is not)"})
    waived = ma.fields.Integer()
    refunded = ma.fields.Integer()
    due_fen = ma.fields.Integer(metadata={"description": "sum of the bills not waived"})
    paid_fen = ma.fields.Integer()
    rate = ma.fields.Float(allow_none=True, metadata={"description": "paid_fen / due_fen"})


class _FeeGradeFigures(_FeeFigures):
    grade_id = ma.fields.Integer()
    grade_name = ma.fields.String()


class _FeeClassFigures(_FeeFigures):
    class_id = ma.fields.Integer()
    class_name = ma.fields.String()
    grade_name = ma.fields.String()


class FeeCollectionSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(_FeeFigures))
    grades = ma.fields.List(ma.fields.Nested(_FeeGradeFigures))
    classes = ma.fields.List(ma.fields.Nested(_FeeClassFigures))
