"""Organisation and roster, for admins and pickers: departments, classes, the staff list, staff
roles, and the staff and student xlsx imports (all rows or none; students with their parents' phone
numbers and their class's head teacher when the sheet has those columns)."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import any_, select, update
from sqlalchemy.dialects.postgresql import insert

from app.core import audit
from app.core.auth import ROLE_LABELS, ROLES, Actor, require_roles
from app.core.db import db
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import PageParams, paginate
from app.core.sheets import ImportResult, RowErrors, duplicates, read_rows
from app.users import events
from app.users.models import Department, SchoolClass, StaffMember, Student
from app.users.states import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    MAX_PARENT_PHONES,
    STAFF_COLUMNS,
    STAFF_ROLES,
    STUDENT_COLUMNS,
    STUDENT_OPTIONAL_COLUMNS,
)

_LABEL_TO_ROLE = {label: key for key, label in ROLE_LABELS.items()}
_PHONE_SEPARATORS = re.compile(r"[,，、;；/\s]+")


def list_departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.id)))


def list_classes() -> list[SchoolClass]:
    return list(db.session.scalars(select(SchoolClass).order_by(SchoolClass.grade_id, SchoolClass.id)))


def _matching(stmt, model, q: str | None):
    """``stmt`` narrowed to the people (staff or students) whose name or number contains ``q``."""
    if not q:
        return stmt
    like = f"%{q.strip()}%"
    return stmt.where(model.name.ilike(like) | model.number.ilike(like))


def list_staff(*, actor: Actor, params: PageParams, q: str | None = None, role: str | None = None) -> list:
    require_roles(actor, "admin")
    stmt = _matching(select(StaffMember).order_by(StaffMember.number), StaffMember, q)
    if role:
        stmt = stmt.where(any_(StaffMember.roles) == role)
    return paginate(stmt, params)


def list_students(*, actor: Actor, params: PageParams, q: str | None = None, class_id: int | None = None) -> list:
    """Students on the roster (admins) by 学号, searchable by name or 学号, filterable by class."""
    require_roles(actor, "admin")
    stmt = _matching(select(Student).order_by(Student.number), Student, q)
    if class_id is not None:
        stmt = stmt.where(Student.class_id == class_id)
    return paginate(stmt, params)


def set_staff_roles(*, actor: Actor, staff_id: int, roles: list[str]) -> StaffMember:
    require_roles(actor, "admin")
    staff = db.session.get(StaffMember, staff_id)
    if staff is None:
        raise NotFound("users.staff_not_found", "未找到该教职工")
    unknown = sorted(set(roles) - set(STAFF_ROLES))
    if unknown:
        raise ValidationFailed(errors={"roles": [f"未知角色：{', '.join(unknown)}"]})
    if not roles:
        raise ValidationFailed(message="至少保留一个角色", errors={"roles": ["至少保留一个角色"]})
    if staff.id == actor.staff_id and "admin" not in roles:
        raise ValidationFailed("users.cannot_drop_own_admin", "不能取消自己的管理员角色")
    before = sorted(staff.roles or [])
    staff.roles = sorted(set(roles), key=ROLES.index)
    db.session.flush()
    audit.record("staff_member", staff.id, "set_roles", actor_id=actor.user_id,
                 before={"roles": before}, after={"roles": staff.roles})
    events.roles_changed.send(staff.id, before=before, after=staff.roles)
    return staff


def change_staff_role(*, actor: Actor, staff_id: int, role: str, grant: bool) -> StaffMember:
    """Grant or revoke one role (the console's 授予 / 取消): the staff member's roles as they are now (the
    row locked, so two admins' changes both count) with ``role`` added or taken away, through
    ``set_staff_roles`` (its checks, audit and signal). Granting a held role or revoking one not held
    changes nothing and is not audited."""
    require_roles(actor, "admin")
    if role not in STAFF_ROLES:
        raise ValidationFailed(errors={"role": [f"未知角色：{role}"]})
    row = db.session.execute(select(StaffMember.roles).where(StaffMember.id == staff_id).with_for_update()).first()
    if row is None:
        raise NotFound("users.staff_not_found", "未找到该教职工")
    roles = list(row.roles or [])
    if (role in roles) == grant:
        return db.session.get(StaffMember, staff_id)
    return set_staff_roles(actor=actor, staff_id=staff_id,
                           roles=[*roles, role] if grant else [r for r in roles if r != role])


def _parse_roles(text: str) -> list[str] | None:
    if not text:
        return ["teacher"]
    roles = []
    for part in text.replace("，", ",").replace("、", ",").split(","):
        part = part.strip()
        if not part:
            continue
        role = part if part in STAFF_ROLES else _LABEL_TO_ROLE.get(part)
        if role is None or role not in STAFF_ROLES:
            return None
        roles.append(role)
    return sorted(set(roles), key=ROLES.index) or ["teacher"]


def _read(data: bytes, columns: dict[str, str]) -> list[tuple[int, dict]]:
    return read_rows(data, columns, max_rows=MAX_IMPORT_ROWS, max_bytes=MAX_IMPORT_BYTES)


def _check_rows(rows: list[tuple[int, dict]], number_title: str,
                check: Callable[[int, dict, RowErrors], None]) -> None:
    """What every roster sheet must be: each row with its number (工号, 学号: ``number_title``), not
    repeated, and a name; then ``check(row number, row, errors)``, the import's own rules, row by row.
    Raises with every error found (the import writes nothing)."""
    errors = RowErrors()
    duplicates(rows, "number", errors, number_title, f"{number_title}重复")
    for number, r in rows:
        if not r["number"]:
            errors.add(number, number_title, f"缺少{number_title}")
        if not r["name"]:
            errors.add(number, "姓名", "缺少姓名")
        check(number, r, errors)
    errors.raise_if_any("users.import_invalid", f"表格有 {len(errors.errors)} 处错误，未导入任何数据")


def import_staff(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportResult:
    """Create or update staff from an xlsx (工号, 姓名, 部门, 手机号, 角色): all rows or none."""
    require_roles(actor, "admin")
    rows = _read(data, STAFF_COLUMNS)
    departments = {d.name: d.id for d in list_departments()}
    roles: dict[int, list[str] | None] = {}

    def check(number: int, r: dict, errors: RowErrors) -> None:
        if r["department"] and r["department"] not in departments:
            errors.add(number, "部门", f"未知部门“{r['department']}”")
        if r["phone"] and not (r["phone"].isdigit() and len(r["phone"]) == 11):
            errors.add(number, "手机号", "手机号应为 11 位数字")
        roles[number] = _parse_roles(r["roles"])
        if roles[number] is None:
            errors.add(number, "角色", f"无法识别的角色“{r['roles']}”")

    _check_rows(rows, "工号", check)
    return _upsert(StaffMember, [
        {"number": r["number"], "name": r["name"], "department_id": departments.get(r["department"]),
         "phone": r["phone"] or None, "roles": roles[n]}
        for n, r in rows
    ], actor=actor, dry_run=dry_run, entity="staff_import")


def _read_students(data: bytes) -> list[tuple[int, dict]]:
    """The rows, with whichever of ``STUDENT_OPTIONAL_COLUMNS`` the sheet has (a sheet without them
    reads as before; a missing required column is still refused by name)."""
    try:
        return _read(data, {**STUDENT_COLUMNS, **STUDENT_OPTIONAL_COLUMNS})
    except ValidationFailed as exc:
        if exc.error_code != "import.missing_columns":
            raise
        missing = set(exc.errors.get("columns") or ())
    present = {title: f for title, f in STUDENT_OPTIONAL_COLUMNS.items() if title not in missing}
    return _read(data, {**STUDENT_COLUMNS, **present})


def parse_parent_phones(text: str) -> list[str] | None:
    """``"13800000001、13800000002"`` → the numbers (at most ``MAX_PARENT_PHONES`` distinct 11-digit
    ones, in order), ``""`` → ``[]``; None when the cell is not that."""
    phones = list(dict.fromkeys(p for p in _PHONE_SEPARATORS.split(text or "") if p))
    if len(phones) > MAX_PARENT_PHONES or not all(p.isdigit() and len(p) == 11 for p in phones):
        return None
    return phones


def import_students(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportResult:
    """Create or update students from an xlsx (学号, 姓名, 班级; optional 家长手机号, 班主任工号): all
    rows or none. See ``STUDENT_OPTIONAL_COLUMNS`` for what the optional columns do."""
    require_roles(actor, "admin")
    rows = _read_students(data)
    classes = {c.name: c.id for c in list_classes()}
    with_phones = bool(rows) and "parent_phones" in rows[0][1]
    heads = _head_teachers([r["head_teacher_number"] for _n, r in rows if r.get("head_teacher_number")])
    phones: dict[int, list[str]] = {}
    class_heads: dict[int, tuple[int, str, int]] = {}  # class id -> (staff id, 工号, first row)

    def check(number: int, r: dict, errors: RowErrors) -> None:
        if not r["class_name"]:
            errors.add(number, "班级", "缺少班级")
        elif r["class_name"] not in classes:
            errors.add(number, "班级", f"未知班级“{r['class_name']}”")
        if with_phones:
            parsed = parse_parent_phones(r["parent_phones"])
            if parsed is None:
                errors.add(number, "家长手机号", f"应为 1 到 {MAX_PARENT_PHONES} 个 11 位手机号，用逗号或顿号分隔")
            else:
                phones[number] = parsed
        head = r.get("head_teacher_number")
        if head:
            if head not in heads:
                errors.add(number, "班主任工号", f"未找到在职教职工“{head}”")
            elif r["class_name"] in classes:
                class_id = classes[r["class_name"]]
                first = class_heads.setdefault(class_id, (heads[head], head, number))
                if first[0] != heads[head]:
                    errors.add(number, "班主任工号", f"与第 {first[2]} 行的班主任“{first[1]}”不一致")

    _check_rows(rows, "学号", check)
    result = _upsert(Student, [
        {"number": r["number"], "name": r["name"], "class_id": classes[r["class_name"]]}
        | ({"parent_phones": phones[n]} if with_phones else {})
        for n, r in rows
    ], actor=actor, dry_run=dry_run, entity="student_import")
    if not dry_run:
        for class_id, (staff_id, _number, _row) in class_heads.items():
            db.session.execute(update(SchoolClass).where(SchoolClass.id == class_id)
                               .values(head_teacher_id=staff_id).execution_options(synchronize_session=False))
        if class_heads:
            audit.record("student_import", 0, "set_head_teachers", actor_id=actor.user_id,
                         after={str(c): s for c, (s, _n, _r) in class_heads.items()})
    return result


def _head_teachers(numbers: list[str]) -> dict[str, int]:
    """工号 → staff id of the active staff members among ``numbers``."""
    if not numbers:
        return {}
    return dict(db.session.execute(select(StaffMember.number, StaffMember.id).where(
        StaffMember.number.in_(set(numbers)), StaffMember.active.is_(True))).all())


def _upsert(model, records: list[dict], *, actor: Actor, dry_run: bool, entity: str) -> ImportResult:
    numbers = [r["number"] for r in records]
    existing = set(db.session.scalars(select(model.number).where(model.number.in_(numbers)))) if numbers else set()
    result = ImportResult(created=len(numbers) - len(existing), updated=len(existing), dry_run=dry_run)
    if dry_run or not records:
        return result
    for start in range(0, len(records), 1000):
        chunk = records[start:start + 1000]
        stmt = insert(model).values(chunk)
        stmt = stmt.on_conflict_do_update(
            index_elements=["number"],
            set_={k: stmt.excluded[k] for k in chunk[0] if k != "number"} | {"active": True},
        )
        db.session.execute(stmt)
    audit.record(entity, 0, "import", actor_id=actor.user_id,
                 after={"created": result.created, "updated": result.updated})
    return result
