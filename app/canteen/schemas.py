"""Canteen request and response shapes."""

from __future__ import annotations

import marshmallow as ma

from app.canteen.states import DEPT_MAX_HEADCOUNT, Meal, PriceGroup, Status
from app.core.schemas import Line, Schema

_MEALS = [m.value for m in Meal]
_NAME = ma.validate.Length(min=1, max=40)
_FEN = ma.validate.Range(min=1, max=1_000_000)
_TAGS = ma.fields.List(Line(validate=ma.validate.Length(min=1, max=20)), load_default=list,
                       validate=ma.validate.Length(max=10))


class CanteenSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = Line(required=True, validate=_NAME)
    location = Line(load_default="", validate=ma.validate.Length(max=80))


class WindowSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    canteen_id = ma.fields.Integer(dump_only=True)
    name = Line(required=True, validate=_NAME)
    sort_order = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=9999))


class DishSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    canteen_id = ma.fields.Integer(dump_only=True)
    window_id = ma.fields.Integer(required=True)
    name = Line(required=True, validate=_NAME)
    price_fen = ma.fields.Integer(required=True, validate=_FEN)
    tags = _TAGS
    allergens = ma.fields.List(Line(validate=ma.validate.Length(min=1, max=20)), load_default=list,
                               validate=ma.validate.Length(max=10))
    photo_url = ma.fields.String(dump_only=True, allow_none=True, metadata={
        "description": "signed URL of the dish's photo (`CANTEEN_PHOTO_URL_TTL`; relative ones are on this "
                       "API's host); null: no photo"})
    thumb_url = ma.fields.String(dump_only=True, allow_none=True, metadata={
        "description": "the thumbnail for lists (the photo itself until the thumbnail is made)"})


class DishUpdateSchema(Schema):
    """What a PUT of a dish changes: only the fields sent."""

    window_id = ma.fields.Integer()
    name = Line(validate=_NAME)
    price_fen = ma.fields.Integer(validate=_FEN)
    tags = ma.fields.List(Line(validate=ma.validate.Length(min=1, max=20)), validate=ma.validate.Length(max=10))
    allergens = ma.fields.List(Line(validate=ma.validate.Length(min=1, max=20)), validate=ma.validate.Length(max=10))


class DishPhotoFileSchema(Schema):
    file = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                                  "description": "JPEG, PNG or WebP, at most 10 MB"})


class PricesSchema(Schema):
    staff = ma.fields.Integer(validate=_FEN)
    student = ma.fields.Integer(validate=_FEN)
    external = ma.fields.Integer(validate=_FEN)


class MenuItemInSchema(Schema):
    dish_id = ma.fields.Integer(required=True)
    portions = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0, max=100_000))
    max_per_person = ma.fields.Integer(load_default=2, validate=ma.validate.Range(min=1, max=20))
    prices = ma.fields.Nested(PricesSchema, load_default=None,
                              metadata={"description": "fen per price group; a group left out pays the dish's price"})


class MenuCreateSchema(Schema):
    canteen_id = ma.fields.Integer(required=True)
    day = ma.fields.Date(required=True)
    meal = ma.fields.String(required=True, validate=ma.validate.OneOf(_MEALS))
    max_per_order = ma.fields.Integer(load_default=5, validate=ma.validate.Range(min=1, max=50))
    orders_close_at = ma.fields.AwareDateTime(load_default=None,
                                              metadata={"description": "default: the policy's cut-off"})
    cancel_until = ma.fields.AwareDateTime(load_default=None)
    pickup_from = ma.fields.AwareDateTime(load_default=None)
    pickup_until = ma.fields.AwareDateTime(load_default=None)
    items = ma.fields.List(ma.fields.Nested(MenuItemInSchema), required=True,
                           validate=ma.validate.Length(min=1, max=100))


class CopyWeekSchema(Schema):
    canteen_id = ma.fields.Integer(required=True)
    week_start = ma.fields.Date(required=True, metadata={"description": "the first day of the week to copy"})


class PortionsSchema(Schema):
    portions = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0, max=100_000))


