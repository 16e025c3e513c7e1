"""Binding a WeChat account to the roster: as a staff member (proving the roster's phone when it
has one), as a student, or as a parent of up to ``MAX_CHILDREN_PER_PARENT`` students.

A parent binds at once only with proof: a WeChat-verified phone number that the roster lists among
the child's parent phones. Without it the bind is a guardian request (``guardians``) the student or
the class teacher decides — and the answer is the same whether the 学号 and 姓名 matched a student,
named a child this parent already has, or repeated a pending request, so the endpoint tells nobody
who is on the roster.
"""

from __future__ import annotations

from sqlalchemy import select

from app.core import audit
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.users import events
from app.users.models import GuardianRequest, StaffMember, Student, User
from app.users.service.guardians import bind_proved, request_guardianship
from app.users.states import BindKind
from app.wechat import client as wx
from app.wechat import gateway
from app.wechat.errors import InvalidCode, WeChatError
from app.wechat.gateway import WeChatUnavailable


class RosterNotFound(NotFound):
    error_code = "users.roster_not_found"
    message = "未在花名册中找到此人，请核对工号/学号和姓名"


class AlreadyBound(Conflict):
    error_code = "users.already_bound"
    message = "该身份已被其他微信账号绑定，如有疑问请联系后勤处"


def _same_name(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def bind_with_phone_code(*, actor: Actor, kind: str, number: str, name: str, phone_code: str | None,
                         relation: str | None = None) -> GuardianRequest | None:
    """``bind`` after exchanging the mini-program's phone code for the number WeChat verified."""
    phone = None
    if phone_code:
        try:
            phone = wx.get_phone_number(gateway.mini_program(), phone_code)
        except InvalidCode as exc:
            raise ValidationFailed("users.invalid_phone_code", "手机号授权已失效，请重新授权",
                                   errors={"phone_code": ["授权已失效"]}) from exc
        except WeChatError as exc:
            raise WeChatUnavailable() from exc
    return bind(actor=actor, kind=kind, number=number, name=name, phone=phone, relation=relation)


def bind(*, actor: Actor, kind: str, number: str, name: str, phone: str | None = None,
         relation: str | None = None) -> GuardianRequest | None:
    """Bind the actor's WeChat account to the roster. ``phone`` is the number WeChat verified (the
    caller exchanged the phone code); required when the roster has a phone for that staff member, and
    what binds a parent at once. Returns None when bound, or the guardian request a parent made."""
    user = db.session.get(User, actor.user_id)
    kind = BindKind(kind)
    if phone:
        user.phone = phone
    if kind is BindKind.PARENT:
        return _bind_parent(user, number, name, phone, relation)
    if kind is BindKind.STAFF:
        _bind_staff(user, number, name, phone)
    else:
        _bind_student(user, number, name)
    db.session.flush()
    audit.record("user", user.id, "bind", actor_id=user.id, after={"kind": str(kind), "number": number})
    events.user_bound.send(user.id, kind=str(kind))
    return None


def _find(model, number: str, name: str):
    person = db.session.scalars(select(model).where(model.number == number.strip(), model.active.is_(True))).first()
    if person is None or not _same_name(person.name, name):
        raise RosterNotFound()
    return person


def _bind_staff(user: User, number: str, name: str, phone: str | None) -> None:
    staff = _find(StaffMember, number, name)
    if user.staff_id == staff.id:
        return
    if user.staff_id is not None:
        raise Conflict("users.already_bound", "你的微信已绑定其他教职工身份，如需更换请联系后勤处")
    if staff.phone and phone != staff.phone:
        raise ValidationFailed("users.phone_mismatch", "手机号与花名册登记的不一致，请使用登记的手机号授权",
                               errors={"phone_code": ["手机号与花名册登记的不一致"]})
    if db.session.scalar(select(User.id).where(User.staff_id == staff.id)) is not None:
        raise AlreadyBound()
    user.staff_id = staff.id


def _bind_student(user: User, number: str, name: str) -> None:
    student = _find(Student, number, name)
    if user.student_id == student.id:
        return
    if user.student_id is not None:
        raise Conflict("users.already_bound", "你的微信已绑定其他学生身份，如需更换请联系后勤处")
    if db.session.scalar(select(User.id).where(User.student_id == student.id)) is not None:
        raise AlreadyBound()
    user.student_id = student.id


def _same_phone(verified: str, listed: list[str]) -> bool:
    """WeChat gives Chinese numbers without a country code; the roster has 11 digits."""
    return bool(verified) and verified.removeprefix("+86").strip() in (listed or [])


def _bind_parent(user: User, number: str, name: str, phone: str | None,
                 relation: str | None) -> GuardianRequest | None:
    """At once with a parent phone of the roster; else a guardian request, in one shape for every case."""
    try:
        student = _find(Student, number, name)
    except RosterNotFound:
        student = None
    if student is not None and phone and _same_phone(phone, student.parent_phones):
        bind_proved(user=user, student=student, relation=relation)
        return None
    return request_guardianship(user=user, number=number, name=name, student=student, relation=relation)
