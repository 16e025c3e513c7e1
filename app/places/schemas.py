from __future__ import annotations

import marshmallow as ma

from app.core.schemas import Schema
from app.places.states import KIND_LABELS, PlaceKind

_KINDS = [k.value for k in PlaceKind]


class PathItemSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()


class PlaceSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String(metadata={"enum": _KINDS})
    kind_label = ma.fields.Function(lambda p: KIND_LABELS[PlaceKind(p.kind)])
    parent_id = ma.fields.Integer(allow_none=True)


class PlaceDetailSchema(PlaceSchema):
    path = ma.fields.List(ma.fields.Nested(PathItemSchema), metadata={"description": "campus first, this place last"})
    full_name = ma.fields.String(metadata={"example": "东校区 › 行政楼 › 3F › 301"})


class PlaceQuerySchema(Schema):
    parent_id = ma.fields.Integer(metadata={"description": "children of this place (campuses when omitted)"})
    kind = ma.fields.String(validate=ma.validate.OneOf(_KINDS))
    q = ma.fields.String(validate=ma.validate.Length(min=1, max=50), metadata={"description": "search name/code"})


class QrQuerySchema(Schema):
    source = ma.fields.String(load_default="wechat", validate=ma.validate.OneOf(["wechat", "qr"]),
                              metadata={"description": "`wechat` mini-program code (falls back to `qr`) or plain `qr`"})
