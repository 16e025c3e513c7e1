"""Parents and the students they act for: guardianships (made, capped, undone) and guardian requests.

A parent binds at once only with proof (``binding``: a WeChat-verified phone the roster lists for the
child). Otherwise they ask, and the student (the user bound to that student) or the class teacher
(the head teacher of the student's class) approves or rejects in the mini-program; an admin may too.
Who may move a request is ``GUARDIAN_REQUEST_TRANSITIONS`` with roles relative to the request
(``requester``, ``student``, ``class_teacher``) beside ``admin`` and ``system`` (the expiry timer);
``roles_on`` works them out. Nobody decides their own request.

Someone else's request answers 404, as does a request that matched no student (it is stored so its
requester sees it pending like any other, and it expires). Every request, decision, binding and
unbinding is audited; the people concerned learn of them through ``events`` (the notifications
domain listens).

Caps: ``MAX_GUARDIANS_PER_STUDENT`` parents per student — a new request is refused when bound parents
and pending requests reach it (which bounds what strangers can pile on a student and the class teacher),
an approval or a phone-proved binding when bound parents alone do (so pending requests cannot keep a
proved parent out) — and ``MAX_CHILDREN_PER_PARENT`` children per WeChat account, its pending requests
included. Parents are counted with the student's row locked, so two bindings at once cannot pass the
cap together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from app.core import audit, clock, timers
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.pagination import PageParams, paginate
from app.core.statemachine import SYSTEM, Labels, StateMachine
from app.users import events
from app.users.models import GuardianRequest, Guardianship, SchoolClass, StaffMember, Student, User, mask_phone
from app.users.states import (
    ADMIN,
    CLASS_TEACHER,
    DECIDER_LABELS,
    DECIDERS,
    GUARDIAN_REQUEST_ACTIONS,
    GUARDIAN_REQUEST_DAYS,
    GUARDIAN_REQUEST_LABELS,
    GUARDIAN_REQUEST_TRANSITIONS,
    MAX_CHILDREN_PER_PARENT,
    MAX_GUARDIANS_PER_STUDENT,
    REQUESTER,
    STUDENT,
    GuardianRequestStatus,
)

EXPIRY_TIMER = "users.guardian_request_expiry"
"""The timer kind (registered in ``create_app``) that expires a pending request."""
PENDING = str(GuardianRequestStatus.PENDING)

request_machine = StateMachine(
    GuardianRequest, GUARDIAN_REQUEST_TRANSITIONS, entity="guardian_request",
    labels=Labels("该申请", GUARDIAN_REQUEST_LABELS, GUARDIAN_REQUEST_ACTIONS),
    messages={"concurrent_change": "该申请已被处理，请刷新后查看", "forbidden": "你不能处理这条申请"})


class RequestNotFound(NotFound):
    error_code = "users.guardian_request_not_found"
    message = "申请不存在"


class GuardianNotFound(NotFound):
    error_code = "users.guardian_not_found"
    message = "未找到该家长的绑定"


class GuardiansFull(Conflict):
    error_code = "users.guardians_full"
    message = (f"该学生已有 {MAX_GUARDIANS_PER_STUDENT} 位家长绑定或正在申请，不能再添加；"
               "如需更换，请孩子或班主任先解除其他家长的绑定")


class TooManyChildren(ValidationFailed):
    error_code = "users.too_many_children"
    message = f"一个微信最多绑定 {MAX_CHILDREN_PER_PARENT} 个孩子（含等待确认的申请）"


class RequestExpired(Conflict):
    error_code = "users.guardian_request_expired"
    message = "该申请已过期，请家长重新申请"


# --- guardianships -------------------------------------------------------------------------------------


def _lock_student(student_id: int) -> None:
    """Serialises everything that counts a student's parents (``FOR NO KEY UPDATE``: inserting
    guardianships and requests that reference the row is not blocked, other counters are)."""
    db.session.execute(select(Student.id).where(Student.id == student_id).with_for_update(key_share=True))


def is_guardian(user_id: int, student_id: int) -> bool:
    return db.session.scalar(select(Guardianship.id).where(
        Guardianship.user_id == user_id, Guardianship.student_id == student_id)) is not None


def _guardian_count(student_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Guardianship)
                             .where(Guardianship.student_id == student_id)) or 0


def _pending_for_student(student_id: int, now: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(GuardianRequest).where(
        GuardianRequest.student_id == student_id, GuardianRequest.status == PENDING,
        GuardianRequest.expires_at > now)) or 0


def children_in_use(user_id: int, now: datetime) -> int:
    """Children a user acts for plus their pending requests (what ``MAX_CHILDREN_PER_PARENT`` caps)."""
    bound = db.session.scalar(select(func.count()).select_from(Guardianship)
                              .where(Guardianship.user_id == user_id)) or 0
    pending = db.session.scalar(select(func.count()).select_from(GuardianRequest).where(
        GuardianRequest.requester_id == user_id, GuardianRequest.status == PENDING,
        GuardianRequest.expires_at > now)) or 0
    return bound + pending


def add_guardian(*, user_id: int, student: Student, relation: str | None, actor_id: int | None, via: str,
                 request_id: int | None = None) -> bool:
    """Make ``user_id`` a parent of ``student`` (``via``: ``phone``, ``approval``); False if already.
    Refuses a student who has ``MAX_GUARDIANS_PER_STUDENT`` parents bound (pending requests do not
    count here: they must not keep a proved parent out). The caller has checked the user's own cap."""
    _lock_student(student.id)
    if is_guardian(user_id, student.id):
        return False
    if _guardian_count(student.id) >= MAX_GUARDIANS_PER_STUDENT:
        raise GuardiansFull()
    guardianship_id = db.session.execute(
        insert(Guardianship).values(user_id=user_id, student_id=student.id, relation=relation)
        .on_conflict_do_nothing(index_elements=["user_id", "student_id"]).returning(Guardianship.id)
    ).scalar()
    if guardianship_id is None:  # a concurrent binding of the same pair won
        return False
    audit.record("guardianship", guardianship_id, "bind", actor_id=actor_id,
                 after={"user_id": user_id, "student_id": student.id, "relation": relation},
                 data={"via": via, "request_id": request_id})
    events.user_bound.send(user_id, kind="parent")
    return True


