"""Repairs: reporting with photos, dispatch, the workflow, deadlines that escalate, completion with
materials, ratings, and statistics. Keyword-only functions taking the actor explicitly; they flush,
never commit (the entry point owns the transaction).

Decisions worth knowing:

* **Photos are uploaded first** (``upload_photo``: an unattached photo owned by the uploader), then
  referenced by id in the report or the completion — a phone uploads each photo as it is picked, with
  progress, and the report itself stays a small JSON request. Upload checks and re-encoding happen in
  the request (``app.core.images``: the reporter learns at once that a file is not a photo); the
  thumbnail is made by a job. Unclaimed uploads are deleted by the sweep after a day.
* **Photos are served two ways.** ``GET /repairs/photos/{id}`` checks access for API clients with a
  bearer token. The mini-program's ``<image>`` cannot send headers, so details carry short-lived signed
  URLs (``REPAIRS_PHOTO_URL_TTL``) minted only for people allowed to see the photo: presigned S3 URLs
  when the storage is a bucket, else ``/repairs/photo-files/<token>`` served by the API. Who may see
  photos: the uploader, the reporter, the assigned worker, dispatchers and admins — not a linked
  reporter or a pool worker who has not taken the job.
* **Dispatch** resolves a worker group from the most specific rule (category × building), then either
  assigns the on-duty member with the least open work (``auto``) or tells every on-duty member and lets
  the first to accept take it (``pool``). Members are picked with ``FOR UPDATE SKIP LOCKED`` so reports
  dispatched at the same moment spread over different workers instead of all landing on the one who
  looked least busy; nobody waits on a lock. Nobody available: the repair stays in the queue, the
  dispatchers are told, and the sweep tries again when someone comes on duty.
* **Deadlines** are rows (``RepairDeadline``): accept / arrive / finish, each at level 1 (the deadline)
  and level 2 (the same span again). One timer per repair waits for the deadline that can escalate next
  and re-checks when it fires; every step re-arms it for the next one (a chain: a report schedules one
  job, not six), and the periodic sweep catches a lost timer. Escalating is a conditional UPDATE of ``escalated_at`` and
  the notifications carry idempotency keys, so a timer and the sweep never notify twice. Level 1 tells
  the dispatchers (and reminds the worker); level 2 tells the admins (督办). Time on hold does not count
  against the finish deadline: leaving ``on_hold`` moves the open deadlines by the time spent there.
* **Duplicates**: a report for the same place and category while one is open links the reporter to the
  open one (they follow its progress; their photos join it) unless they insist, which creates a new
  repair that points at the open one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import current_app
from sqlalchemy import all_, and_, case, delete, exists, extract, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from app.core import audit, clock
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.images import make_thumbnail as _thumbnail_bytes
from app.core.images import process_upload
from app.core.jobs import enqueue_after_commit, schedule_after_commit
from app.core.pagination import PageParams, paginate
from app.core.sheets import write_workbook
from app.core.statemachine import ConcurrentChange, InvalidTransition, StateMachine
from app.core.storage import get_storage, new_key, sign_download, verify_download
from app.notifications import service as notifications
from app.notifications import templates
from app.notifications.templates import TemplateSpec
from app.places import service as places_service
from app.repairs import events
from app.repairs.models import (
    CalendarDay,
    DispatchRule,
    Material,
    Repair,
    RepairCategory,
    RepairDeadline,
    RepairFollower,
    RepairMaterialUse,
    RepairPhoto,
    SlaPolicy,
    WorkerGroup,
    WorkerGroupMember,
)
from app.repairs.sla import Calendar
from app.repairs.states import (
    ACTION_LABELS,
    ASSIGNEE,
    AUTO_CONFIRM_DAYS,
    AUTO_RATING,
    DEADLINE_LABELS,
    DEFAULT_SLA,
    GROUP_MEMBER,
    MAX_PHOTOS,
    MET_BY_ACTION,
    NOTIFY_REPORTER_ACTIONS,
    OPEN_STATUSES,
    REOPEN_DAYS,
    REPORTER,
    STAFF_ONLY_ACTIONS,
    STAFF_ONLY_DATA_ACTIONS,
    STATUS_LABELS,
    SYSTEM,
    TRANSITIONS,
    UNATTACHED_PHOTO_HOURS,
    URGENCY_LABELS,
    WORKER_LOAD_STATUSES,
    DeadlineKind,
    DispatchMode,
    Status,
    Urgency,
)
from app.users import service as users_service

log = logging.getLogger(__name__)

ENTITY = "repairs"
PHOTO_AUDIENCE = "repairs.photo"
DETAIL_PAGE = "packageRepairs/pages/detail/detail?id={repair_id}"
THUMBNAIL_JOB = "app.repairs.jobs.make_thumbnail"
CHECK_DEADLINE_JOB = "app.repairs.jobs.check_deadline"
AUTO_CONFIRM_JOB = "app.repairs.jobs.auto_confirm"
"""Jobs by dotted path: the job module imports this one."""

TASK = templates.register(TemplateSpec(
    event="repairs.task", title="维修任务提醒", page=DETAIL_PAGE,
    fields={"thing1": "title", "thing2": "place", "phrase3": "urgency_label", "time4": "at"},
))
"""To a worker: a task was assigned to them, or waits in their group's pool."""
STATUS_CHANGED = templates.register(TemplateSpec(
    event="repairs.status", title="报修进度通知", page=DETAIL_PAGE,
    fields={"thing1": "title", "phrase2": "state", "thing3": "body", "time4": "at"},
))
"""To the reporter (and linked reporters): their repair moved."""
ALERT = templates.register(TemplateSpec(
    event="repairs.alert", title="报修超时提醒", page=DETAIL_PAGE,
    fields={"thing1": "title", "thing2": "body", "time3": "due"},
))
"""To dispatchers and admins: a deadline was missed, or a repair found nobody to do it."""

machine = StateMachine(Repair, TRANSITIONS, entity=ENTITY, messages={
    "invalid_transition": "报修单当前状态不允许此操作",
    "concurrent_change": "报修单已被他人处理，请刷新后重试",
    "forbidden": "你不能对这张报修单执行此操作",
})

PHOTO_ROLES = frozenset({REPORTER, ASSIGNEE, "dispatcher", "admin"})
SEE_ROLES = frozenset({REPORTER, ASSIGNEE, GROUP_MEMBER, "follower", "dispatcher", "admin"})
FULL_PHONE_ROLES = frozenset({REPORTER, ASSIGNEE, "dispatcher", "admin"})
_OPEN = [str(s) for s in OPEN_STATUSES]
_LOAD = [str(s) for s in WORKER_LOAD_STATUSES]


class RepairNotFound(NotFound):
    error_code = "repairs.not_found"
    message = "报修单不存在"


class PhotoNotFound(NotFound):
    error_code = "repairs.photo_not_found"
    message = "照片不存在"


def _invalid(field_name: str, message: str, error_code: str = "repairs.invalid") -> ValidationFailed:
    return ValidationFailed(error_code, message, errors={field_name: [message]})


# --- configuration: categories, materials, calendar, SLA policies ----------------------------------------


def list_categories(*, include_inactive: bool = False) -> list[RepairCategory]:
    stmt = select(RepairCategory).order_by(RepairCategory.sort_order, RepairCategory.id)
    if not include_inactive:
        stmt = stmt.where(RepairCategory.active.is_(True))
    return list(db.session.scalars(stmt))


def _create_entry(actor: Actor, model: type, entity: str, unique: str, conflict: tuple[str, str],
                  values: dict[str, Any]):
    """Admins add a catalogue entry (category, material); ``unique`` names the field that may not repeat."""
    require_roles(actor, "admin")
    if db.session.scalar(select(model.id).where(getattr(model, unique) == values[unique])):
        raise Conflict(*conflict)
    entry = model(**values)
    db.session.add(entry)
    db.session.flush()
    audit.record(entity, entry.id, "create", actor_id=actor.user_id, after=_plain(values))
    return entry


def _update_entry(actor: Actor, model: type, entity: str, entry_id: int, not_found: tuple[str, str],
                  values: dict[str, Any]):
    require_roles(actor, "admin")
    entry = db.session.get(model, entry_id)
    if entry is None:
        raise NotFound(*not_found)
    before = {k: getattr(entry, k) for k in values}
    for key, value in values.items():
        setattr(entry, key, value)
    db.session.flush()
    audit.record(entity, entry.id, "update", actor_id=actor.user_id, before=before, after=_plain(values))
    return entry


def create_category(*, actor: Actor, **values: Any) -> RepairCategory:
    return _create_entry(actor, RepairCategory, "repair_category", "code",
                         ("repairs.category_exists", "类别编码已存在"), values)


def update_category(*, actor: Actor, category_id: int, **values: Any) -> RepairCategory:
    return _update_entry(actor, RepairCategory, "repair_category", category_id,
                         ("repairs.category_not_found", "类别不存在"), values)


def list_materials(*, actor: Actor, include_inactive: bool = False) -> list[Material]:
    require_roles(actor, "worker", "dispatcher", "admin")
    stmt = select(Material).order_by(Material.name)
    if not include_inactive:
        stmt = stmt.where(Material.active.is_(True))
    return list(db.session.scalars(stmt))


def create_material(*, actor: Actor, **values: Any) -> Material:
    return _create_entry(actor, Material, "repair_material", "name", ("repairs.material_exists", "材料名称已存在"),
                         values)


def update_material(*, actor: Actor, material_id: int, **values: Any) -> Material:
    return _update_entry(actor, Material, "repair_material", material_id,
                         ("repairs.material_not_found", "材料不存在"), values)