class MenuItemSchema(Schema):
    id = ma.fields.Integer()
    dish_id = ma.fields.Integer()
    name = ma.fields.String()
    window_id = ma.fields.Integer()
    window_name = ma.fields.String()
    tags = ma.fields.List(ma.fields.String())
    allergens = ma.fields.List(ma.fields.String())
    prices = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    portions = ma.fields.Integer()
    remaining = ma.fields.Integer(metadata={"description": "portions left to order"})
    max_per_person = ma.fields.Integer()
    photo_url = ma.fields.String(allow_none=True, metadata={"description": "signed URL of the dish photo; null: none"})
    thumb_url = ma.fields.String(allow_none=True, metadata={"description": "its thumbnail, for the menu list"})


class MenuSchema(Schema):
    id = ma.fields.Integer()
    canteen_id = ma.fields.Integer()
    canteen_name = ma.fields.String()
    day = ma.fields.Date()
    meal = ma.fields.String()
    meal_label = ma.fields.String()
    max_per_order = ma.fields.Integer()
    orders_close_at = ma.fields.DateTime()
    cancel_until = ma.fields.DateTime()
    pickup_from = ma.fields.DateTime()
    pickup_until = ma.fields.DateTime()
    open = ma.fields.Boolean(metadata={"description": "orders are still taken"})
    items = ma.fields.List(ma.fields.Nested(MenuItemSchema))
    price_group = ma.fields.String(allow_none=True, metadata={
        "enum": [g.value for g in PriceGroup],
        "description": "the caller's price group in a list of menus (they pay `items[].prices[price_group]`)"})


class MenuQuerySchema(Schema):
    date = ma.fields.Date(load_default=None, metadata={"description": "default: today (school time)"})
    meal = ma.fields.String(load_default=None, validate=ma.validate.OneOf(_MEALS))
    canteen_id = ma.fields.Integer(load_default=None)


class OrderLineInSchema(Schema):
    menu_item_id = ma.fields.Integer(required=True)
    quantity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=20))


class OrderCreateSchema(Schema):
    menu_id = ma.fields.Integer(required=True)
    lines = ma.fields.List(ma.fields.Nested(OrderLineInSchema), required=True,
                           validate=ma.validate.Length(min=1, max=20))
    request_id = ma.fields.String(required=True, validate=[
        ma.validate.Length(min=8, max=64), ma.validate.Regexp(r"^[A-Za-z0-9_-]+$", error="应为字母、数字、_ 或 -")],
        metadata={"description": "the client's idempotency key: the same one again answers the same order"})


class OrderLineSchema(Schema):
    menu_item_id = ma.fields.Integer()
    dish_name = ma.fields.String()
    window_name = ma.fields.String()
    quantity = ma.fields.Integer()
    unit_price_fen = ma.fields.Integer()


class OrderSchema(Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": [s.value for s in Status]})
    status_label = ma.fields.String()
    canteen_id = ma.fields.Integer()
    canteen_name = ma.fields.String()
    menu_id = ma.fields.Integer()
    day = ma.fields.Date()
    meal = ma.fields.String()
    meal_label = ma.fields.String()
    price_group = ma.fields.String(metadata={"enum": [g.value for g in PriceGroup]})
    total_fen = ma.fields.Integer()
    payment_id = ma.fields.Integer(allow_none=True)
    expires_at = ma.fields.DateTime(metadata={"description": "unpaid by then, the order expires"})
    cancel_until = ma.fields.DateTime()
    pickup_from = ma.fields.DateTime()
    pickup_until = ma.fields.DateTime()
    pickup_code = ma.fields.String(allow_none=True, metadata={"description": "6 digits, while paid"})
    qr_token = ma.fields.String(allow_none=True)
    paid_at = ma.fields.DateTime(allow_none=True)
    picked_up_at = ma.fields.DateTime(allow_none=True)
    cancelled_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    department_id = ma.fields.Integer(allow_none=True, metadata={"description": "a department order: billed to it"})
    headcount = ma.fields.Integer(allow_none=True, metadata={"description": "people a department order feeds"})
    lines = ma.fields.List(ma.fields.Nested(OrderLineSchema))


class OrderPaymentSchema(Schema):
    payment_id = ma.fields.Integer(metadata={"description": "check it out: POST /payments/{payment_id}/checkout"})
    status = ma.fields.String()


class PlacedSchema(Schema):
    order = ma.fields.Nested(OrderSchema)
    payment = ma.fields.Nested(OrderPaymentSchema, allow_none=True,
                               metadata={"description": "the payment to check out; null once paid"})


class OrdersQuerySchema(Schema):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf([s.value for s in Status]))