def bind_proved(*, user: User, student: Student, relation: str | None) -> None:
    """A parent who proved a roster phone of ``student`` acts for them at once; a request of theirs
    still pending for this student is withdrawn (it counted in their cap and is answered now)."""
    if is_guardian(user.id, student.id):
        return
    now = clock.now()
    own = list(db.session.scalars(select(GuardianRequest).where(
        GuardianRequest.requester_id == user.id, GuardianRequest.student_id == student.id,
        GuardianRequest.status == PENDING)))
    if children_in_use(user.id, now) - sum(1 for r in own if r.expires_at > now) >= MAX_CHILDREN_PER_PARENT:
        raise TooManyChildren()
    add_guardian(user_id=user.id, student=student, relation=relation, actor_id=user.id, via="phone")
    for req in own:
        request_machine.fire(req, "withdraw", actor_id=user.id, roles={REQUESTER},
                             data={"student_id": student.id, "reason": "phone_proved"})
        timers.cancel(EXPIRY_TIMER, req.id)


def _remove(guardianship: Guardianship, *, actor_id: int, reason: str) -> None:
    before = {"user_id": guardianship.user_id, "student_id": guardianship.student_id,
              "relation": guardianship.relation}
    db.session.execute(delete(Guardianship).where(Guardianship.id == guardianship.id))
    audit.record("guardianship", guardianship.id, "unbind", actor_id=actor_id, before=before, data={"by": reason})
    events.guardian_removed.send(guardianship.user_id, student_id=guardianship.student_id, by=reason)


def leave_child(*, actor: Actor, student_id: int) -> None:
    """A parent stops acting for one of their children."""
    guardianship = db.session.scalar(select(Guardianship).where(
        Guardianship.user_id == actor.user_id, Guardianship.student_id == student_id))
    if guardianship is None:
        raise GuardianNotFound()
    _remove(guardianship, actor_id=actor.user_id, reason=REQUESTER)


# --- who is who on a request -------------------------------------------------------------------------------