def calendar() -> Calendar:
    """The school's working-day calendar (weekends + the admin-managed exceptions)."""
    overrides = dict(db.session.execute(select(CalendarDay.day, CalendarDay.kind)).all())
    return Calendar(clock.school_zone(), overrides)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise _invalid("day", "日期格式应为 YYYY-MM-DD") from exc


def list_calendar(*, actor: Actor, year: int) -> list[CalendarDay]:
    require_roles(actor, "dispatcher", "admin")
    stmt = select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return list(db.session.scalars(stmt.order_by(CalendarDay.day)))


def set_calendar_day(*, actor: Actor, day: date, kind: str, name: str = "") -> CalendarDay:
    require_roles(actor, "admin")
    stmt = insert(CalendarDay).values(day=day, kind=kind, name=name)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["day"], set_={
        "kind": stmt.excluded.kind, "name": stmt.excluded.name, "updated_at": clock.now()}))
    row = db.session.scalars(select(CalendarDay).where(CalendarDay.day == day)).one()
    db.session.refresh(row)
    audit.record("repair_calendar", row.id, "set", actor_id=actor.user_id,
                 after={"day": day.isoformat(), "kind": kind, "name": name})
    return row


def delete_calendar_day(*, actor: Actor, day: date) -> None:
    require_roles(actor, "admin")
    removed = db.session.execute(delete(CalendarDay).where(CalendarDay.day == day).returning(CalendarDay.id)).first()
    if removed is None:
        raise NotFound("repairs.calendar_day_not_found", "该日期没有特殊安排")
    audit.record("repair_calendar", removed[0], "delete", actor_id=actor.user_id, before={"day": day.isoformat()})


def list_sla_policies(*, actor: Actor) -> list[SlaPolicy]:
    require_roles(actor, "dispatcher", "admin")
    stmt = select(SlaPolicy).order_by(SlaPolicy.category_id.nulls_first(), SlaPolicy.urgency)
    return list(db.session.scalars(stmt))


def put_sla_policy(*, actor: Actor, category_id: int | None, urgency: str, accept_span: str, arrive_span: str,
                   finish_span: str) -> SlaPolicy:
    """Create or replace the policy of (category or default, urgency). Applies to new reports (and to
    a repair whose urgency is changed); deadlines already set stay as promised."""
    require_roles(actor, "admin")
    if category_id is not None and db.session.get(RepairCategory, category_id) is None:
        raise _invalid("category_id", "类别不存在")
    policy = db.session.scalars(select(SlaPolicy).where(
        SlaPolicy.urgency == urgency,
        SlaPolicy.category_id.is_(None) if category_id is None else SlaPolicy.category_id == category_id)).first()
    spans = {"accept_span": accept_span, "arrive_span": arrive_span, "finish_span": finish_span}
    before = None
    if policy is None:
        policy = SlaPolicy(category_id=category_id, urgency=urgency, **spans)
        db.session.add(policy)
    else:
        before = {k: getattr(policy, k) for k in spans}
        for key, value in spans.items():
            setattr(policy, key, value)
    db.session.flush()
    audit.record("repair_sla_policy", policy.id, "put", actor_id=actor.user_id, before=before,
                 after={"category_id": category_id, "urgency": urgency, **spans})
    return policy


def sla_spans(category_id: int, urgency: str) -> dict[str, str]:
    """The spans for a new repair: the category's own policy, else the default policy, else the
    school's written policy (``DEFAULT_SLA``)."""
    policy = db.session.scalars(
        select(SlaPolicy)
        .where(SlaPolicy.urgency == urgency, or_(SlaPolicy.category_id == category_id, SlaPolicy.category_id.is_(None)))
        .order_by(SlaPolicy.category_id.nulls_last()).limit(1)
    ).first()
    if policy is None:
        return dict(DEFAULT_SLA[Urgency(urgency)])
    return {"accept": policy.accept_span, "arrive": policy.arrive_span, "finish": policy.finish_span}


# --- configuration: worker groups and dispatch rules ---------------------------------------------------------


@dataclass
class GroupView:
    id: int
    name: str
    dispatch_mode: str
    active: bool
    members: list[dict[str, Any]]


def group_view(group: WorkerGroup) -> GroupView:
    names = users_service.display_names(m.user_id for m in group.members)
    return GroupView(group.id, group.name, group.dispatch_mode, group.active,
                     [{"user_id": m.user_id, "name": names.get(m.user_id, ""), "on_duty": m.on_duty}
                      for m in group.members])


def list_groups(*, actor: Actor) -> list[GroupView]:
    require_roles(actor, "dispatcher", "admin")
    return [group_view(g) for g in db.session.scalars(select(WorkerGroup).order_by(WorkerGroup.id))]


def create_group(*, actor: Actor, name: str, dispatch_mode: str = DispatchMode.AUTO) -> GroupView:
    require_roles(actor, "dispatcher", "admin")
    if db.session.scalar(select(WorkerGroup.id).where(WorkerGroup.name == name)):
        raise Conflict("repairs.group_exists", "维修组名称已存在")
    group = WorkerGroup(name=name, dispatch_mode=str(dispatch_mode))
    db.session.add(group)
    db.session.flush()
    audit.record("repair_group", group.id, "create", actor_id=actor.user_id,
                 after={"name": name, "dispatch_mode": str(dispatch_mode)})
    return group_view(group)


def update_group(*, actor: Actor, group_id: int, **values: Any) -> GroupView:
    require_roles(actor, "dispatcher", "admin")
    group = _group(group_id)
    before = {k: getattr(group, k) for k in values}
    for key, value in values.items():
        setattr(group, key, value)
    db.session.flush()
    audit.record("repair_group", group.id, "update", actor_id=actor.user_id, before=before, after=_plain(values))
    return group_view(group)


def set_member(*, actor: Actor, group_id: int, user_id: int, on_duty: bool = True) -> GroupView:
    """Add a worker to a group, or set their on-duty flag. Coming on duty picks up queued work."""
    require_roles(actor, "dispatcher", "admin")
    group = _group(group_id)
    if not users_service.with_role([user_id], "worker"):
        raise _invalid("user_id", "该用户不是在职维修工", "repairs.not_a_worker")
    stmt = insert(WorkerGroupMember).values(group_id=group.id, user_id=user_id, on_duty=on_duty)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["group_id", "user_id"], set_={"on_duty": on_duty, "updated_at": clock.now()}))
    audit.record("repair_group", group.id, "set_member", actor_id=actor.user_id,
                 after={"user_id": user_id, "on_duty": on_duty})
    db.session.expire(group)
    if on_duty:
        redispatch_queued(group_id=group.id)
    return group_view(group)


def remove_member(*, actor: Actor, group_id: int, user_id: int) -> GroupView:
    require_roles(actor, "dispatcher", "admin")
    group = _group(group_id)
    done = db.session.execute(delete(WorkerGroupMember).where(
        WorkerGroupMember.group_id == group.id, WorkerGroupMember.user_id == user_id)).rowcount
    if not done:
        raise NotFound("repairs.member_not_found", "该维修工不在此组")
    audit.record("repair_group", group.id, "remove_member", actor_id=actor.user_id, before={"user_id": user_id})
    db.session.expire(group)
    return group_view(group)


def _group(group_id: int) -> WorkerGroup:
    group = db.session.get(WorkerGroup, group_id)
    if group is None:
        raise NotFound("repairs.group_not_found", "维修组不存在")
    return group


@dataclass
class WorkerView:
    user_id: int
    name: str
    open_count: int
    groups: list[dict[str, Any]]


def list_workers(*, actor: Actor) -> list[WorkerView]:
    """Every active worker with their open work and groups: the dispatcher's assign picker."""
    require_roles(actor, "dispatcher", "admin")
    workers = set(users_service.users_with_roles("worker"))
    names = users_service.display_names(workers)
    loads = dict(db.session.execute(
        select(Repair.assignee_id, func.count()).where(Repair.assignee_id.in_(workers), Repair.status.in_(_LOAD))
        .group_by(Repair.assignee_id)).all()) if workers else {}
    memberships: dict[int, list[dict[str, Any]]] = {}
    rows = db.session.execute(select(WorkerGroupMember, WorkerGroup.name).join(WorkerGroup).where(
        WorkerGroupMember.user_id.in_(workers))).all() if workers else []
    for member, group_name in rows:
        memberships.setdefault(member.user_id, []).append(
            {"id": member.group_id, "name": group_name, "on_duty": member.on_duty})
    return sorted((WorkerView(uid, names.get(uid, ""), loads.get(uid, 0), memberships.get(uid, []))
                   for uid in workers), key=lambda w: (w.open_count, w.user_id))


def list_rules(*, actor: Actor) -> list[DispatchRule]:
    require_roles(actor, "dispatcher", "admin")
    stmt = select(DispatchRule).order_by(DispatchRule.category_id.nulls_last(), DispatchRule.building_id.nulls_last())
    return list(db.session.scalars(stmt))


def put_rule(*, actor: Actor, category_id: int | None, building_id: int | None, group_id: int) -> DispatchRule:
    """Send (category or any) × (building or any) to a group; replaces the rule of the same scope."""
    require_roles(actor, "dispatcher", "admin")
    _group(group_id)
    if category_id is not None and db.session.get(RepairCategory, category_id) is None:
        raise _invalid("category_id", "类别不存在")
    if building_id is not None:
        try:
            building = places_service.get_place(building_id)
        except NotFound as exc:
            raise _invalid("building_id", "楼栋不存在") from exc
        if building.kind != "building":
            raise _invalid("building_id", "请选择楼栋")
    rule = db.session.scalars(select(DispatchRule).where(
        DispatchRule.category_id.is_(None) if category_id is None else DispatchRule.category_id == category_id,
        DispatchRule.building_id.is_(None) if building_id is None else DispatchRule.building_id == building_id,
    )).first()
    if rule is None:
        rule = DispatchRule(category_id=category_id, building_id=building_id, group_id=group_id)
        db.session.add(rule)
    else:
        rule.group_id = group_id
    db.session.flush()
    audit.record("repair_dispatch_rule", rule.id, "put", actor_id=actor.user_id,
                 after={"category_id": category_id, "building_id": building_id, "group_id": group_id})
    return rule


