from __future__ import annotations

import marshmallow as ma

from app.core.schemas import Schema
from app.users.schemas import ProfileSchema


class WechatLoginSchema(Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128),
                            metadata={"description": "the code of `wx.login()`"})


class RefreshSchema(Schema):
    refresh_token = ma.fields.String(required=True, validate=ma.validate.Length(min=16, max=128))


class TokensSchema(Schema):
    access_token = ma.fields.String(metadata={"description": "JWT; send as `Authorization: Bearer …`"})
    refresh_token = ma.fields.String(metadata={"description": "single use; each refresh returns a new one"})
    expires_in = ma.fields.Integer(metadata={"description": "seconds until the access token expires"})
    token_type = ma.fields.String(dump_default="Bearer")
    user = ma.fields.Nested(ProfileSchema)