def head_teacher_of(student: Student) -> int | None:
    """The staff id of the student's head teacher, if that staff member is active."""
    staff_id = student.school_class.head_teacher_id
    if staff_id is None:
        return None
    active = db.session.scalar(select(StaffMember.active).where(StaffMember.id == staff_id))
    return staff_id if active else None


def relation_to_student(actor: Actor, student: Student) -> set[str]:
    """``student`` (the actor is bound to this student), ``class_teacher`` (the actor heads the class)
    and ``admin``: who may decide about this student's parents."""
    roles = set()
    if actor.student_id is not None and actor.student_id == student.id:
        roles.add(STUDENT)
    if actor.staff_id is not None and head_teacher_of(student) == actor.staff_id:
        roles.add(CLASS_TEACHER)
    if actor.is_admin:
        roles.add(ADMIN)
    return roles


def roles_on(actor: Actor, req: GuardianRequest, student: Student | None) -> set[str]:
    """The actor's roles relative to ``req``. The requester is only the requester: a class teacher
    asking to be the parent of a pupil, or an admin, does not approve their own request."""
    if req.requester_id == actor.user_id:
        return {REQUESTER}
    return relation_to_student(actor, student) if student is not None else set()


def _decidable(actor: Actor) -> Any:
    """A condition on ``GuardianRequest`` (joined with ``Student`` and ``SchoolClass``): the requests
    ``actor`` may see as a decider."""
    if actor.is_admin:
        return GuardianRequest.student_id.is_not(None)
    conditions = []
    if actor.student_id is not None:
        conditions.append(GuardianRequest.student_id == actor.student_id)
    if actor.staff_id is not None:
        conditions.append(SchoolClass.head_teacher_id == actor.staff_id)
    return or_(*conditions) if conditions else GuardianRequest.id.is_(None)


def _decider_user_ids(student: Student, *, excluding: int) -> list[int]:
    """Who is told of a new request: the student's user and the class teacher's, if active."""
    conditions = [User.student_id == student.id]
    head = head_teacher_of(student)
    if head is not None:
        conditions.append(User.staff_id == head)
    ids = db.session.scalars(select(User.id).where(User.active.is_(True), or_(*conditions), User.id != excluding))
    return sorted(set(ids))


# --- asking ------------------------------------------------------------------------------------------------


def normalised(number: str, name: str) -> tuple[str, str]:
    """学号 and 姓名 as stored and compared: the number stripped, the name without any spaces."""
    return number.strip(), "".join(name.split())


def request_guardianship(*, user: User, number: str, name: str, student: Student | None,
                         relation: str | None) -> GuardianRequest:
    """Ask to act for the student the requester named. ``student`` is who ``number`` and ``name``
    matched on the roster, or None. One shape whatever the roster says: a request that matched nobody,
    or a child this user already has, is stored without a student (its requester sees it pending; it
    expires); asking again while one is pending for the same 学号 and 姓名 answers that one."""
    now = clock.now()
    number, name = normalised(number, name)
    existing = _pending_by(user.id, number, name, now)
    if existing is not None:
        return existing
    if children_in_use(user.id, now) >= MAX_CHILDREN_PER_PARENT:
        raise TooManyChildren()
    if student is not None and is_guardian(user.id, student.id):
        student = None
    if student is not None:
        _lock_student(student.id)
        if _guardian_count(student.id) + _pending_for_student(student.id, now) >= MAX_GUARDIANS_PER_STUDENT:
            raise GuardiansFull()
    expires_at = now + timedelta(days=GUARDIAN_REQUEST_DAYS)
    request_id = db.session.execute(
        insert(GuardianRequest).values(
            requester_id=user.id, student_id=student.id if student is not None else None, student_number=number,
            student_name=name, relation=relation, status=PENDING, expires_at=expires_at,
            created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["requester_id", "student_number", "student_name"],
                                index_where=GuardianRequest.status == PENDING)
        .returning(GuardianRequest.id)
    ).scalar()
    if request_id is None:  # the same request, sent twice at once: the other one is it
        return _pending_by(user.id, number, name, None)
    req = db.session.get(GuardianRequest, request_id)
    audit.record("guardian_request", req.id, "request", actor_id=user.id, after={"status": PENDING},
                 data={"student_id": req.student_id, "student_number": number, "relation": relation})
    timers.schedule(EXPIRY_TIMER, req.id, expires_at)
    if student is not None:
        events.guardian_requested.send(
            req.id, requester_id=user.id, student_id=student.id, student_name=student.name,
            class_name=student.school_class.name, relation=relation, requester=_requester_name(user),
            decider_ids=_decider_user_ids(student, excluding=user.id))
    return req