def delete_rule(*, actor: Actor, rule_id: int) -> None:
    require_roles(actor, "dispatcher", "admin")
    rule = db.session.get(DispatchRule, rule_id)
    if rule is None:
        raise NotFound("repairs.rule_not_found", "派单规则不存在")
    audit.record("repair_dispatch_rule", rule.id, "delete", actor_id=actor.user_id,
                 before={"category_id": rule.category_id, "building_id": rule.building_id, "group_id": rule.group_id})
    db.session.delete(rule)
    db.session.flush()


# --- photos ------------------------------------------------------------------------------------------------


def upload_photo(*, actor: Actor, data: bytes) -> dict[str, Any]:
    """Check and re-encode an uploaded photo (no EXIF, no trailing bytes), store it, and make it the
    uploader's unattached photo; the thumbnail follows from a job."""
    return photo_dict(_store_photo(actor, data))


def photo_dict(photo: RepairPhoto) -> dict[str, Any]:
    url, thumb_url = photo_urls(photo)
    return {"id": photo.id, "kind": photo.kind, "url": url, "thumb_url": thumb_url, "width": photo.width,
            "height": photo.height}


def _store_photo(actor: Actor, data: bytes) -> RepairPhoto:
    # fast: a baseline JPEG with standard tables. The progressive, optimised encode costs the reporter's
    # request ~100 ms more on a 1 MB photo for a file a few per cent smaller and a progressive display the
    # mini-program's <image> does not do; the thumbnails lists show are made by the job, the slow way.
    image = process_upload(data, fast=True)
    key = new_key("repairs")
    get_storage().put(key, image.data, image.content_type)
    photo = RepairPhoto(owner_id=actor.user_id, key=key, width=image.width, height=image.height,
                        size_bytes=len(image.data), sha256=image.sha256, created_at=clock.now())
    db.session.add(photo)
    db.session.flush()
    enqueue_after_commit(THUMBNAIL_JOB, photo.id)
    return photo


def add_photo(*, actor: Actor, repair_id: int, data: bytes) -> dict[str, Any]:
    """Upload a photo straight onto an existing repair: the reporter adds to the report while it is
    open, the assigned worker adds after-photos while working."""
    repair, roles = _visible(actor, repair_id)
    if ASSIGNEE in roles and repair.status in (Status.IN_PROGRESS, Status.ON_HOLD):
        kind = "after"
    elif REPORTER in roles and repair.status in _OPEN:
        kind = "report"
    else:
        raise Conflict("repairs.photos_closed", "当前状态不能再添加照片")
    if _photo_count(repair.id, kind) >= MAX_PHOTOS:
        raise ValidationFailed("repairs.too_many_photos", f"最多 {MAX_PHOTOS} 张照片")
    photo = _store_photo(actor, data)
    photo.repair_id, photo.kind = repair.id, kind
    db.session.flush()
    audit.record(ENTITY, repair.id, "add_photos", actor_id=actor.user_id, data={"photos": [photo.id], "kind": kind})
    return photo_dict(photo)


def _photo_count(repair_id: int, kind: str) -> int:
    return db.session.scalar(select(func.count()).select_from(RepairPhoto).where(
        RepairPhoto.repair_id == repair_id, RepairPhoto.kind == kind)) or 0


def _claim_photos(actor: Actor, photo_ids: list[int], repair: Repair, kind: str, *,
                  room: int | None = None) -> list[int]:
    """Attach the actor's unattached photos to ``repair``; unknown, foreign or used ids are a 422."""
    ids = list(dict.fromkeys(photo_ids))
    if not ids:
        return []
    if len(ids) > MAX_PHOTOS:
        raise _invalid("photo_ids", f"最多 {MAX_PHOTOS} 张照片", "repairs.too_many_photos")
    mine = set(db.session.scalars(select(RepairPhoto.id).where(
        RepairPhoto.id.in_(ids), RepairPhoto.owner_id == actor.user_id, RepairPhoto.repair_id.is_(None))))
    if mine != set(ids):
        raise _invalid("photo_ids", "照片不存在或已使用，请重新上传", "repairs.invalid_photos")
    if room is not None:
        ids = ids[:max(room, 0)]
    if ids:
        db.session.execute(update(RepairPhoto).where(RepairPhoto.id.in_(ids), RepairPhoto.repair_id.is_(None))
                           .values(repair_id=repair.id, kind=kind))
        db.session.expire(repair, ["photos"])
    return ids


@dataclass(frozen=True)
class PhotoFile:
    """What the API streams or redirects to."""

    key: str
    url: str | None  # a presigned URL when the storage gives one


def photo_file(*, actor: Actor, photo_id: int, thumb: bool = False) -> PhotoFile:
    photo = db.session.get(RepairPhoto, photo_id)
    if photo is None or not _may_see_photo(actor, photo):
        raise PhotoNotFound()
    key = photo.thumb_key if thumb and photo.thumb_key else photo.key
    return PhotoFile(key, get_storage().url(key, expires_in=photo_url_ttl()))


def signed_photo_file(*, token: str) -> PhotoFile:
    """The key a signed photo URL grants (forged: 404; expired: 403 ``uploads.link_expired``)."""
    return PhotoFile(verify_download(token, audience=PHOTO_AUDIENCE), None)


def _may_see_photo(actor: Actor, photo: RepairPhoto) -> bool:
    if photo.owner_id == actor.user_id:
        return True
    if photo.repair_id is None:
        return False
    repair = db.session.get(Repair, photo.repair_id)
    return bool(_roles_on(actor, repair) & PHOTO_ROLES)


def photo_url_ttl() -> int:
    return int(current_app.config.get("REPAIRS_PHOTO_URL_TTL", 600))


def photo_urls(photo: RepairPhoto) -> tuple[str, str]:
    """Short-lived URLs of the photo and its thumbnail (the photo itself until the thumbnail exists)."""
    return _signed_url(photo.key), _signed_url(photo.thumb_key or photo.key)


def _signed_url(key: str) -> str:
    ttl = photo_url_ttl()
    direct = get_storage().url(key, expires_in=ttl)
    if direct:
        return direct
    return f"/api/v1/repairs/photo-files/{sign_download(key, expires_in=ttl, audience=PHOTO_AUDIENCE)}"


def make_thumbnail(photo_id: int) -> bool:
    """Job body: make the thumbnail once (a second run, or a deleted photo, does nothing)."""
    photo = db.session.get(RepairPhoto, photo_id)
    if photo is None or photo.thumb_key:
        return False
    storage = get_storage()
    thumb = _thumbnail_bytes(storage.get(photo.key))
    key = photo.key.removesuffix(".jpg") + "-thumb.jpg"
    storage.put(key, thumb, "image/jpeg")
    done = db.session.execute(update(RepairPhoto).where(RepairPhoto.id == photo.id, RepairPhoto.thumb_key.is_(None))
                              .values(thumb_key=key)).rowcount
    return bool(done)


# --- who is asking ------------------------------------------------------------------------------------------


def _member_groups(user_id: int) -> set[int]:
    return set(db.session.scalars(select(WorkerGroupMember.group_id).where(WorkerGroupMember.user_id == user_id)))


def _roles_on(actor: Actor, repair: Repair) -> set[str]:
    """The actor's roles plus their relation to this repair (see states.py)."""
    roles = set(actor.roles)
    if repair.reporter_id == actor.user_id:
        roles.add(REPORTER)
    if repair.assignee_id is not None and repair.assignee_id == actor.user_id:
        roles.add(ASSIGNEE)
    if (repair.status == Status.SUBMITTED and repair.assignee_id is None and repair.group_id is not None
            and "worker" in actor.roles and actor.user_id not in (repair.declined_by or [])
            and repair.group_id in _member_groups(actor.user_id)):
        roles.add(GROUP_MEMBER)
    if REPORTER not in roles and db.session.scalar(select(RepairFollower.id).where(
            RepairFollower.repair_id == repair.id, RepairFollower.user_id == actor.user_id)):
        roles.add("follower")
    return roles


def _visible(actor: Actor, repair_id: int) -> tuple[Repair, set[str]]:
    """The repair and the actor's roles on it; someone else's repair is the same 404 as none."""
    repair = db.session.get(Repair, repair_id)
    roles = _roles_on(actor, repair) if repair is not None else set()
    if repair is None or not (roles & SEE_ROLES):
        raise RepairNotFound()
    return repair, roles


# --- submitting ----------------------------------------------------------------------------------------------


