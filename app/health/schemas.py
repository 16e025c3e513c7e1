from __future__ import annotations

import marshmallow as ma


class LivenessSchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "ok"})


class CheckSchema(ma.Schema):
    ok = ma.fields.Boolean()
    latency_ms = ma.fields.Float(allow_none=True)
    detail = ma.fields.String()


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "`ok` when every dependency is up, else `degraded`"})
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(CheckSchema))