def _pending_by(user_id: int, number: str, name: str, now: datetime | None) -> GuardianRequest | None:
    stmt = select(GuardianRequest).where(
        GuardianRequest.requester_id == user_id, GuardianRequest.student_number == number,
        GuardianRequest.student_name == name, GuardianRequest.status == PENDING)
    req = db.session.scalar(stmt)
    if req is not None and now is not None and req.expires_at <= now:
        return None  # past its time, the timer has not caught up yet: a new request replaces it
    return req


def _requester_name(user: User) -> str:
    return user.nickname or (f"尾号{user.phone[-4:]}的家长" if user.phone else "一位家长")


# --- deciding ---------------------------------------------------------------------------------------------


def _load(request_id: int) -> tuple[GuardianRequest | None, Student | None]:
    req = db.session.get(GuardianRequest, request_id)
    if req is None:
        return None, None
    student = db.session.get(Student, req.student_id) if req.student_id is not None else None
    return req, student


def _for_decider(actor: Actor, request_id: int) -> tuple[GuardianRequest, Student, set[str]]:
    req, student = _load(request_id)
    roles = roles_on(actor, req, student) if req is not None else set()
    if req is None or student is None or not roles.intersection(DECIDERS):
        raise RequestNotFound()
    return req, student, roles


def decide(*, actor: Actor, request_id: int, approve: bool) -> GuardianRequest:
    """The student, the class teacher or an admin approves (the guardianship is made) or rejects.
    The same decider deciding the same way again is ignored; anything else on a decided request is 409.
    The requester's own cap needs no check here: their pending request already counted in it."""
    req, student, roles = _for_decider(actor, request_id)
    now = clock.now()
    if req.status == PENDING and req.expires_at <= now:
        raise RequestExpired()
    if approve and req.status == PENDING:
        _lock_student(student.id)  # before the request's row, the order every binding takes
    decided_as = next(r for r in DECIDERS if r in roles)
    fired = request_machine.fire(
        req, "approve" if approve else "reject", actor_id=actor.user_id, roles=roles,
        repeat={"decided_by": actor.user_id},
        values={"decided_by": actor.user_id, "decided_as": decided_as, "decided_at": now},
        data={"student_id": student.id, "requester_id": req.requester_id, "as": decided_as})
    if fired.ignored:
        return req
    timers.cancel(EXPIRY_TIMER, req.id)
    if approve:  # past the cap: GuardiansFull, and the decision rolls back with it
        add_guardian(user_id=req.requester_id, student=student, relation=req.relation, actor_id=actor.user_id,
                     via="approval", request_id=req.id)
    events.guardian_request_closed.send(req.id, requester_id=req.requester_id, status=req.status,
                                        student_name=req.student_name)
    return req


def withdraw(*, actor: Actor, request_id: int) -> GuardianRequest:
    """The requester takes their request back (a second tap is ignored)."""
    req = db.session.get(GuardianRequest, request_id)
    if req is None or req.requester_id != actor.user_id:
        raise RequestNotFound()
    fired = request_machine.fire(req, "withdraw", actor_id=actor.user_id, roles={REQUESTER}, repeat=True,
                                 data={"student_id": req.student_id})
    if not fired.ignored:
        timers.cancel(EXPIRY_TIMER, req.id)
    return req


def expire(request_id: int) -> bool:
    """The expiry timer: a request still pending is expired and its requester told; else nothing."""
    req = db.session.get(GuardianRequest, request_id)
    if req is None or req.status != PENDING:
        return False
    request_machine.fire(req, "expire", actor_id=None, roles={SYSTEM}, data={"student_id": req.student_id})
    events.guardian_request_closed.send(req.id, requester_id=req.requester_id, status=req.status,
                                        student_name=req.student_name)
    return True