def submit(*, actor: Actor, category_id: int, place_id: int, description: str, contact_phone: str,
           urgency: str = Urgency.NORMAL, preferred_time: str | None = None, photo_ids: list[int] | None = None,
           insist: bool = False) -> tuple[RepairView, bool]:
    """Report a problem. Returns ``(repair as the reporter sees it, linked)``: ``linked`` when an open
    repair of the same place and category absorbed the report (unless ``insist``)."""
    category = db.session.get(RepairCategory, category_id)
    if category is None or not category.active:
        raise _invalid("category_id", "请选择报修类别", "repairs.unknown_category")
    try:
        place = places_service.view(places_service.get_place(place_id))
    except NotFound as exc:
        raise _invalid("place_id", "请选择报修地点", "repairs.unknown_place") from exc
    photo_ids = list(photo_ids or [])
    now = clock.now()
    if not insist:
        existing = _open_duplicate(place.id, category.id)
        if existing is not None:
            _link(actor, existing, description, photo_ids)
            return detail_view(actor, existing), True
    building_id = next((p["id"] for p in place.path if p["kind"] == "building"), None)
    duplicate = _open_duplicate(place.id, category.id) if insist else None
    spans = sla_spans(category.id, str(urgency))
    plan = _deadline_plan(spans, now)
    group = resolve_group(category.id, building_id)
    repair = Repair(
        reporter_id=actor.user_id, category_id=category.id, place_id=place.id, place_name=place.full_name[:200],
        building_id=building_id, description=description, urgency=str(urgency), contact_phone=contact_phone,
        preferred_time=preferred_time or None, duplicate_of_id=duplicate.id if duplicate else None,
        status=str(Status.SUBMITTED), sla=spans, round_started_at=now, group_id=group.id if group else None,
        due_at=min(due for _kind, level, due in plan if level == 1), created_at=now, updated_at=now,
    )
    db.session.add(repair)
    db.session.flush()
    _claim_photos(actor, photo_ids, repair, "report")
    audit.record(ENTITY, repair.id, "submit", actor_id=actor.user_id, after={"status": repair.status},
                 data={"photos": photo_ids} | ({"duplicate_of": duplicate.id} if duplicate else {}))
    _add_deadlines(repair, plan)
    dispatch(repair)
    events.repair_submitted.send(repair.id, category_id=repair.category_id, place_id=repair.place_id)
    return detail_view(actor, repair, set(actor.roles) | {REPORTER}), False


def open_report(*, actor: Actor, place_id: int, category_id: int) -> dict[str, Any]:
    """For the report form: is this problem already reported and open? (Status and time only: who
    reported it and what they wrote are not for everyone.)"""
    existing = _open_duplicate(place_id, category_id)
    if existing is None:
        return {"open": False}
    return {"open": True, "repair_id": existing.id, "status": existing.status,
            "status_label": STATUS_LABELS[Status(existing.status)], "created_at": existing.created_at,
            "mine": existing.reporter_id == actor.user_id}


def _open_duplicate(place_id: int, category_id: int) -> Repair | None:
    return db.session.scalars(select(Repair).where(
        Repair.place_id == place_id, Repair.category_id == category_id, Repair.status.in_(_OPEN),
        Repair.duplicate_of_id.is_(None)).order_by(Repair.id).limit(1)).first()


def _link(actor: Actor, repair: Repair, note: str, photo_ids: list[int]) -> None:
    if repair.reporter_id == actor.user_id:
        added = _claim_photos(actor, photo_ids, repair, "report", room=MAX_PHOTOS - _photo_count(repair.id, "report"))
        if added:
            audit.record(ENTITY, repair.id, "add_photos", actor_id=actor.user_id, data={"photos": added})
        return
    inserted = db.session.execute(
        insert(RepairFollower).values(repair_id=repair.id, user_id=actor.user_id, note=note, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["repair_id", "user_id"]).returning(RepairFollower.id)
    ).first()
    added = _claim_photos(actor, photo_ids, repair, "report", room=MAX_PHOTOS - _photo_count(repair.id, "report"))
    if inserted is not None or added:
        audit.record(ENTITY, repair.id, "link", actor_id=actor.user_id, data={"note": note[:200], "photos": added})


# --- dispatch ----------------------------------------------------------------------------------------------


def resolve_group(category_id: int, building_id: int | None) -> WorkerGroup | None:
    """The group of the most specific matching rule whose group is active."""
    specificity = case((DispatchRule.category_id.is_not(None), 2), else_=0) + \
        case((DispatchRule.building_id.is_not(None), 1), else_=0)
    return db.session.scalars(
        select(WorkerGroup).join(DispatchRule, DispatchRule.group_id == WorkerGroup.id)
        .where(WorkerGroup.active.is_(True),
               or_(DispatchRule.category_id == category_id, DispatchRule.category_id.is_(None)),
               or_(DispatchRule.building_id == building_id, DispatchRule.building_id.is_(None)))
        .order_by(specificity.desc()).limit(1)
    ).first()


def _on_duty_members(group_id: int, exclude: Iterable[int] = ()) -> list[WorkerGroupMember]:
    """On-duty members who are still active workers, the least loaded (then longest idle) first."""
    load = (select(func.count()).select_from(Repair)
            .where(Repair.assignee_id == WorkerGroupMember.user_id, Repair.status.in_(_LOAD))
            .correlate(WorkerGroupMember).scalar_subquery())
    stmt = (select(WorkerGroupMember)
            .where(WorkerGroupMember.group_id == group_id, WorkerGroupMember.on_duty.is_(True))
            .order_by(load, WorkerGroupMember.last_assigned_at.asc().nulls_first(), WorkerGroupMember.id))
    exclude = set(exclude)
    if exclude:
        stmt = stmt.where(WorkerGroupMember.user_id.not_in(exclude))
    members = list(db.session.scalars(stmt))
    workers = users_service.with_role([m.user_id for m in members], "worker")
    return [m for m in members if m.user_id in workers]


def _pick_worker(group_id: int, exclude: Iterable[int], prefer: int | None) -> int | None:
    members = _on_duty_members(group_id, exclude)
    if not members:
        return None
    chosen = next((m for m in members if m.user_id == prefer), None)
    if chosen is None:
        for member in members:
            locked = db.session.scalar(select(WorkerGroupMember.id).where(WorkerGroupMember.id == member.id)
                                       .with_for_update(skip_locked=True))
            if locked is not None:
                chosen = member
                break
    if chosen is None:
        return members[0].user_id  # all being dispatched to right now: take the least loaded anyway
    db.session.execute(update(WorkerGroupMember).where(WorkerGroupMember.id == chosen.id)
                       .values(last_assigned_at=clock.now()))
    return chosen.user_id


def dispatch(repair: Repair, *, exclude: Iterable[int] = (), prefer: int | None = None,
             alert_queue: bool = True) -> int | None:
    """Find someone for a repair in the queue; returns the worker it was assigned to, if any."""
    if repair.status != Status.SUBMITTED or repair.assignee_id is not None:
        return None
    group = db.session.get(WorkerGroup, repair.group_id) if repair.group_id else None
    if group is None or not group.active:
        group = resolve_group(repair.category_id, repair.building_id)
        repair.group_id = group.id if group else None
        db.session.flush()
    if group is None:
        if alert_queue:
            _alert_queue(repair, "没有匹配的维修组，请人工派单")
        return None
    exclude = set(exclude) | set(repair.declined_by or [])
    if group.dispatch_mode == DispatchMode.POOL:
        members = _on_duty_members(group.id, exclude)
        for member in members:
            _notify_worker(repair, member.user_id, pool=True)
        if not members and alert_queue:
            _alert_queue(repair, f"{group.name}暂无在岗维修工，请人工派单")
        return None
    worker_id = _pick_worker(group.id, exclude, prefer)
    if worker_id is None:
        if alert_queue:
            _alert_queue(repair, f"{group.name}暂无在岗维修工，请人工派单")
        return None
    _fire(repair, "assign", actor_id=None, roles={SYSTEM}, expect={"assignee_id": None},
          values={"assignee_id": worker_id, "assigned_at": clock.now()}, data={"worker_id": worker_id, "auto": True})
    _notify_worker(repair, worker_id)
    return worker_id


def redispatch_queued(*, group_id: int | None = None, limit: int = 200) -> int:
    """Try again for repairs waiting in the queue (someone came on duty; the sweep)."""
    stmt = (select(Repair).where(Repair.status == Status.SUBMITTED, Repair.assignee_id.is_(None))
            .order_by(Repair.id).limit(limit))
    if group_id is not None:
        stmt = stmt.where(Repair.group_id == group_id)
    assigned = 0
    for repair in db.session.scalars(stmt).all():
        group = db.session.get(WorkerGroup, repair.group_id) if repair.group_id else None
        if group is not None and group.dispatch_mode == DispatchMode.POOL:
            continue  # pool work waits for someone to take it; they were told
        if dispatch(repair, alert_queue=False):
            _refresh_due(repair)
            assigned += 1
    return assigned


# --- the workflow ----------------------------------------------------------------------------------------------


def _fire(repair: Repair, action: str, *, actor_id: int | None, roles: Iterable[str],
          values: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
          expect: dict[str, Any] | None = None) -> None:
    machine.fire(repair, action, actor_id=actor_id, roles=roles, values={"step": Repair.step + 1, **(values or {})},
                 data=data, expect=expect)


def perform(*, actor: Actor, repair_id: int, action: str, **payload: Any) -> RepairView:
    """Run one workflow action for the actor (the action endpoints all come here); returns the repair as
    the actor now sees it."""
    try:
        repair, roles = _visible(actor, repair_id)
    except RepairNotFound:
        if action == "accept" and _was_in_my_pool(actor, repair_id):
            raise ConcurrentChange(f"{ENTITY}.concurrent_change", "已被其他师傅接单") from None
        raise
    transition = machine.target(repair.status, action)  # status and role first, then the payload's rules
    if transition is None:
        raise InvalidTransition(f"{ENTITY}.invalid_transition", machine.messages["invalid_transition"])
    if not transition.allows(roles):
        raise Forbidden(f"{ENTITY}.forbidden", machine.messages["forbidden"])
    _HANDLERS[action](actor, repair, roles, **payload)
    _refresh_due(repair)
    return detail_view(actor, repair)


def _was_in_my_pool(actor: Actor, repair_id: int) -> bool:
    """A pool task someone else took a moment ago: the late worker learns it was taken (409), not that it
    does not exist; nothing else about it is revealed."""
    repair = db.session.get(Repair, repair_id)
    return (repair is not None and repair.group_id is not None and "worker" in actor.roles
            and repair.group_id in _member_groups(actor.user_id))


