"""The fees domain's errors: stable codes, Chinese messages."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound, ValidationFailed


class ItemNotFound(NotFound):
    error_code, message = "fees.item_not_found", "收费项目不存在"


class BillNotFound(NotFound):
    error_code, message = "fees.bill_not_found", "账单不存在"


class StudentNotFound(NotFound):
    error_code, message = "fees.student_not_found", "未找到该学生"


class BillBusy(Conflict):
    error_code, message = "fees.bill_in_other_order", "账单已在另一笔支付中，请先完成或等待其关闭"


class NotPayable(Conflict):
    error_code, message = "fees.not_payable", "账单不是待缴费状态"


class NotPaid(Conflict):
    error_code, message = "fees.not_paid", "账单尚未缴费"


class RefundUnderWay(Conflict):
    error_code, message = "fees.refund_under_way", "该账单已在退费中"


class OneStudentOnly(ValidationFailed):
    error_code, message = "fees.one_student_per_payment", "一次只能缴同一名学生的账单"