# --- reading ----------------------------------------------------------------------------------------------


def shown_status(req: GuardianRequest, now: datetime) -> str:
    """A pending request past its time reads as expired before the timer has caught up."""
    if req.status == PENDING and req.expires_at <= now:
        return str(GuardianRequestStatus.EXPIRED)
    return req.status


@dataclass
class MyRequest:
    """What a requester sees of their own request: what they typed, never what the roster says."""

    id: int
    student_number: str
    student_name: str
    relation: str | None
    status: str
    status_label: str
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None


def my_request_view(req: GuardianRequest, now: datetime | None = None) -> MyRequest:
    status = shown_status(req, now or clock.now())
    return MyRequest(id=req.id, student_number=req.student_number, student_name=req.student_name,
                     relation=req.relation, status=status,
                     status_label=GUARDIAN_REQUEST_LABELS[GuardianRequestStatus(status)],
                     created_at=req.created_at, expires_at=req.expires_at, decided_at=req.decided_at)


def my_requests(*, actor: Actor, params: PageParams, status: str | None = None) -> list[MyRequest]:
    """The actor's own requests, newest first (``status=pending``: those still waiting)."""
    now = clock.now()
    stmt = select(GuardianRequest).where(GuardianRequest.requester_id == actor.user_id) \
        .order_by(GuardianRequest.id.desc())
    stmt = _with_status(stmt, status, now)
    return [my_request_view(req, now) for req in paginate(stmt, params)]


def _with_status(stmt, status: str | None, now: datetime):
    """``status`` as ``shown_status`` reads it; ``done``: every one but pending; None: all."""
    waiting = and_(GuardianRequest.status == PENDING, GuardianRequest.expires_at > now)
    if status == PENDING:
        return stmt.where(waiting)
    if status == "done":
        return stmt.where(~waiting)
    if status == GuardianRequestStatus.EXPIRED:
        return stmt.where(or_(GuardianRequest.status == status,
                              and_(GuardianRequest.status == PENDING, GuardianRequest.expires_at <= now)))
    if status:
        return stmt.where(GuardianRequest.status == status)
    return stmt


@dataclass
class DeciderView:
    """What the student, the class teacher or an admin sees of a request."""

    id: int
    status: str
    status_label: str
    relation: str | None
    requester_name: str
    requester_phone_masked: str | None
    student_id: int
    student_name: str
    student_number: str
    class_name: str
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    actions: list[str]


def decider_view(actor: Actor, req: GuardianRequest, student: Student, requester: User,
                 now: datetime | None = None) -> DeciderView:
    status = shown_status(req, now or clock.now())
    roles = roles_on(actor, req, student)
    return DeciderView(
        id=req.id, status=status, status_label=GUARDIAN_REQUEST_LABELS[GuardianRequestStatus(status)],
        relation=req.relation, requester_name=_requester_name(requester), requester_phone_masked=mask_phone(
            requester.phone), student_id=student.id, student_name=student.name, student_number=student.number,
        class_name=student.school_class.name, created_at=req.created_at, expires_at=req.expires_at,
        decided_at=req.decided_at, decided_by=DECIDER_LABELS.get(req.decided_as or ""),
        actions=request_machine.actions_for(status, roles) if status == PENDING else [])


def requests_to_decide(*, actor: Actor, params: PageParams, status: str | None = PENDING) -> list[DeciderView]:
    """Requests about the actor's own student record, the classes they head, or (admins) every
    student, newest first; ``status`` defaults to pending (``done``: decided, withdrawn or expired)."""
    now = clock.now()
    stmt = (select(GuardianRequest, Student, User)
            .join(Student, Student.id == GuardianRequest.student_id)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .join(User, User.id == GuardianRequest.requester_id)
            .where(_decidable(actor), GuardianRequest.requester_id != actor.user_id)
            .order_by(GuardianRequest.id.desc()))
    stmt = _with_status(stmt, status, now)
    return [decider_view(actor, req, student, requester, now)
            for req, student, requester in paginate(stmt, params, scalars=False)]


