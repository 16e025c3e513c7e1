"""Lockers request and response shapes."""

from __future__ import annotations

import marshmallow as ma

from app.core.schemas import Line, Schema
from app.lockers.states import DOOR_EVENTS, DOOR_FAULTS, Size

_CODE = ma.validate.Regexp(r"^[0-9]{6}$", error="取件码为 6 位数字")


class WhoSchema(Schema):
    """A person by phone, 学号/工号 or exact roster name (one of them)."""

    phone = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^1[0-9]{10}$", error="手机号格式不正确"))
    number = Line(load_default=None, validate=ma.validate.Length(min=1, max=32))
    name = Line(load_default=None, validate=ma.validate.Length(min=1, max=50))

    @ma.validates_schema
    def one_of(self, data, **kwargs):
        if not (data.get("phone") or data.get("number") or data.get("name") or data.get("recipient_id")):
            raise ma.ValidationError("请填写收件人的手机号、学号/工号或姓名", "recipient")


class DepositSchema(WhoSchema):
    """The recipient by ``recipient_id`` (a result of ``GET /recipients``), or as ``WhoSchema``."""

    recipient_id = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, error="收件人不存在"))
    bank_id = ma.fields.Integer(required=True)
    tracking_no = Line(required=True, validate=[
        ma.validate.Length(min=4, max=40), ma.validate.Regexp(r"^[A-Za-z0-9-]+$", error="运单号只能含字母、数字和 -")])
    size = ma.fields.String(required=True, validate=ma.validate.OneOf([s.value for s in Size]))


class ParcelSchema(Schema):
    id = ma.fields.Integer()
    tracking_no = ma.fields.String()
    status = ma.fields.String(metadata={"description": "depositing | stored | picked_up | to_return | returned"})
    storage = ma.fields.String(metadata={"description": "locker | counter (驿站)"})
    bank_id = ma.fields.Integer()
    bank_name = ma.fields.String()
    place_name = ma.fields.String()
    compartment = ma.fields.String(allow_none=True)
    shelf_code = ma.fields.String(allow_none=True)
    size = ma.fields.String()
    pickup_code = ma.fields.String(allow_none=True, metadata={"description": "while stored; never to the courier"})
    shared_with = ma.fields.Integer(allow_none=True)
    stored_at = ma.fields.DateTime(allow_none=True)
    picked_up_at = ma.fields.DateTime(allow_none=True)
    status_label = ma.fields.String(metadata={"description": "待取件 …"})
    fee_due_fen = ma.fields.Integer(metadata={"description": "overdue fee to pay before opening (recipient)"})


class CounterParcelSchema(ParcelSchema):
    recipient_name = ma.fields.String()


class RecipientQuerySchema(Schema):
    q = Line(required=True, validate=ma.validate.Length(min=1, max=50))


class RecipientSchema(Schema):
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "staff | student | parent"})
    unit = ma.fields.String(allow_none=True, metadata={"description": "class or department"})
    phone_masked = ma.fields.String(allow_none=True)


class CompartmentSchema(Schema):
    id = ma.fields.Integer()
    bank_id = ma.fields.Integer()
    label = ma.fields.String()
    size = ma.fields.String()
    status = ma.fields.String(metadata={"description": "free | reserved | occupied | out_of_service"})
    status_label = ma.fields.String()
    holds_parcel = ma.fields.Boolean()


class FreeSchema(Schema):
    S = ma.fields.Integer()
    M = ma.fields.Integer()
    L = ma.fields.Integer()


class BankSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    place_id = ma.fields.Integer()
    place_name = ma.fields.String()
    online = ma.fields.Boolean()
    free = ma.fields.Nested(FreeSchema)
    out_of_service = ma.fields.Integer()
    parcels_waiting = ma.fields.Integer()


class HandOverSchema(Schema):
    code = ma.fields.String(required=True, validate=_CODE)


# --- the controllers' side ----------------------------------------------------------------------------------


class DoorEventSchema(Schema):
    event = ma.fields.String(required=True, validate=ma.validate.OneOf(DOOR_EVENTS))
    compartment = Line(required=True, validate=ma.validate.Length(min=1, max=10))
    txn_id = Line(required=True, validate=ma.validate.Length(min=1, max=60))
    code = ma.fields.String(load_default=None, validate=ma.validate.OneOf(DOOR_FAULTS))


class HeartbeatSchema(Schema):
    doors_open = ma.fields.List(Line(validate=ma.validate.Length(max=10)), load_default=list,
                                validate=ma.validate.Length(max=500))


class TypedCodeSchema(Schema):
    code = ma.fields.String(required=True, validate=_CODE)


class HandledSchema(Schema):
    handled = ma.fields.Boolean()


class OpenedSchema(Schema):
    compartment = ma.fields.String()
    parcel_id = ma.fields.Integer()