def _assign(actor: Actor, repair: Repair, roles: set[str], *, worker_id: int, reason: str | None = None) -> None:
    _check_worker(worker_id)
    _fire(repair, "assign", actor_id=actor.user_id, roles=roles, expect={"assignee_id": None},
          values={"assignee_id": worker_id, "assigned_at": clock.now()},
          data={"worker_id": worker_id} | ({"reason": reason} if reason else {}))
    _notify_worker(repair, worker_id)


def _transfer(actor: Actor, repair: Repair, roles: set[str], *, worker_id: int, reason: str | None = None) -> None:
    _check_worker(worker_id)
    previous = repair.assignee_id
    if worker_id == previous:
        raise _invalid("worker_id", "已经是这位维修工", "repairs.same_worker")
    was_on_hold = repair.status == Status.ON_HOLD
    held_at = repair.held_at
    _fire(repair, "transfer", actor_id=actor.user_id, roles=roles, expect={"assignee_id": previous},
          values={"assignee_id": worker_id, "assigned_at": clock.now(), "held_at": None},
          data={"worker_id": worker_id, "from_worker_id": previous} | ({"reason": reason} if reason else {}))
    if was_on_hold:
        _end_hold(repair, held_at)
    _notify_worker(repair, worker_id)
    if previous is not None:
        notifications.notify(
            user_id=previous, event=TASK.event, title=f"任务已转派：{_title(repair)}",
            body=reason or "调度已将此任务转给其他师傅", data=_data(repair), link=_link_to(repair),
            idempotency_key=f"repairs:{repair.id}:{repair.step}:moved:{previous}")


def _check_worker(worker_id: int) -> None:
    if not users_service.with_role([worker_id], "worker"):
        raise _invalid("worker_id", "该用户不是在职维修工", "repairs.not_a_worker")


def _accept(actor: Actor, repair: Repair, roles: set[str]) -> None:
    now = clock.now()
    values = {"accepted_at": func.coalesce(Repair.accepted_at, now)}
    if repair.status == Status.SUBMITTED:  # taken from the group's pool
        values |= {"assignee_id": actor.user_id, "assigned_at": now}
        expect = {"assignee_id": None}
    else:
        expect = {"assignee_id": actor.user_id}
    _fire(repair, "accept", actor_id=actor.user_id, roles=roles, values=values, expect=expect)
    _meet(repair, "accept", now)
    _tell_reporters(repair, "accept", actor.user_id, f"{_name(actor.user_id)}已接单，将尽快上门")


def _decline(actor: Actor, repair: Repair, roles: set[str], *, reason: str) -> None:
    declined = sorted(set(repair.declined_by or []) | {actor.user_id})
    _fire(repair, "decline", actor_id=actor.user_id, roles=roles, expect={"assignee_id": actor.user_id},
          values={"assignee_id": None, "assigned_at": None, "declined_by": declined}, data={"reason": reason})
    dispatch(repair)


def _start(actor: Actor, repair: Repair, roles: set[str]) -> None:
    now = clock.now()
    _fire(repair, "start", actor_id=actor.user_id, roles=roles, expect={"assignee_id": actor.user_id},
          values={"started_at": now})
    _meet(repair, "start", now)
    _tell_reporters(repair, "start", actor.user_id, f"{_name(actor.user_id)}已到场维修")


def _hold(actor: Actor, repair: Repair, roles: set[str], *, reason: str) -> None:
    _fire(repair, "hold", actor_id=actor.user_id, roles=roles, expect={"assignee_id": actor.user_id},
          values={"held_at": clock.now()}, data={"reason": reason})
    _tell_reporters(repair, "hold", actor.user_id, f"暂停维修：{reason}")


def _resume(actor: Actor, repair: Repair, roles: set[str]) -> None:
    held_at = repair.held_at
    _fire(repair, "resume", actor_id=actor.user_id, roles=roles, expect={"assignee_id": actor.user_id},
          values={"held_at": None})
    _end_hold(repair, held_at)
    _tell_reporters(repair, "resume", actor.user_id, "已继续维修")


def _complete(actor: Actor, repair: Repair, roles: set[str], *, labour_minutes: int,
              materials: list[dict[str, Any]] | None = None, note: str | None = None,
              photo_ids: list[int] | None = None) -> None:
    lines = _material_lines(materials or [])
    cost = sum(line["cost_fen"] for line in lines)
    now = clock.now()
    photo_ids = list(photo_ids or [])
    if photo_ids and _photo_count(repair.id, "after") + len(set(photo_ids)) > MAX_PHOTOS:
        raise _invalid("photo_ids", f"最多 {MAX_PHOTOS} 张照片", "repairs.too_many_photos")
    _fire(repair, "complete", actor_id=actor.user_id, roles=roles, expect={"assignee_id": actor.user_id},
          values={"completed_at": now, "labour_minutes": func.coalesce(Repair.labour_minutes, 0) + labour_minutes,
                  "material_cost_fen": Repair.material_cost_fen + cost, "completion_note": note or None},
          data={"labour_minutes": labour_minutes, "material_cost_fen": cost, "photos": photo_ids})
    for line in lines:
        db.session.add(RepairMaterialUse(repair_id=repair.id, **line))
    _claim_photos(actor, photo_ids, repair, "after")
    db.session.flush()
    db.session.expire(repair, ["materials"])
    _meet(repair, "complete", now)
    schedule_after_commit(now + timedelta(days=AUTO_CONFIRM_DAYS), AUTO_CONFIRM_JOB, repair.id)
    _tell_reporters(repair, "complete", actor.user_id, "维修已完成，请确认并评价")


