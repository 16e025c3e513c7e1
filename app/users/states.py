"""Binding kinds and roster limits (pure data)."""

from __future__ import annotations

from enum import StrEnum

from app.core.auth import ROLES


class BindKind(StrEnum):
    STAFF = "staff"
    STUDENT = "student"
    PARENT = "parent"


MAX_CHILDREN_PER_PARENT = 5
MAX_IMPORT_ROWS = 20_000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
STAFF_COLUMNS = {"工号": "number", "姓名": "name", "部门": "department", "手机号": "phone", "角色": "roles"}
STUDENT_COLUMNS = {"学号": "number", "姓名": "name", "班级": "class_name"}

STAFF_ROLES = tuple(r for r in ROLES if r not in ("student", "parent"))
"""Roles an admin can give a staff member; `student` and `parent` come from binding."""