def pending_to_decide(actor: Actor) -> int:
    """How many requests wait for the actor (the badge on 我的)."""
    stmt = (select(func.count()).select_from(GuardianRequest)
            .join(Student, Student.id == GuardianRequest.student_id)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .where(_decidable(actor), GuardianRequest.requester_id != actor.user_id,
                   GuardianRequest.status == PENDING, GuardianRequest.expires_at > clock.now()))
    return db.session.scalar(stmt) or 0


def decides_guardians(actor: Actor) -> bool:
    """Whether the actor is a student or heads a class (who 家长绑定申请 on 我的 is for)."""
    if actor.student_id is not None:
        return True
    return actor.staff_id is not None and db.session.scalar(
        select(SchoolClass.id).where(SchoolClass.head_teacher_id == actor.staff_id).limit(1)) is not None


def get_request(*, actor: Actor, request_id: int) -> DeciderView:
    req, student, _roles = _for_decider(actor, request_id)
    return decider_view(actor, req, student, db.session.get(User, req.requester_id))


# --- a student's parents -----------------------------------------------------------------------------------


@dataclass
class GuardianView:
    user_id: int
    name: str
    relation: str | None
    phone_masked: str | None
    since: datetime


@dataclass
class StudentGuardians:
    student_id: int
    student_name: str
    class_name: str
    guardians: list[GuardianView]
    max_guardians: int
    roster_phones_masked: list[str]


def _student_for_decider(actor: Actor, student_id: int) -> Student:
    student = db.session.get(Student, student_id)
    if student is None or not relation_to_student(actor, student):
        raise NotFound("users.student_not_found", "未找到该学生")
    return student


def student_guardians(*, actor: Actor, student_id: int) -> StudentGuardians:
    """The parents bound to a student, for the student, the class teacher or an admin."""
    student = _student_for_decider(actor, student_id)
    rows = db.session.execute(select(Guardianship, User).join(User, User.id == Guardianship.user_id)
                              .where(Guardianship.student_id == student.id).order_by(Guardianship.id)).all()
    return StudentGuardians(
        student_id=student.id, student_name=student.name, class_name=student.school_class.name,
        guardians=[GuardianView(user_id=user.id, name=_requester_name(user), relation=g.relation,
                                phone_masked=mask_phone(user.phone), since=g.created_at) for g, user in rows],
        max_guardians=MAX_GUARDIANS_PER_STUDENT, roster_phones_masked=student.parent_phones_masked)


def remove_guardian(*, actor: Actor, student_id: int, user_id: int) -> None:
    """The student, the class teacher or an admin unbinds a parent (a stranger who got in, a parent
    replaced): audited, and the parent is told."""
    student = _student_for_decider(actor, student_id)
    guardianship = db.session.scalar(select(Guardianship).where(
        Guardianship.student_id == student.id, Guardianship.user_id == user_id))
    if guardianship is None:
        raise GuardianNotFound()
    roles = relation_to_student(actor, student)
    _remove(guardianship, actor_id=actor.user_id, reason=next(r for r in DECIDERS if r in roles))


# --- head teachers -----------------------------------------------------------------------------------------


def set_head_teacher(*, actor: Actor, class_id: int, staff_number: str | None) -> SchoolClass:
    """An admin names (or, with None, clears) a class's head teacher; audited."""
    require_roles(actor, "admin")
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None:
        raise NotFound("users.class_not_found", "未找到该班级")
    staff_id = None
    if staff_number:
        staff_id = db.session.scalar(select(StaffMember.id).where(
            StaffMember.number == staff_number.strip(), StaffMember.active.is_(True)))
        if staff_id is None:
            raise ValidationFailed("users.staff_not_found", "未找到该工号的在职教职工",
                                   errors={"staff_number": ["未找到该工号的在职教职工"]})
    before = school_class.head_teacher_id
    school_class.head_teacher_id = staff_id
    db.session.flush()
    audit.record("school_class", school_class.id, "set_head_teacher", actor_id=actor.user_id,
                 before={"head_teacher_id": before}, after={"head_teacher_id": staff_id})
    return school_class