class PickupSchema(Schema):
    code = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^[0-9]{6}$", error="取餐码为 6 位数字"))
    token = ma.fields.String(load_default=None, validate=ma.validate.Length(min=8, max=40),
                             metadata={"description": "the order's QR token (scanned)"})
    canteen_id = ma.fields.Integer(load_default=None)


class SheetRowSchema(Schema):
    window_id = ma.fields.Integer()
    window_name = ma.fields.String()
    dish_id = ma.fields.Integer()
    dish_name = ma.fields.String()
    portions = ma.fields.Integer()
    ordered = ma.fields.Integer(metadata={"description": "paid portions (picked up and no-show included)"})
    pending = ma.fields.Integer(metadata={"description": "held portions waiting for payment"})


class SheetSchema(Schema):
    menu_id = ma.fields.Integer()
    day = ma.fields.Date()
    meal = ma.fields.String()
    final = ma.fields.Boolean(metadata={"description": "orders are closed: the figures no longer change"})
    rows = ma.fields.List(ma.fields.Nested(SheetRowSchema))
    total_ordered = ma.fields.Integer()


class ProgressSchema(Schema):
    menu_id = ma.fields.Integer()
    paid = ma.fields.Integer()
    picked_up = ma.fields.Integer()
    no_show = ma.fields.Integer()
    pending_payment = ma.fields.Integer()


class SalesQuerySchema(Schema):
    canteen_id = ma.fields.Integer(required=True)
    date_from = ma.fields.Date(required=True)
    date_to = ma.fields.Date(required=True)


class SalesRowSchema(Schema):
    day = ma.fields.Date()
    meal = ma.fields.String()
    dish_name = ma.fields.String()
    portions = ma.fields.Integer()
    sold = ma.fields.Integer(metadata={"description": "paid portions (picked up and no-show included)"})
    picked_up = ma.fields.Integer()
    no_show = ma.fields.Integer()
    unsold = ma.fields.Integer()
    waste = ma.fields.Integer(metadata={"description": "no-show + unsold"})
    revenue_fen = ma.fields.Integer()


# --- department orders (订餐员) ---------------------------------------------------------------------------


class OrdererInSchema(Schema):
    user_id = ma.fields.Integer(required=True)


class OrdererSchema(Schema):
    department_id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    name = ma.fields.String()


class DepartmentLineInSchema(Schema):
    menu_item_id = ma.fields.Integer(required=True)
    quantity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=DEPT_MAX_HEADCOUNT * 5))


class DepartmentOrderCreateSchema(OrderCreateSchema):
    headcount = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=DEPT_MAX_HEADCOUNT),
                                  metadata={"description": "how many colleagues the order feeds"})
    lines = ma.fields.List(ma.fields.Nested(DepartmentLineInSchema), required=True,
                           validate=ma.validate.Length(min=1, max=20))


class MonthQuerySchema(Schema):
    month = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$", error="月份格式应为 YYYY-MM"), metadata={"example": "2026-10"})


class StatementLineSchema(Schema):
    order_id = ma.fields.Integer()
    day = ma.fields.Date()
    meal = ma.fields.String()
    meal_label = ma.fields.String()
    canteen_name = ma.fields.String()
    orderer_id = ma.fields.Integer()
    orderer_name = ma.fields.String()
    headcount = ma.fields.Integer()
    items = ma.fields.String(metadata={"description": "红烧肉×10、青菜×10"})
    status = ma.fields.String()
    status_label = ma.fields.String()
    total_fen = ma.fields.Integer()


class StatementSchema(Schema):
    department_id = ma.fields.Integer()
    department_name = ma.fields.String()
    month = ma.fields.String()
    orders = ma.fields.Integer()
    headcount = ma.fields.Integer()
    total_fen = ma.fields.Integer()
    lines = ma.fields.List(ma.fields.Nested(StatementLineSchema))
