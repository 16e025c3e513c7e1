from __future__ import annotations

import marshmallow as ma

from app.core.auth import ROLE_LABELS
from app.core.schemas import Line, Schema
from app.users.states import (
    GUARDIAN_REQUEST_LABELS,
    MAX_PARENT_PHONES,
    PENDING_MESSAGE,
    RELATIONS,
    STAFF_ROLES,
    BindKind,
)

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
    student_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "a student's roster id (`/students/{id}/guardians`: my parents); null for others"})
    decides_guardians = ma.fields.Boolean(metadata={
        "description": "a student, or a class's head teacher: 家长绑定申请 on 我的 is for them"})
    guardian_requests_to_decide = ma.fields.Integer(metadata={
        "description": "pending guardian requests this user may approve or reject (the badge)"})

    def _labels(self, obj) -> list[str]:
        return [ROLE_LABELS[r] for r in obj.roles]


class BindSchema(Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf([k.value for k in BindKind]))
    number = ma.fields.String(validate=_NUMBER, metadata={"description": "工号 (staff) / 学号 (student)"})
    name = Line(validate=_NAME)
    student_number = ma.fields.String(validate=_NUMBER, metadata={"description": "parent: the child's 学号"})
    student_name = Line(validate=_NAME, metadata={"description": "parent: the child's name"})
    phone_code = ma.fields.String(validate=ma.validate.Length(min=1, max=128), metadata={
        "description": "`e.detail.code` of a getPhoneNumber button. Staff: required when the roster has their "
                       "phone. Parent: binds at once when WeChat's number is one of the child's 家长手机号"})
    relation = ma.fields.String(validate=ma.validate.OneOf(RELATIONS), allow_none=True,
                                metadata={"description": "parent: 父亲 / 母亲 / 其他 (optional)"})

    @ma.validates_schema
    def _fields_for_kind(self, data, **kwargs):
        needed = ("student_number", "student_name") if data.get("kind") == BindKind.PARENT else ("number", "name")
        missing = {f: ["必填"] for f in needed if not (data.get(f) or "").strip()}
        if missing:
            raise ma.ValidationError(missing)


_STATUSES = [str(s) for s in GUARDIAN_REQUEST_LABELS]


class MyGuardianRequestSchema(Schema):
    """A parent's own request: what they typed, never what the roster says."""

    id = ma.fields.Integer()
    student_number = ma.fields.String()
    student_name = ma.fields.String()
    relation = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"enum": _STATUSES})
    status_label = ma.fields.String()
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)


class BindPendingSchema(Schema):
    status = ma.fields.String(metadata={"enum": ["pending"]})
    message = ma.fields.String(metadata={"example": PENDING_MESSAGE})
    request = ma.fields.Nested(MyGuardianRequestSchema)


class GuardianRequestSchema(Schema):
    """A request as the student, the class teacher or an admin sees it."""

    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": _STATUSES})
    status_label = ma.fields.String()
    relation = ma.fields.String(allow_none=True)
    requester_name = ma.fields.String()
    requester_phone_masked = ma.fields.String(allow_none=True)
    student_id = ma.fields.Integer()
    student_name = ma.fields.String()
    student_number = ma.fields.String()
    class_name = ma.fields.String()
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)
    decided_by = ma.fields.String(allow_none=True, metadata={"description": "孩子 / 班主任 / 管理员"})
    actions = ma.fields.List(ma.fields.String(), metadata={"description": "what this user may do now: approve, reject"})


class GuardianRequestQuerySchema(Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(_STATUSES))


class DecidingQuerySchema(Schema):
    status = ma.fields.String(load_default="pending", validate=ma.validate.OneOf([*_STATUSES, "done", "all"]),
                              metadata={"description": "`pending` (default), another status, `done` (every one "
                                                       "but pending) or `all`"})


class GuardianSchema(Schema):
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    relation = ma.fields.String(allow_none=True)
    phone_masked = ma.fields.String(allow_none=True)
    since = ma.fields.DateTime()


class StudentGuardiansSchema(Schema):
    student_id = ma.fields.Integer()
    student_name = ma.fields.String()
    class_name = ma.fields.String()
    guardians = ma.fields.List(ma.fields.Nested(GuardianSchema))
    max_guardians = ma.fields.Integer()
    roster_phones_masked = ma.fields.List(ma.fields.String(), metadata={
        "description": f"the roster's 家长手机号 (at most {MAX_PARENT_PHONES}), masked"})


class HeadTeacherSchema(Schema):
    staff_number = ma.fields.String(required=True, allow_none=True, validate=ma.validate.Length(min=1, max=32),
                                    metadata={"description": "工号 of the head teacher; null clears it"})


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
