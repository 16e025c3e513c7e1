"""Binding kinds, guardian requests (statuses, the transition table, labels) and roster limits (pure data)."""

from __future__ import annotations

from enum import StrEnum

from app.core.auth import ROLES
from app.core.statemachine import SYSTEM, t


class BindKind(StrEnum):
    STAFF = "staff"
    STUDENT = "student"
    PARENT = "parent"


MAX_CHILDREN_PER_PARENT = 5
"""Children a WeChat account acts for, counting its pending guardian requests."""
MAX_GUARDIANS_PER_STUDENT = 4
"""Parents bound to one student, counting the pending requests that name them."""
MAX_PARENT_PHONES = 2
"""Parent phone numbers the roster keeps per student (the students import's 家长手机号)."""
MAX_IMPORT_ROWS = 20_000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
STAFF_COLUMNS = {"工号": "number", "姓名": "name", "部门": "department", "手机号": "phone", "角色": "roles"}
STUDENT_COLUMNS = {"学号": "number", "姓名": "name", "班级": "class_name"}
STUDENT_OPTIONAL_COLUMNS = {"家长手机号": "parent_phones", "班主任工号": "head_teacher_number"}
"""Columns a students sheet may have. Absent: the roster keeps what it has. 家长手机号: one or two
11-digit numbers (separated by a comma, 、, / or a space), an empty cell clears them. 班主任工号: the
class's head teacher (an active staff member); every row of a class that fills it must agree, empty
cells change nothing."""

STAFF_ROLES = tuple(r for r in ROLES if r not in ("student", "parent"))
"""Roles an admin can give a staff member; `student` and `parent` come from binding."""


# --- guardian requests -------------------------------------------------------------------------------


class GuardianRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


REQUESTER, STUDENT, CLASS_TEACHER, ADMIN = "requester", "student", "class_teacher", "admin"
DECIDERS = (STUDENT, CLASS_TEACHER, ADMIN)

G = GuardianRequestStatus
GUARDIAN_REQUEST_TRANSITIONS = {
    (G.PENDING, "approve"): t(G.APPROVED, *DECIDERS, repeatable=True),
    (G.PENDING, "reject"): t(G.REJECTED, *DECIDERS, repeatable=True),
    (G.PENDING, "withdraw"): t(G.WITHDRAWN, REQUESTER, repeatable=True),
    (G.PENDING, "expire"): t(G.EXPIRED, SYSTEM),
}
"""A parent's request to act for a student (``binding``): decided once, by the student (the user bound
to them), the class teacher (the head teacher of the student's class) or an admin — never by the
requester, whatever else they are; withdrawn by the requester; expired by the timer after
``GUARDIAN_REQUEST_DAYS``. A repeat of a decision by the same decider (a double tap) is ignored; a
second decider, or the other decision, finds it decided (409). Approving creates the guardianship."""

GUARDIAN_REQUEST_LABELS = {G.PENDING: "等待确认", G.APPROVED: "已通过", G.REJECTED: "未通过",
                           G.WITHDRAWN: "已撤回", G.EXPIRED: "已过期"}
GUARDIAN_REQUEST_ACTIONS = {"approve": "通过", "reject": "拒绝", "withdraw": "撤回", "expire": "过期"}
GUARDIAN_REQUEST_DAYS = 7
"""A pending request expires this long after it was made."""
RELATIONS = ("父亲", "母亲", "其他")
DECIDER_LABELS = {STUDENT: "孩子", CLASS_TEACHER: "班主任", ADMIN: "管理员"}

PARENT_BIND_RATE_LIMIT = "5/hour;20/day"
"""Parent bind attempts per WeChat account (on top of the per-address limit of ``/me/bind``)."""
PENDING_MESSAGE = "申请已提交，孩子或班主任确认后即可绑定"
"""The one answer to a parent's bind without a matching phone: whether the 学号 and 姓名 matched, the
child already has this parent or a request is already pending (``binding``)."""
