"""The lockers' errors: stable codes, Chinese messages."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound, TooManyRequests, ValidationFailed


class BankNotFound(NotFound):
    error_code, message = "lockers.bank_not_found", "快递柜不存在"


class CompartmentNotFound(NotFound):
    error_code, message = "lockers.compartment_not_found", "格口不存在"


class ParcelNotFound(NotFound):
    error_code, message = "lockers.parcel_not_found", "包裹不存在"


class BankOffline(Conflict):
    error_code, message = "lockers.bank_offline", "快递柜离线，暂时不能开柜，请稍后再试或到驿站办理"


class DuplicateTrackingNo(Conflict):
    error_code, message = "lockers.duplicate_tracking_no", "该运单号的包裹尚未取走，不能重复投递"


class RecipientNotFound(ValidationFailed):
    error_code, message = "lockers.recipient_not_found", "找不到收件人，请核对手机号、学号/工号或姓名"


class RecipientAmbiguous(Conflict):
    error_code, message = "lockers.recipient_ambiguous", "同名的人不止一位，请改用手机号或学号/工号"


class NoCode(NotFound):
    error_code, message = "lockers.no_code", "该包裹没有可用的取件码"


class CodeNotFound(NotFound):
    error_code, message = "lockers.code_not_found", "取件码无效"


class TooManyAttempts(TooManyRequests):
    error_code, message = "lockers.too_many_attempts", "取件码输错次数过多，请稍后再试"


class AtCounter(Conflict):
    error_code, message = "lockers.at_counter", "包裹在驿站货架上，请到驿站凭取件码领取"


class UnknownTxn(Conflict):
    error_code, message = "lockers.unknown_txn", "开门记录不存在（稍后重试）"


class FeeDue(Conflict):
    """The overdue fee is not paid: ``errors`` carries the payment to check out (``payment_id``,
    ``amount_fen``). The payment is kept although the answer is an error."""

    error_code, message = "lockers.fee_due", "包裹已超过免费保管时间，请先支付超期保管费"
    keep_writes = True


class BankExists(Conflict):
    error_code, message = "lockers.bank_exists", "快递柜编号已存在（或其控制器编号已被占用）"
