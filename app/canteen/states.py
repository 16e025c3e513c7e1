"""Canteen orders: statuses, actions, the transition table, labels and the ordering policy (pure data).

Roles relative to one order: ``orderer`` (who ordered it) and ``system`` (payments' signals, timers),
beside the global ``canteen`` (食堂 staff, who hand meals out) and ``admin``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

from app.core.statemachine import Labels, t


class Status(StrEnum):
    PENDING_PAYMENT = "pending_payment"  # portions held, waiting for WeChat Pay (10 minutes)
    PAID = "paid"  # paid: a pickup code, waiting to be collected
    PICKED_UP = "picked_up"  # handed out at the window
    EXPIRED = "expired"  # not paid in time: portions given back
    CANCELLED = "cancelled"  # the orderer cancelled: portions given back, money refunded if paid
    NO_SHOW = "no_show"  # paid, never collected by the end of the pickup window


class Meal(StrEnum):
    BREAKFAST = "breakfast"
    LUNCH = "lunch"
    DINNER = "dinner"


class PriceGroup(StrEnum):
    STAFF = "staff"  # 教职工 (subsidised)
    STUDENT = "student"
    EXTERNAL = "external"  # everyone else (parents, visitors): surcharge


S = Status
ORDERER, SYSTEM = "orderer", "system"
STAFF = ("canteen", "admin")
"""Who runs the canteen: menus, dishes, pickups, the kitchen's sheet."""

TRANSITIONS = {
    (S.PENDING_PAYMENT, "pay"): t(S.PAID, SYSTEM, repeatable=True),
    (S.PENDING_PAYMENT, "bill"): t(S.PAID, ORDERER),  # a department order: billed, not paid by WeChat
    (S.PENDING_PAYMENT, "expire"): t(S.EXPIRED, SYSTEM, repeatable=True),
    (S.PENDING_PAYMENT, "cancel"): t(S.CANCELLED, ORDERER, repeatable=True),
    (S.PAID, "cancel"): t(S.CANCELLED, ORDERER, repeatable=True),
    (S.PAID, "pick_up"): t(S.PICKED_UP, *STAFF),
    (S.PAID, "no_show"): t(S.NO_SHOW, SYSTEM, repeatable=True),
}

STATUS_LABELS = {
    S.PENDING_PAYMENT: "待支付", S.PAID: "待取餐", S.PICKED_UP: "已取餐", S.EXPIRED: "已超时",
    S.CANCELLED: "已取消", S.NO_SHOW: "未取餐",
}
ACTION_LABELS = {"pay": "支付", "bill": "记账到部门",
                 "expire": "超时关闭", "cancel": "取消", "pick_up": "取餐", "no_show": "记为未取餐"}
LABELS = Labels("订单", STATUS_LABELS, ACTION_LABELS)
MEAL_LABELS = {Meal.BREAKFAST: "早餐", Meal.LUNCH: "午餐", Meal.DINNER: "晚餐"}

HOLDING = (S.PENDING_PAYMENT, S.PAID, S.PICKED_UP, S.NO_SHOW)
"""Statuses whose portions count: against the stock and against a person's cap."""
OPEN = (S.PAID,)
"""Orders whose pickup code is live (unique among a canteen's open orders)."""

# --- policy ---------------------------------------------------------------------------------------------

PAY_WITHIN = timedelta(minutes=10)
"""An unpaid order expires this long after it was placed: its payment is closed then (payments' own timer)
and `payment_closed` gives the portions back."""
PICKUP_CODE_DIGITS = 6
PICKUP_CODE_ATTEMPTS = 20
PICKUP_END_TIMER = "canteen.pickup_end"
PICKUP_START_TIMER = "canteen.pickup_start"
PICKUP_CLOSING_TIMER = "canteen.pickup_closing"
CLOSING_NOTICE_BEFORE = timedelta(minutes=15)
""""取餐即将结束" goes out this long before the end of the pickup window to everyone not picked up yet."""
DEPT_MAX_HEADCOUNT = 200
"""A department order feeds at most this many people (the 订餐员 states the headcount; it scales the caps)."""
BILLED = (S.PAID, S.PICKED_UP, S.NO_SHOW)
"""Department orders in these statuses are charged to the department (a cancelled one is not)."""
MAX_LINES = 20
MAX_QUANTITY = 20

CUTOFF = {
    # meal -> (days before the meal's date, school-local time): orders close then
    Meal.BREAKFAST: (1, time(18, 0)),  # breakfast: 18:00 the day before
    Meal.LUNCH: (0, time(9, 0)),  # lunch: 09:00 the same day
    Meal.DINNER: (0, time(15, 0)),  # dinner: 15:00 the same day
}
"""Order cut-offs. Orders for a later day close by the same rule (next-day lunch: 09:00 that day)."""
CANCEL_BEFORE_CUTOFF = timedelta(0)
"""Cancelling (with a full refund) is possible until this long before the cut-off: by default, until
the cut-off itself (the kitchen plans from the sheet made at the cut-off)."""
PICKUP = {
    Meal.BREAKFAST: (time(6, 30), time(8, 30)),
    Meal.LUNCH: (time(11, 0), time(13, 0)),
    Meal.DINNER: (time(17, 0), time(19, 0)),
}
"""The default pickup window of each meal, school-local."""


def local_at(day: date, at: time, zone) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def default_times(day: date, meal: str, zone) -> dict[str, datetime]:
    """The policy's cut-off, cancellation deadline and pickup window of ``meal`` on ``day``."""
    days_before, at = CUTOFF[Meal(meal)]
    closes = local_at(day - timedelta(days=days_before), at, zone)
    start, end = PICKUP[Meal(meal)]
    return {"orders_close_at": closes, "cancel_until": closes - CANCEL_BEFORE_CUTOFF,
            "pickup_from": local_at(day, start, zone), "pickup_until": local_at(day, end, zone)}
