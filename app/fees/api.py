"""Fees: fee items, issuing bills, the payer's bills, checkout, receipts, refunds and the collection rate."""

from __future__ import annotations

import io

from flask import Response, send_file
from flask.views import MethodView

from app.core.auth import current_actor
from app.core.blueprint import Blueprint
from app.core.ratelimit import per_user
from app.core.schemas import ImportFileSchema
from app.extensions import limiter
from app.fees import service
from app.fees.schemas import (
    FeeAdjustSchema,
    FeeAdminBillsQuerySchema,
    FeeBillSchema,
    FeeCheckoutRequestSchema,
    FeeCheckoutSchema,
    FeeCollectionQuerySchema,
    FeeCollectionSchema,
    FeeIssueResultSchema,
    FeeIssueSchema,
    FeeIssueSheetQuerySchema,
    FeeItemQuerySchema,
    FeeItemSchema,
    FeeMyBillsQuerySchema,
    FeeReasonSchema,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

blp = Blueprint("fees", __name__, url_prefix="/api/v1", description="缴费：收费项目、账单、支付、收据、收缴率")


@blp.route("/fees/items")
class Items(MethodView):
    @blp.arguments(FeeItemQuerySchema, location="query")
    @blp.response(200, FeeItemSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Fee items, newest first (finance)."""
        return service.list_items(actor=current_actor(), pagination=pagination_parameters, **query)

    @blp.arguments(FeeItemSchema)
    @blp.response(201, FeeItemSchema)
    def post(self, data):
        """A fee item (finance; audited)."""
        return service.create_item(actor=current_actor(), **data)


@blp.route("/fees/items/<int:item_id>/issue")
class Issue(MethodView):
    @blp.arguments(FeeIssueSchema)
    @blp.response(200, FeeIssueResultSchema)
    @blp.alt_response(422, description="`fees.unknown_students`: every unknown 学号 listed; nothing issued")
    def post(self, data, item_id):
        """Bill the item to the active students of grades, classes and named 学号 (finance). Students who have
        the bill already keep it (`skipped`)."""
        return service.issue(actor=current_actor(), item_id=item_id, **data)


@blp.route("/fees/items/<int:item_id>/issue/xlsx")
class IssueSheet(MethodView):
    decorators = [limiter.limit("20/minute", key_func=per_user)]

    @blp.arguments(FeeIssueSheetQuerySchema, location="query")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, FeeIssueResultSchema)
    @blp.alt_response(422, description="`fees.import_invalid`: `errors.rows` lists every bad row; nothing issued")
    def post(self, query, files, item_id):
        """Bill the item from .xlsx (学号, 姓名; optional 金额(元) overriding the item's amount), all rows or none
        (finance)."""
        return service.issue_sheet(actor=current_actor(), item_id=item_id, data=files["file"].read(),
                                   dry_run=query["dry_run"])


@blp.route("/fees/bills")
class MyBills(MethodView):
    @blp.arguments(FeeMyBillsQuerySchema, location="query")
    @blp.response(200, FeeBillSchema(many=True))
    def get(self, query):
        """The bills of the student I pay for (myself, or my child `student_id`), unpaid first. Someone
        else's child: 404."""
        return service.my_bills(actor=current_actor(), **query)


@blp.route("/fees/bills/admin")
class AdminBills(MethodView):
    @blp.arguments(FeeAdminBillsQuerySchema, location="query")
    @blp.response(200, FeeBillSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Bills of an item, a class or a grade with who has paid, unpaid first (finance)."""
        return service.admin_bills(actor=current_actor(), pagination=pagination_parameters, **query)


@blp.route("/fees/bills/<int:bill_id>")
class OneBill(MethodView):
    @blp.response(200, FeeBillSchema)
    def get(self, bill_id):
        """One bill (its student, their guardians, finance)."""
        return service.bill(actor=current_actor(), bill_id=bill_id)


@blp.route("/fees/bills/<int:bill_id>/waive")
class Waive(MethodView):
    @blp.arguments(FeeReasonSchema)
    @blp.response(200, FeeBillSchema)
    def post(self, data, bill_id):
        """减免 an unpaid bill (finance; audited with the reason; 409 once in a payment or paid)."""
        return service.waive(actor=current_actor(), bill_id=bill_id, **data)


@blp.route("/fees/bills/<int:bill_id>/adjust")
class Adjust(MethodView):
    @blp.arguments(FeeAdjustSchema)
    @blp.response(200, FeeBillSchema)
    def post(self, data, bill_id):
        """A new amount for an unpaid bill (finance; audited; 409 once in a payment or paid)."""
        return service.adjust(actor=current_actor(), bill_id=bill_id, **data)


@blp.route("/fees/bills/<int:bill_id>/refund")
class RefundBill(MethodView):
    @blp.arguments(FeeReasonSchema)
    @blp.response(202, FeeBillSchema)
    def post(self, data, bill_id):
        """Refund a paid bill's amount through payments (finance); the bill is `refunded` when WeChat
        reports the refund."""
        return service.refund_bill(actor=current_actor(), bill_id=bill_id, **data)


@blp.route("/fees/bills/<int:bill_id>/receipt")
class Receipt(MethodView):
    @blp.response(200, content_type="text/html", description="a printable receipt")
    def get(self, bill_id):
        """The receipt (收据) of a paid bill as a printable HTML page (the payer's side, finance)."""
        html = service.receipt_html(actor=current_actor(), bill_id=bill_id)
        return Response(html, mimetype="text/html")


@blp.route("/fees/checkouts")
class Checkouts(MethodView):
    decorators = [limiter.limit("30/minute", key_func=per_user)]

    @blp.arguments(FeeCheckoutRequestSchema)
    @blp.response(200, FeeCheckoutSchema)
    def post(self, data):
        """Pay several unpaid bills of one student as one WeChat payment: the `wx.requestPayment` parameters
        and the payment id to poll. The same bills again answer the same payment; a bill in another open
        payment is a 409."""
        return service.checkout(actor=current_actor(), bill_ids=data["bill_ids"])


@blp.route("/fees/collection")
class Collection(MethodView):
    @blp.arguments(FeeCollectionQuerySchema, location="query")
    @blp.response(200, FeeCollectionSchema)
    def get(self, query):
        """收缴率 by item, grade and class: counts and fen (finance)."""
        return service.collection(actor=current_actor(), **query)


@blp.route("/fees/collection/export")
class CollectionExport(MethodView):
    @blp.arguments(FeeCollectionQuerySchema, location="query")
    @blp.response(200, content_type=XLSX, description="one sheet per level: item, grade, class")
    def get(self, query):
        """The collection rate as .xlsx (finance; audited)."""
        data = service.export_collection(actor=current_actor(), **query)
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="fees-collection.xlsx")
