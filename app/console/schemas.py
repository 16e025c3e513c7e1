"""Shapes of the console's mini-program API (the pages themselves are HTML)."""

from __future__ import annotations

import marshmallow as ma

from app.core.schemas import Schema


class ScanSchema(Schema):
    ip = ma.fields.String(metadata={"description": "address of the browser asking to sign in"})
    user_agent = ma.fields.String(metadata={"description": "its browser (User-Agent)"})
    requested_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime(metadata={"description": "the code works until then"})


class DoneSchema(Schema):
    ok = ma.fields.Boolean()
