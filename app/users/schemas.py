from __future__ import annotations

import marshmallow as ma

from app.core.auth import ROLE_LABELS
from app.core.schemas import Schema
from app.users.states import STAFF_ROLES, BindKind

_NUMBER = ma.validate.Length(min=1, max=32)
_NAME = ma.validate.Length(min=1, max=50)


class PersonSchema(Schema):
    kind = ma.fields.String(metadata={"enum": [k.value for k in BindKind]})
    name = ma.fields.String()
    number = ma.fields.String(allow_none=True)
    department = ma.fields.String(allow_none=True)
    class_name = ma.fields.String(allow_none=True)


class ChildSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    number = ma.fields.String()
    class_name = ma.fields.String()


class ProfileSchema(Schema):
    id = ma.fields.Integer()
    nickname = ma.fields.String(allow_none=True)
    roles = ma.fields.List(ma.fields.String())
    role_labels = ma.fields.Method("_labels")
    bound = ma.fields.Boolean(metadata={"description": "false until bound to the roster: then only binding works"})
    phone_masked = ma.fields.String(allow_none=True)
    person = ma.fields.Nested(PersonSchema, allow_none=True)
    children = ma.fields.List(ma.fields.Nested(ChildSchema))

    def _labels(self, obj) -> list[str]:
        return [ROLE_LABELS[r] for r in obj.roles]


class BindSchema(Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf([k.value for k in BindKind]))
    number = ma.fields.String(validate=_NUMBER, metadata={"description": "工号 (staff) / 学号 (student)"})
    name = ma.fields.String(validate=_NAME)
    student_number = ma.fields.String(validate=_NUMBER, metadata={"description": "parent: the child's 学号"})
    student_name = ma.fields.String(validate=_NAME, metadata={"description": "parent: the child's name"})
    phone_code = ma.fields.String(validate=ma.validate.Length(min=1, max=128),
                                  metadata={"description": "staff: `e.detail.code` of a getPhoneNumber button"})

    @ma.validates_schema
    def _fields_for_kind(self, data, **kwargs):
        needed = ("student_number", "student_name") if data.get("kind") == BindKind.PARENT else ("number", "name")
        missing = {f: ["必填"] for f in needed if not (data.get(f) or "").strip()}
        if missing:
            raise ma.ValidationError(missing)


class DepartmentSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class SchoolClassSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    grade = ma.fields.Function(lambda c: c.grade.name)
    head_teacher_id = ma.fields.Integer(allow_none=True, metadata={"description": "the head teacher (staff id)"})


class StaffSchema(Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    name = ma.fields.String()
    department = ma.fields.Function(lambda s: s.department.name if s.department else None)
    phone_masked = ma.fields.String(allow_none=True)
    roles = ma.fields.List(ma.fields.String())
    active = ma.fields.Boolean()


class StaffQuerySchema(Schema):
    q = ma.fields.String(validate=ma.validate.Length(max=50))
    role = ma.fields.String(validate=ma.validate.OneOf(STAFF_ROLES))


class RolesSchema(Schema):
    roles = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(STAFF_ROLES)), required=True,
                           validate=ma.validate.Length(min=1, max=len(STAFF_ROLES)))
