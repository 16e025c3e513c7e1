"""Signals the payments domain emits. Handlers run in the same transaction as the change (a handler that
raises rolls it back, and the notification or timer behind it is tried again), so they must be quick and
idempotent by ``payment_id`` / ``refund_id``. Every signal's sender is the payment id."""

from blinker import Namespace

_signals = Namespace()

payment_succeeded = _signals.signal("payment-succeeded")
"""The payer paid (WeChat's notification or our query said so), once per payment. Sender: the payment
id; kwargs: ``biz_type``, ``biz_id``, ``amount_fen``, ``payer_id``, ``transaction_id``. Not sent for a
payment paid after it was closed: that money is refunded automatically, the domain's object stays closed."""

payment_closed = _signals.signal("payment-closed")
"""The payment was not paid by its deadline and is closed at WeChat: the domain may give back what it
held (a seat, stock). Sender: the payment id; kwargs: ``biz_type``, ``biz_id``."""

refund_succeeded = _signals.signal("refund-succeeded")
"""Money went back to the payer. Sender: the payment id; kwargs: ``refund_id``, ``biz_type``, ``biz_id``,
``amount_fen`` (this refund), ``refunded_fen`` (all refunds of the payment so far), ``reason``."""
