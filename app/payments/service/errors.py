"""The payments domain's errors (stable codes, Chinese messages)."""

from app.core.errors import Conflict, NotFound, UpstreamError


class PaymentNotFound(NotFound):
    error_code = "payments.not_found"
    message = "支付单不存在"


class AlertNotFound(NotFound):
    error_code = "payments.alert_not_found"
    message = "提醒不存在"


class AmountConflict(Conflict):
    error_code = "payments.amount_conflict"
    message = "该订单已有金额不同的待支付单"


class RefundTooLarge(Conflict):
    error_code = "payments.refund_too_large"
    message = "退款金额超过可退金额"


class NotRefundable(Conflict):
    error_code = "payments.not_refundable"
    message = "该支付单当前不能退款"


class RefundNumberTaken(Conflict):
    error_code = "payments.refund_number_taken"
    message = "退款单号已用于另一笔退款"


class PaymentExpired(Conflict):
    error_code = "payments.expired"
    message = "支付单已过期，请重新下单"


class PayUnavailableError(UpstreamError):
    error_code = "payments.wechat_unavailable"
    message = "微信支付暂时不可用，请稍后再试"