def _material_lines(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = {int(item["material_id"]) for item in items}
    catalogue = {m.id: m for m in db.session.scalars(
        select(Material).where(Material.id.in_(ids), Material.active.is_(True)))}
    unknown = sorted(ids - set(catalogue))
    if unknown:
        raise _invalid("materials", "材料不存在或已停用", "repairs.unknown_material")
    lines = []
    for item in items:
        material = catalogue[int(item["material_id"])]
        quantity = Decimal(str(item["quantity"])).quantize(Decimal("0.01"))
        cost = int((quantity * material.unit_cost_fen).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        lines.append({"material_id": material.id, "name": material.name, "unit": material.unit,
                      "quantity": quantity, "unit_cost_fen": material.unit_cost_fen, "cost_fen": cost})
    return lines


def _confirm(actor: Actor, repair: Repair, roles: set[str], *, rating: int, tags: list[str] | None = None,
             comment: str | None = None) -> None:
    now = clock.now()
    _fire(repair, "confirm", actor_id=actor.user_id, roles=roles,
          values={"rating": rating, "rating_tags": list(dict.fromkeys(tags or [])), "rating_comment": comment or None,
                  "rating_auto": False, "rated_at": now, "closed_at": now},
          data={"rating": rating})
    if repair.assignee_id:
        notifications.notify(
            user_id=repair.assignee_id, event=STATUS_CHANGED.event, title=f"报修已评价：{_title(repair)}",
            body=f"评分 {rating} 星" + (f"：{comment}" if comment else ""),
            data=_data(repair, state="已评价"), link=_link_to(repair),
            idempotency_key=f"repairs:{repair.id}:{repair.step}:rated")


def auto_confirm(repair_id: int) -> bool:
    """Job body: close a repair the reporter left unconfirmed for ``AUTO_CONFIRM_DAYS`` days, with the
    default rating flagged as automatic. Re-checks everything; a second run does nothing."""
    repair = db.session.get(Repair, repair_id)
    now = clock.now()
    if repair is None or repair.status != Status.COMPLETED or repair.completed_at is None:
        return False
    if repair.completed_at + timedelta(days=AUTO_CONFIRM_DAYS) > now:
        return False
    _fire(repair, "auto_confirm", actor_id=None, roles={SYSTEM}, expect={"completed_at": repair.completed_at},
          values={"rating": AUTO_RATING, "rating_tags": [], "rating_comment": None, "rating_auto": True,
                  "rated_at": now, "closed_at": now})
    _tell_reporters(repair, "auto_confirm", None, f"{AUTO_CONFIRM_DAYS}天未确认，系统已自动确认")
    return True


def _cancel(actor: Actor, repair: Repair, roles: set[str], *, reason: str | None = None) -> None:
    now = clock.now()
    assignee = repair.assignee_id
    _fire(repair, "cancel", actor_id=actor.user_id, roles=roles, values={"closed_at": now, "held_at": None},
          data={"reason": reason} if reason else None)
    db.session.execute(update(RepairDeadline).where(
        RepairDeadline.repair_id == repair.id, RepairDeadline.met_at.is_(None), RepairDeadline.voided_at.is_(None))
        .values(voided_at=now))
    _tell_reporters(repair, "cancel", actor.user_id, reason or "报修已取消")
    if assignee and assignee != actor.user_id:
        notifications.notify(
            user_id=assignee, event=TASK.event, title=f"任务已取消：{_title(repair)}", body=reason or "报修已取消",
            data=_data(repair), link=_link_to(repair), idempotency_key=f"repairs:{repair.id}:{repair.step}:cancelled")


def _reopen(actor: Actor, repair: Repair, roles: set[str], *, reason: str) -> None:
    now = clock.now()
    if repair.status == Status.CONFIRMED and repair.closed_at and repair.closed_at + timedelta(days=REOPEN_DAYS) < now:
        raise ValidationFailed("repairs.reopen_window", f"已超过{REOPEN_DAYS}天，请重新报修")
    previous = repair.assignee_id
    rating = {"rating": repair.rating, "rating_auto": repair.rating_auto} if repair.rating else {}
    _fire(repair, "reopen", actor_id=actor.user_id, roles=roles,
          values={"assignee_id": None, "assigned_at": None, "declined_by": [], "sla_round": Repair.sla_round + 1,
                  "round_started_at": now, "closed_at": None, "rating": None, "rating_tags": [],
                  "rating_comment": None, "rating_auto": False, "rated_at": None},
          data={"reason": reason, **rating})
    _add_deadlines(repair, _deadline_plan(repair.sla, now))
    _tell_reporters(repair, "reopen", actor.user_id, f"已重新报修：{reason}")
    dispatch(repair, prefer=previous)


_HANDLERS = {
    "assign": _assign, "transfer": _transfer, "accept": _accept, "decline": _decline, "start": _start,
    "hold": _hold, "resume": _resume, "complete": _complete, "confirm": _confirm, "cancel": _cancel,
    "reopen": _reopen,
}


def reprioritise(*, actor: Actor, repair_id: int, urgency: str, reason: str | None = None) -> RepairView:
    """A dispatcher changes the urgency: the deadlines not yet met follow the new policy, counted from the
    start of the round (audited; the worker is told when it became urgent)."""
    repair, _roles = _visible(actor, repair_id)
    require_roles(actor, "dispatcher", "admin", error_code="repairs.forbidden", message=machine.messages["forbidden"])
    if repair.status not in _OPEN:
        raise Conflict("repairs.invalid_transition", machine.messages["invalid_transition"])
    if repair.urgency == urgency:
        return detail_view(actor, repair)
    before = repair.urgency
    spans = sla_spans(repair.category_id, urgency)
    cal = calendar()
    for kind in DeadlineKind:
        due1 = cal.add(repair.round_started_at, spans[kind])
        due2 = cal.add(due1, spans[kind])
        for level, due in ((1, due1), (2, due2)):
            db.session.execute(update(RepairDeadline).where(
                RepairDeadline.repair_id == repair.id, RepairDeadline.round == repair.sla_round,
                RepairDeadline.kind == str(kind), RepairDeadline.level == level, RepairDeadline.met_at.is_(None))
                .values(due_at=due))
    repair.urgency, repair.sla = urgency, spans
    db.session.flush()
    audit.record(ENTITY, repair.id, "reprioritise", actor_id=actor.user_id, before={"urgency": before},
                 after={"urgency": urgency}, data={"reason": reason} if reason else None)
    _schedule_pending(repair)
    _refresh_due(repair)
    if urgency == Urgency.URGENT and repair.assignee_id:
        _notify_worker(repair, repair.assignee_id, upgraded=True)
    return detail_view(actor, repair)


# --- deadlines ------------------------------------------------------------------------------------------------


def _deadline_plan(spans: dict[str, str], start: datetime) -> list[tuple[str, int, datetime]]:
    """``(kind, level, due)`` of a round starting at ``start``: level 2 is the same span after level 1."""
    cal = calendar()
    plan = []
    for kind in DeadlineKind:
        due1 = cal.add(start, spans[kind])
        plan += [(str(kind), 1, due1), (str(kind), 2, cal.add(due1, spans[kind]))]
    return plan


def _add_deadlines(repair: Repair, plan: list[tuple[str, int, datetime]]) -> None:
    rows = [RepairDeadline(repair_id=repair.id, round=repair.sla_round, kind=kind, level=level, due_at=due)
            for kind, level, due in plan]
    db.session.add_all(rows)
    db.session.flush()
    _schedule_pending(repair, rows)


def _schedule_pending(repair: Repair, rows: list[RepairDeadline] | None = None) -> None:
    """One timer, for the deadline that can escalate next (a level 1, or a level 2 whose level 1 did).

    A chain rather than a timer per deadline: whatever moves the deadlines (a step met, an escalation, a
    resume, a new urgency) calls this again, and a timer that finds its deadline met or moved does nothing.
    The sweep catches a chain that broke (Redis lost the timer)."""
    rows = _deadlines(repair, current_round=True) if rows is None else rows
    escalated_first = {d.kind for d in rows if d.level == 1 and d.escalated_at is not None}
    pending = [d for d in rows if not (d.met_at or d.voided_at or d.escalated_at)
               and (d.level == 1 or d.kind in escalated_first)]
    if pending:
        first = min(pending, key=lambda d: (d.due_at, d.id))
        schedule_after_commit(first.due_at, CHECK_DEADLINE_JOB, first.id)


def _deadlines(repair: Repair, *, current_round: bool = False) -> list[RepairDeadline]:
    stmt = select(RepairDeadline).where(RepairDeadline.repair_id == repair.id)
    if current_round:
        stmt = stmt.where(RepairDeadline.round == repair.sla_round)
    stmt = stmt.order_by(RepairDeadline.round, RepairDeadline.id).execution_options(populate_existing=True)
    return list(db.session.scalars(stmt))  # fresh: deadlines change by conditional UPDATEs


def _meet(repair: Repair, action: str, when: datetime) -> None:
    """The step's deadlines are met; the timer moves on to the next one."""
    kind = MET_BY_ACTION[action]
    db.session.execute(update(RepairDeadline).where(
        RepairDeadline.repair_id == repair.id, RepairDeadline.round == repair.sla_round,
        RepairDeadline.kind == str(kind), RepairDeadline.met_at.is_(None), RepairDeadline.voided_at.is_(None))
        .values(met_at=when).execution_options(synchronize_session=False))
    _schedule_pending(repair)


def _end_hold(repair: Repair, held_at: datetime | None) -> None:
    """Time on hold does not count: push the open deadlines back by it and re-arm their timers."""
    if held_at is None:
        return
    paused = clock.now() - held_at
    db.session.execute(update(RepairDeadline).where(
        RepairDeadline.repair_id == repair.id, RepairDeadline.round == repair.sla_round,
        RepairDeadline.met_at.is_(None), RepairDeadline.voided_at.is_(None))
        .values(due_at=RepairDeadline.due_at + paused))
    _schedule_pending(repair)


def _refresh_due(repair: Repair) -> None:
    """``due_at`` = the earliest open level-1 deadline of the round (nothing while on hold or done)."""
    due = None
    if repair.status in _OPEN and repair.status != Status.ON_HOLD:
        due = db.session.scalar(select(func.min(RepairDeadline.due_at)).where(
            RepairDeadline.repair_id == repair.id, RepairDeadline.round == repair.sla_round,
            RepairDeadline.level == 1, RepairDeadline.met_at.is_(None), RepairDeadline.voided_at.is_(None)))
    if repair.due_at != due:
        repair.due_at = due
        db.session.flush()


def check_deadline(deadline_id: int) -> bool:
    """Job body: escalate this deadline if it is due and still unmet (re-checked; idempotent)."""
    deadline = db.session.get(RepairDeadline, deadline_id)
    if deadline is None or deadline.met_at or deadline.voided_at or deadline.escalated_at:
        return False
    repair = db.session.get(Repair, deadline.repair_id)
    if repair.sla_round != deadline.round or repair.status not in _OPEN or repair.status == Status.ON_HOLD:
        return False
    if deadline.due_at > clock.now():
        return False  # moved later (urgency lowered, time on hold): a newer timer watches it
    return _escalate(repair, deadline)


def _escalate(repair: Repair, deadline: RepairDeadline) -> bool:
    now = clock.now()
    won = db.session.execute(update(RepairDeadline).where(
        RepairDeadline.id == deadline.id, RepairDeadline.escalated_at.is_(None), RepairDeadline.met_at.is_(None),
        RepairDeadline.voided_at.is_(None)).values(escalated_at=now).returning(RepairDeadline.id)).first()
    if won is None:
        return False
    kind_label = DEADLINE_LABELS[DeadlineKind(deadline.kind)]
    level2 = deadline.level == 2
    recipients = users_service.users_with_roles("admin" if level2 else "dispatcher")
    title = f"{'督办' if level2 else '超时'}：{_title(repair)}"
    body = f"{kind_label}已超时（{STATUS_LABELS[Status(repair.status)]}）" + (
        f"，维修工：{_name(repair.assignee_id)}" if repair.assignee_id else "，尚无人接单")
    data = _data(repair, due=deadline.due_at.isoformat(), kind=deadline.kind, level=deadline.level)
    urgency = "urgent" if (level2 or repair.urgency == Urgency.URGENT) else "normal"
    for user_id in recipients:
        notifications.notify(user_id=user_id, event=ALERT.event, title=title, body=body, data=data,
                             link=_link_to(repair), urgency=urgency,
                             idempotency_key=f"repairs:deadline:{deadline.id}:{user_id}")
    if not level2 and repair.assignee_id:
        notifications.notify(user_id=repair.assignee_id, event=TASK.event, title=f"任务已超时：{_title(repair)}",
                             body=f"{kind_label}已超时，请尽快处理", data=_data(repair), link=_link_to(repair),
                             urgency=urgency, idempotency_key=f"repairs:deadline:{deadline.id}:worker")
    audit.record(ENTITY, repair.id, "escalate", actor_id=None,
                 data={"kind": deadline.kind, "level": deadline.level, "due_at": deadline.due_at.isoformat(),
                       "notified": len(recipients)})
    _schedule_pending(repair)
    events.deadline_missed.send(repair.id, kind=deadline.kind, level=deadline.level)
    return True


def sweep(*, limit: int = 500) -> dict[str, int]:
    """The periodic safety net: escalate deadlines whose timers were lost, auto-confirm what is due,
    retry dispatch for queued work, and delete photos nobody attached."""
    now = clock.now()
    due = db.session.execute(
        select(RepairDeadline.id)
        .join(Repair, Repair.id == RepairDeadline.repair_id)
        .where(RepairDeadline.due_at <= now, RepairDeadline.met_at.is_(None), RepairDeadline.escalated_at.is_(None),
               RepairDeadline.voided_at.is_(None), Repair.sla_round == RepairDeadline.round,
               Repair.status.in_(_OPEN), Repair.status != Status.ON_HOLD)
        .order_by(RepairDeadline.due_at).limit(limit)
    ).scalars().all()
    escalated = sum(1 for deadline_id in due if check_deadline(deadline_id))
    to_confirm = db.session.scalars(select(Repair.id).where(
        Repair.status == Status.COMPLETED, Repair.completed_at <= now - timedelta(days=AUTO_CONFIRM_DAYS))
        .order_by(Repair.id).limit(limit)).all()
    confirmed = 0
    for repair_id in to_confirm:
        try:
            confirmed += auto_confirm(repair_id)
        except (ConcurrentChange, InvalidTransition):
            pass  # the reporter confirmed at this very moment
    assigned = redispatch_queued()
    removed = _delete_unattached(now - timedelta(hours=UNATTACHED_PHOTO_HOURS), limit)
    return {"escalated": escalated, "auto_confirmed": confirmed, "dispatched": assigned, "photos_deleted": removed}


def _delete_unattached(before: datetime, limit: int) -> int:
    photos = db.session.scalars(select(RepairPhoto).where(RepairPhoto.repair_id.is_(None),
                                                          RepairPhoto.created_at < before).limit(limit)).all()
    storage = get_storage()
    for photo in photos:
        storage.delete(photo.key)
        if photo.thumb_key:
            storage.delete(photo.thumb_key)
        db.session.delete(photo)
    db.session.flush()
    return len(photos)


# --- notifications ---------------------------------------------------------------------------------------------


def _short_place(repair: Repair) -> str:
    parts = [p.strip() for p in repair.place_name.split("›")]
    return " ".join(parts[1:] if len(parts) > 1 else parts)


def _title(repair: Repair) -> str:
    return f"{repair.category.name} · {_short_place(repair)}"


def _data(repair: Repair, **extra: Any) -> dict[str, Any]:
    return {"repair_id": repair.id, "place": _short_place(repair),
            "urgency_label": URGENCY_LABELS[Urgency(repair.urgency)], "at": clock.now().isoformat(),
            "state": STATUS_LABELS[Status(repair.status)], **extra}


def _link_to(repair: Repair) -> str:
    return "/" + DETAIL_PAGE.format(repair_id=repair.id)


def _name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    return users_service.display_names([user_id]).get(user_id, "")


def _notify_worker(repair: Repair, user_id: int, *, pool: bool = False, upgraded: bool = False) -> None:
    prefix = "紧急任务" if upgraded else ("新任务待接单" if pool else "新维修任务")
    notifications.notify(
        user_id=user_id, event=TASK.event, title=f"{prefix}：{_title(repair)}", body=repair.description[:100],
        data=_data(repair), link=_link_to(repair),
        urgency="urgent" if repair.urgency == Urgency.URGENT else "normal",
        idempotency_key=f"repairs:{repair.id}:{repair.step}:task:{user_id}" + (":urgent" if upgraded else ""))


def _alert_queue(repair: Repair, body: str) -> None:
    for user_id in users_service.users_with_roles("dispatcher"):
        notifications.notify(
            user_id=user_id, event=ALERT.event, title=f"待派单：{_title(repair)}", body=body,
            data=_data(repair, due=(repair.due_at or clock.now()).isoformat()), link=_link_to(repair),
            urgency="urgent" if repair.urgency == Urgency.URGENT else "normal",
            idempotency_key=f"repairs:{repair.id}:{repair.step}:queue:{user_id}")


def _tell_reporters(repair: Repair, action: str, actor_id: int | None, body: str) -> None:
    if action not in NOTIFY_REPORTER_ACTIONS:
        return
    followers = db.session.scalars(select(RepairFollower.user_id).where(RepairFollower.repair_id == repair.id)).all()
    for user_id in dict.fromkeys([repair.reporter_id, *followers]):
        if user_id == actor_id:
            continue
        notifications.notify(
            user_id=user_id, event=STATUS_CHANGED.event,
            title=f"{STATUS_LABELS[Status(repair.status)]}：{_title(repair)}", body=body,
            data=_data(repair), link=_link_to(repair), idempotency_key=f"repairs:{repair.id}:{repair.step}:{user_id}")


# --- reading ----------------------------------------------------------------------------------------------------


@dataclass
class RepairView:
    """A repair as one person sees it (lists and the detail page)."""

    repair: Repair
    roles: set[str]
    names: dict[int, str]
    now: datetime
    photos: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repair, name)

    @property
    def staff(self) -> bool:
        return bool(self.roles & {"dispatcher", "admin", ASSIGNEE, GROUP_MEMBER})

    @property
    def overdue(self) -> bool:
        return self.repair.overdue_at(self.now)

    @property
    def reporter_name(self) -> str:
        return self.names.get(self.repair.reporter_id, "")

    @property
    def assignee_name(self) -> str | None:
        return self.names.get(self.repair.assignee_id) if self.repair.assignee_id else None

    @property
    def phone(self) -> str:
        phone = self.repair.contact_phone
        if self.roles & FULL_PHONE_ROLES:
            return phone
        return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"

    @property
    def pool(self) -> bool:
        return GROUP_MEMBER in self.roles

    @property
    def linked(self) -> bool:
        return "follower" in self.roles


def _views(actor: Actor, repairs: list[Repair]) -> list[RepairView]:
    names = users_service.display_names({r.reporter_id for r in repairs} | {r.assignee_id for r in repairs})
    now = clock.now()
    groups = _member_groups(actor.user_id) if "worker" in actor.roles else set()
    followed = set(db.session.scalars(select(RepairFollower.repair_id).where(
        RepairFollower.user_id == actor.user_id, RepairFollower.repair_id.in_([r.id for r in repairs]))))
    views = []
    for repair in repairs:
        roles = set(actor.roles)
        if repair.reporter_id == actor.user_id:
            roles.add(REPORTER)
        if repair.assignee_id == actor.user_id:
            roles.add(ASSIGNEE)
        if (repair.status == Status.SUBMITTED and repair.assignee_id is None and repair.group_id in groups
                and actor.user_id not in (repair.declined_by or [])):
            roles.add(GROUP_MEMBER)
        if repair.id in followed and REPORTER not in roles:
            roles.add("follower")
        views.append(RepairView(repair, roles, names, now))
    return views


def get_repair(*, actor: Actor, repair_id: int) -> RepairView:
    repair, roles = _visible(actor, repair_id)
    return detail_view(actor, repair, roles)


def detail_view(actor: Actor, repair: Repair, roles: set[str] | None = None) -> RepairView:
    roles = _roles_on(actor, repair) if roles is None else roles
    history = audit.history(ENTITY, repair.id)
    names = users_service.display_names({repair.reporter_id, repair.assignee_id} | {e.actor_id for e in history}
                                        | {(e.data or {}).get("worker_id") for e in history})
    view = RepairView(repair, roles, names, clock.now())
    staff = view.staff
    see_photos = bool(roles & PHOTO_ROLES)
    for photo in repair.photos:
        if see_photos or photo.owner_id == actor.user_id:
            view.photos.append(photo_dict(photo))
    for d in _deadlines(repair, current_round=True):
        if d.level != 1 or d.voided_at is not None:
            continue
        view.deadlines.append({
            "kind": d.kind, "label": DEADLINE_LABELS[DeadlineKind(d.kind)], "due_at": d.due_at, "met_at": d.met_at,
            "overdue": (d.met_at or view.now) > d.due_at, "escalated": d.escalated_at is not None})
    for event in history:
        if event.action in STAFF_ONLY_ACTIONS and not staff:
            continue
        data = event.data or {}
        note = data.get("reason") or data.get("note")
        if event.action in STAFF_ONLY_DATA_ACTIONS and not staff:
            note = None
        if event.action == "escalate":
            note = f"{DEADLINE_LABELS[DeadlineKind(data['kind'])]}超时" + ("，已督办" if data.get("level") == 2 else "")
        if event.action in {"assign", "transfer"} and data.get("worker_id"):
            note = f"派给{names.get(data['worker_id'], '')}" + (f"：{note}" if note else "")
        view.timeline.append({
            "action": event.action, "label": ACTION_LABELS.get(event.action, event.action),
            "actor_name": names.get(event.actor_id, "系统") if event.actor_id else "系统",
            "status": (event.after or {}).get("status"), "note": note, "at": event.created_at})
    view.actions = available_actions(repair, roles)
    return view


def available_actions(repair: Repair, roles: set[str]) -> list[str]:
    actions = [a for a in machine.actions_for(repair.status, roles) if a != "auto_confirm"]
    if "reopen" in actions and repair.status == Status.CONFIRMED and repair.closed_at and \
            repair.closed_at + timedelta(days=REOPEN_DAYS) < clock.now():
        actions.remove("reopen")
    if repair.status in _OPEN and roles & {"dispatcher", "admin"}:
        actions.append("reprioritise")
    if (ASSIGNEE in roles and repair.status in (Status.IN_PROGRESS, Status.ON_HOLD)) or \
            (REPORTER in roles and repair.status in _OPEN):
        actions.append("add_photos")
    return sorted(actions)


def list_mine(*, actor: Actor, params: PageParams, status: str | None = None) -> list[RepairView]:
    followed = select(RepairFollower.repair_id).where(RepairFollower.user_id == actor.user_id)
    stmt = (select(Repair).where(or_(Repair.reporter_id == actor.user_id, Repair.id.in_(followed)))
            .order_by(Repair.id.desc()))
    if status:
        stmt = stmt.where(Repair.status == status)
    return _views(actor, paginate(stmt, params))


TASK_TABS = {
    "new": [Status.ASSIGNED],
    "active": [Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD],
    "done": [Status.COMPLETED, Status.CONFIRMED, Status.CANCELLED],
}


def list_tasks(*, actor: Actor, params: PageParams, tab: str = "new") -> list[RepairView]:
    """A worker's tasks: new (assigned to me, or waiting in my groups' pool), active, done."""
    require_roles(actor, "worker", error_code="repairs.forbidden", message="仅维修工可查看维修任务")
    statuses = [str(s) for s in TASK_TABS[tab]]
    mine = and_(Repair.assignee_id == actor.user_id, Repair.status.in_(statuses))
    if tab == "new":
        groups = select(WorkerGroupMember.group_id).where(WorkerGroupMember.user_id == actor.user_id)
        pool = and_(Repair.status == Status.SUBMITTED, Repair.assignee_id.is_(None), Repair.group_id.in_(groups),
                    actor.user_id != all_(Repair.declined_by))
        stmt = select(Repair).where(or_(mine, pool))
    else:
        stmt = select(Repair).where(mine)
    if tab == "done":
        stmt = stmt.order_by(Repair.updated_at.desc(), Repair.id.desc())
    else:
        stmt = stmt.order_by(case((Repair.urgency == Urgency.URGENT, 0), else_=1), Repair.due_at.asc().nulls_last(),
                             Repair.id)
    return _views(actor, paginate(stmt, params))


def list_queue(*, actor: Actor, params: PageParams, status: str | None = None, overdue: bool = False,
               unassigned: bool = False) -> list[RepairView]:
    """The dispatcher's queue: open work (or one status), overdue first, then by the next deadline."""
    require_roles(actor, "dispatcher", "admin", error_code="repairs.forbidden", message="仅调度员可查看派单队列")
    now = clock.now()
    stmt = select(Repair).where(Repair.status == status if status else Repair.status.in_(_OPEN))
    if overdue:
        stmt = stmt.where(Repair.due_at <= now)
    if unassigned:
        stmt = stmt.where(Repair.assignee_id.is_(None))
    stmt = stmt.order_by(case((Repair.due_at <= now, 0), else_=1), Repair.due_at.asc().nulls_last(), Repair.id)
    return _views(actor, paginate(stmt, params))


# --- statistics ------------------------------------------------------------------------------------------------

DIMENSIONS = ("category", "building", "worker", "month")
DIMENSION_LABELS = {"category": "类别", "building": "楼栋", "worker": "维修工", "month": "月份"}


@dataclass
class StatsRow:
    key: str
    label: str
    reports: int
    completed: int
    avg_accept_minutes: float | None
    avg_repair_minutes: float | None
    sla_decided: int
    sla_met: int
    avg_rating: float | None
    ratings: int
    auto_ratings: int
    material_cost_fen: int
    labour_minutes: int

    @property
    def sla_compliance(self) -> float | None:
        return round(100.0 * self.sla_met / self.sla_decided, 1) if self.sla_decided else None


def _range(date_from: date | None, date_to: date | None) -> list[Any]:
    zone = clock.school_zone()
    conditions = [Repair.status != Status.CANCELLED]
    if date_from:
        conditions.append(Repair.created_at >= datetime.combine(date_from, time(0), zone))
    if date_to:
        conditions.append(Repair.created_at < datetime.combine(date_to + timedelta(days=1), time(0), zone))
    return conditions


def _sla_columns(now: datetime):
    """Per repair: decided (some level-1 deadline was met or passed) and breached (one was missed)."""
    d = RepairDeadline
    base = [d.repair_id == Repair.id, d.level == 1, d.voided_at.is_(None)]
    decided = exists().where(*base, or_(d.met_at.is_not(None), d.due_at < now))
    breached = exists().where(*base, or_(d.met_at > d.due_at, and_(d.met_at.is_(None), d.due_at < now)))
    return decided, breached


def statistics(*, actor: Actor, by: str = "category", date_from: date | None = None,
               date_to: date | None = None) -> list[StatsRow]:
    """Time to accept, time to repair, SLA compliance, satisfaction and cost per category, building,
    worker or month (cancelled repairs left out). Satisfaction counts only ratings people gave;
    automatic ratings are counted apart."""
    require_roles(actor, "dispatcher", "admin")
    now = clock.now()
    zone_name = str(clock.school_zone())
    if by == "category":
        key = Repair.category_id
    elif by == "building":
        key = Repair.building_id
    elif by == "worker":
        key = Repair.assignee_id
    else:
        key = func.to_char(func.timezone(zone_name, Repair.created_at), "YYYY-MM")
    decided, breached = _sla_columns(now)
    manual = and_(Repair.rating.is_not(None), Repair.rating_auto.is_(False))
    stmt = (
        select(
            key.label("key"),
            func.count().label("reports"),
            func.count(Repair.completed_at).label("completed"),
            func.avg(_minutes(Repair.accepted_at, Repair.created_at)).label("accept"),
            func.avg(_minutes(Repair.completed_at, Repair.created_at)).label("repair"),
            func.count().filter(decided).label("decided"),
            func.count().filter(and_(decided, ~breached)).label("met"),
            func.avg(Repair.rating).filter(manual).label("rating"),
            func.count().filter(manual).label("ratings"),
            func.count().filter(Repair.rating_auto.is_(True)).label("auto_ratings"),
            func.coalesce(func.sum(Repair.material_cost_fen), 0).label("cost"),
            func.coalesce(func.sum(Repair.labour_minutes), 0).label("labour"),
        )
        .where(*_range(date_from, date_to))
        .group_by(key)
        .order_by(key)
    )
    rows = db.session.execute(stmt).all()
    labels = _labels(by, [r.key for r in rows])
    return [StatsRow(
        key="" if r.key is None else str(r.key), label=labels.get(r.key, "未分配" if r.key is None else str(r.key)),
        reports=r.reports, completed=r.completed, avg_accept_minutes=_round(r.accept),
        avg_repair_minutes=_round(r.repair), sla_decided=r.decided, sla_met=r.met, avg_rating=_round(r.rating, 2),
        ratings=r.ratings, auto_ratings=r.auto_ratings, material_cost_fen=int(r.cost), labour_minutes=int(r.labour),
    ) for r in rows]


def _minutes(later, earlier):
    return extract("epoch", later - earlier) / 60


def _round(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    present = [k for k in keys if k is not None]
    if by == "category":
        return dict(db.session.execute(select(RepairCategory.id, RepairCategory.name).where(
            RepairCategory.id.in_(present))).all()) if present else {}
    if by == "worker":
        return users_service.display_names(present)
    if by == "building":
        return {k: places_service.get_place(k).name for k in present}
    return {k: str(k) for k in present}


STATS_HEADER = ["", "报修数", "已完成", "平均接单(分钟)", "平均修复(分钟)", "时限达标率(%)", "满意度(星)", "评价数",
                "自动好评数", "材料费(元)", "工时(分钟)"]
DETAIL_HEADER = ["单号", "报修时间", "类别", "地点", "紧急程度", "状态", "维修工", "接单用时(分钟)", "修复用时(分钟)",
                 "时限达标", "评分", "自动评价", "材料费(元)", "工时(分钟)"]
MAX_EXPORT_ROWS = 50_000


def export_statistics(*, actor: Actor, date_from: date | None = None, date_to: date | None = None) -> bytes:
    """The statistics by every dimension plus one row per repair, as .xlsx (the export is audited)."""
    require_roles(actor, "dispatcher", "admin")
    sheets = []
    for by in DIMENSIONS:
        rows = statistics(actor=actor, by=by, date_from=date_from, date_to=date_to)
        header = [DIMENSION_LABELS[by], *STATS_HEADER[1:]]
        sheets.append((f"按{DIMENSION_LABELS[by]}", header, [_stats_cells(r) for r in rows]))
    sheets.append(("明细", DETAIL_HEADER, _detail_rows(date_from, date_to)))
    audit.record("repair_export", 0, "export", actor_id=actor.user_id,
                 data={"from": date_from.isoformat() if date_from else None,
                       "to": date_to.isoformat() if date_to else None})
    return write_workbook(sheets)


def _stats_cells(r: StatsRow) -> list[Any]:
    return [r.label, r.reports, r.completed, r.avg_accept_minutes, r.avg_repair_minutes, r.sla_compliance,
            r.avg_rating, r.ratings, r.auto_ratings, r.material_cost_fen / 100, r.labour_minutes]


def _detail_rows(date_from: date | None, date_to: date | None) -> list[list[Any]]:
    now = clock.now()
    decided, breached = _sla_columns(now)
    stmt = (select(Repair, decided.label("decided"), breached.label("breached"))
            .where(*_range(date_from, date_to)).order_by(Repair.id).limit(MAX_EXPORT_ROWS))
    rows = db.session.execute(stmt).all()
    names = users_service.display_names({r.Repair.assignee_id for r in rows})
    out = []
    for repair, was_decided, was_breached in rows:
        accept = (repair.accepted_at - repair.created_at).total_seconds() / 60 if repair.accepted_at else None
        fixed = (repair.completed_at - repair.created_at).total_seconds() / 60 if repair.completed_at else None
        out.append([
            repair.id, clock.to_local(repair.created_at).strftime("%Y-%m-%d %H:%M"), repair.category.name,
            repair.place_name, URGENCY_LABELS[Urgency(repair.urgency)], STATUS_LABELS[Status(repair.status)],
            names.get(repair.assignee_id, ""), _round(accept), _round(fixed),
            ("否" if was_breached else "是") if was_decided else "", repair.rating, "是" if repair.rating_auto else "",
            repair.material_cost_fen / 100, repair.labour_minutes,
        ])
    return out


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in values.items()}
