from __future__ import annotations

import marshmallow as ma

from app.core.schemas import Line, Schema
from app.repairs.sla import span_label
from app.repairs.states import (
    MAX_PHOTOS,
    RATING_TAGS,
    SPAN_PATTERN,
    STATUS_LABELS,
    URGENCY_LABELS,
    DispatchMode,
    Status,
    Urgency,
)


class Text(ma.fields.String):
    """A string PostgreSQL can store: a NUL character is refused here (422) instead of failing the INSERT."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("不能包含控制字符")
        return text


_STATUSES = [s.value for s in Status]
_URGENCIES = [u.value for u in Urgency]
_PHONE = ma.validate.Regexp(r"^\+?[0-9][0-9-]{5,19}$", error="请填写正确的联系电话")
_SPAN = ma.validate.Regexp(SPAN_PATTERN, error="时限格式如 30m、2h、1d、8wh、3wd")
_COLOR = ma.validate.Regexp(r"^#[0-9a-fA-F]{6}$", error="颜色格式如 #07c160")


def _reason(required: bool = True) -> ma.fields.String:
    if required:
        return Text(required=True, validate=ma.validate.Length(min=1, max=200))
    return Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))


# --- configuration -----------------------------------------------------------------------------------------


class CategorySchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    code = Text(required=True, validate=ma.validate.Regexp(r"^[a-z][a-z0-9_]{1,29}$"))
    name = Line(required=True, validate=ma.validate.Length(min=1, max=20))
    icon = Text(load_default="🔧", validate=ma.validate.Length(min=1, max=16))
    color = Text(load_default="#8f959e", validate=_COLOR)
    sort_order = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=9999))
    active = ma.fields.Boolean(load_default=True)


class CategoryUpdateSchema(Schema):
    name = Line(validate=ma.validate.Length(min=1, max=20))
    icon = Text(validate=ma.validate.Length(min=1, max=16))
    color = Text(validate=_COLOR)
    sort_order = ma.fields.Integer(validate=ma.validate.Range(min=0, max=9999))
    active = ma.fields.Boolean()


class MaterialSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = Line(required=True, validate=ma.validate.Length(min=1, max=50))
    unit = Text(required=True, validate=ma.validate.Length(min=1, max=10))
    unit_cost_fen = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0, max=10_000_000),
                                      metadata={"description": "unit cost in fen (1 元 = 100 fen)"})
    active = ma.fields.Boolean(load_default=True)


class MaterialUpdateSchema(Schema):
    name = Line(validate=ma.validate.Length(min=1, max=50))
    unit = Text(validate=ma.validate.Length(min=1, max=10))
    unit_cost_fen = ma.fields.Integer(validate=ma.validate.Range(min=0, max=10_000_000))
    active = ma.fields.Boolean()


class MemberSchema(Schema):
    user_id = ma.fields.Integer()
    name = Text()
    on_duty = ma.fields.Boolean()


class GroupSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = Line(required=True, validate=ma.validate.Length(min=1, max=40))
    dispatch_mode = Text(
        load_default="auto", validate=ma.validate.OneOf([m.value for m in DispatchMode]),
        metadata={"description": "`auto`: least-loaded on-duty member; `pool`: first to accept"})
    active = ma.fields.Boolean(dump_only=True)
    members = ma.fields.List(ma.fields.Nested(MemberSchema), dump_only=True)


class GroupUpdateSchema(Schema):
    name = Line(validate=ma.validate.Length(min=1, max=40))
    dispatch_mode = Text(validate=ma.validate.OneOf([m.value for m in DispatchMode]))
    active = ma.fields.Boolean()


class DutySchema(Schema):
    on_duty = ma.fields.Boolean(load_default=True)


class WorkerSchema(Schema):
    user_id = ma.fields.Integer()
    name = Text()
    open_count = ma.fields.Integer(metadata={"description": "assigned, accepted, in progress or on hold"})
    groups = ma.fields.List(ma.fields.Dict())


class RuleSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    category_id = ma.fields.Integer(load_default=None, allow_none=True, metadata={"description": "null = any category"})
    building_id = ma.fields.Integer(load_default=None, allow_none=True, metadata={"description": "null = any building"})
    group_id = ma.fields.Integer(required=True)


class SlaPolicySchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    category_id = ma.fields.Integer(load_default=None, allow_none=True,
                                    metadata={"description": "null = the default for every category"})
    urgency = Text(required=True, validate=ma.validate.OneOf(_URGENCIES))
    accept_span = Text(required=True, validate=_SPAN, metadata={"example": "30m"})
    arrive_span = Text(required=True, validate=_SPAN, metadata={"example": "24h"})
    finish_span = Text(required=True, validate=_SPAN, metadata={"example": "3wd"})
    labels = ma.fields.Function(
        lambda p: {k: span_label(getattr(p, f"{k}_span")) for k in ("accept", "arrive", "finish")}, dump_only=True)


class CalendarQuerySchema(Schema):
    year = ma.fields.Integer(required=True, validate=ma.validate.Range(min=2000, max=2100))


class CalendarDaySchema(Schema):
    day = ma.fields.Date(dump_only=True)
    kind = Text(required=True, validate=ma.validate.OneOf(["holiday", "workday"]),
                            metadata={"description": "`holiday`: a day off; `workday`: a make-up working day"})
    name = Line(load_default="", validate=ma.validate.Length(max=20))


# --- photos --------------------------------------------------------------------------------------------------


class PhotoFileSchema(Schema):
    file = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                                  "description": "JPEG, PNG or WebP, at most 10 MB"})


class PhotoQuerySchema(Schema):
    size = Text(load_default="full", validate=ma.validate.OneOf(["full", "thumb"]))


class PhotoSchema(Schema):
    id = ma.fields.Integer()
    kind = Text(allow_none=True, metadata={"description": "`report`, `after`, or null while unattached"})
    url = Text(metadata={"description": "short-lived URL; relative ones are on this API's host"})
    thumb_url = Text()
    width = ma.fields.Integer()
    height = ma.fields.Integer()


# --- reports and the workflow ------------------------------------------------------------------------------


class SubmitSchema(Schema):
    category_id = ma.fields.Integer(required=True)
    place_id = ma.fields.Integer(required=True)
    description = Text(required=True, validate=ma.validate.Length(min=2, max=500))
    urgency = Text(load_default=Urgency.NORMAL.value, validate=ma.validate.OneOf(_URGENCIES))
    contact_phone = Text(required=True, validate=_PHONE)
    preferred_time = Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=40),
                                      metadata={"example": "工作日下午"})
    photo_ids = ma.fields.List(ma.fields.Integer(), load_default=list,
                               validate=ma.validate.Length(max=MAX_PHOTOS))
    insist = ma.fields.Boolean(load_default=False,
                               metadata={"description": "report anyway when the same place and category is open"})

    @ma.validates("description")
    def _not_blank(self, value: str, **_kw) -> None:
        if not value.strip():
            raise ma.ValidationError("请描述问题")


class OpenCheckQuerySchema(Schema):
    place_id = ma.fields.Integer(required=True)
    category_id = ma.fields.Integer(required=True)


class OpenCheckSchema(Schema):
    open = ma.fields.Boolean()
    repair_id = ma.fields.Integer()
    status = Text()
    status_label = Text()
    created_at = ma.fields.DateTime()
    mine = ma.fields.Boolean(metadata={"description": "I reported it myself"})


class CategoryBriefSchema(Schema):
    id = ma.fields.Integer()
    name = Text()
    icon = Text()
    color = Text()


class RepairSummarySchema(Schema):
    id = ma.fields.Integer()
    status = Text(metadata={"enum": _STATUSES})
    status_label = ma.fields.Function(lambda r: STATUS_LABELS[Status(r.status)])
    urgency = Text(metadata={"enum": _URGENCIES})
    urgency_label = ma.fields.Function(lambda r: URGENCY_LABELS[Urgency(r.urgency)])
    category = ma.fields.Nested(CategoryBriefSchema)
    place_id = ma.fields.Integer()
    place_name = Text()
    description = Text()
    reporter_name = Text()
    assignee_id = ma.fields.Integer(allow_none=True)
    assignee_name = Text(allow_none=True)
    created_at = ma.fields.DateTime()
    due_at = ma.fields.DateTime(allow_none=True, metadata={"description": "the current step's deadline"})
    overdue = ma.fields.Boolean()
    pool = ma.fields.Boolean(metadata={"description": "waiting in my group's pool: accept takes it"})
    linked = ma.fields.Boolean(metadata={"description": "my report was linked to this one"})


class DeadlineSchema(Schema):
    kind = Text()
    label = Text()
    due_at = ma.fields.DateTime()
    met_at = ma.fields.DateTime(allow_none=True)
    overdue = ma.fields.Boolean()
    escalated = ma.fields.Boolean()


class TimelineSchema(Schema):
    action = Text()
    label = Text()
    actor_name = Text()
    status = Text(allow_none=True, metadata={"description": "status after the action, if it changed one"})
    note = Text(allow_none=True)
    at = ma.fields.DateTime()


class MaterialUseSchema(Schema):
    material_id = ma.fields.Integer(allow_none=True)
    name = Text()
    unit = Text()
    quantity = ma.fields.Decimal(as_string=True)
    unit_cost_fen = ma.fields.Integer()
    cost_fen = ma.fields.Integer()


class RatingSchema(Schema):
    stars = ma.fields.Integer(attribute="rating")
    tags = ma.fields.List(Text(), attribute="rating_tags")
    comment = Text(attribute="rating_comment", allow_none=True)
    auto = ma.fields.Boolean(attribute="rating_auto")
    rated_at = ma.fields.DateTime()


class RepairDetailSchema(RepairSummarySchema):
    contact_phone = Text(attribute="phone", metadata={"description": "masked unless you need to call"})
    preferred_time = Text(allow_none=True)
    group_id = ma.fields.Integer(allow_none=True)
    duplicate_of_id = ma.fields.Integer(allow_none=True)
    accepted_at = ma.fields.DateTime(allow_none=True)
    started_at = ma.fields.DateTime(allow_none=True)
    completed_at = ma.fields.DateTime(allow_none=True)
    closed_at = ma.fields.DateTime(allow_none=True)
    labour_minutes = ma.fields.Integer(allow_none=True)
    material_cost_fen = ma.fields.Integer()
    completion_note = Text(allow_none=True)
    materials = ma.fields.List(ma.fields.Nested(MaterialUseSchema))
    rating = ma.fields.Function(lambda v: RatingSchema().dump(v.repair) if v.repair.rating else None,
                                metadata={"description": "null until confirmed"})
    photos = ma.fields.List(ma.fields.Nested(PhotoSchema))
    deadlines = ma.fields.List(ma.fields.Nested(DeadlineSchema))
    timeline = ma.fields.List(ma.fields.Nested(TimelineSchema))
    actions = ma.fields.List(Text(), metadata={"description": "what you may do now (action endpoints)"})


class SubmitResultSchema(Schema):
    class Meta(Schema.Meta):
        description = (
            "The answer to a report. While a repair of the same room (`place_id`) and category is still open, "
            "a second report of that problem does not create another repair: it is linked to the open one "
            "(`linked: true`, status 200): you follow its progress (it is listed in your reports) and your photos "
            "join it, and `repair` is that open repair. Otherwise a new repair is created (`linked: false`, "
            "status 201). `insist: true` in the report always creates a new one. Before the form is sent, "
            "`GET /repairs/open-check` tells whether it would be linked.")

    linked = ma.fields.Boolean(metadata={
        "description": "true (status 200): the report was linked to an open repair of the same room and category "
                       "instead of creating a new one, and `repair` is that repair, which you now follow; false "
                       "(status 201): `repair` is the new repair"})
    repair = ma.fields.Nested(RepairDetailSchema)


class MineQuerySchema(Schema):
    status = Text(validate=ma.validate.OneOf(_STATUSES))


class TasksQuerySchema(Schema):
    tab = Text(load_default="new", validate=ma.validate.OneOf(["new", "active", "done"]))


class QueueQuerySchema(Schema):
    status = Text(validate=ma.validate.OneOf(_STATUSES))
    overdue = ma.fields.Boolean(load_default=False)
    unassigned = ma.fields.Boolean(load_default=False)


class WorkerChoiceSchema(Schema):
    worker_id = ma.fields.Integer(required=True)
    reason = _reason(required=False)


class ReasonSchema(Schema):
    reason = _reason()


class OptionalReasonSchema(Schema):
    reason = _reason(required=False)


def _quantity(value) -> None:
    # A function, not Range: apispec would copy Range's bounds into the spec as Decimals (not JSON).
    if not 0 < value <= 9999:
        raise ma.ValidationError("数量应大于 0 且不超过 9999")


class MaterialLineSchema(Schema):
    material_id = ma.fields.Integer(required=True)
    quantity = ma.fields.Decimal(required=True, places=2, validate=_quantity,
                                 metadata={"example": "1.5", "minimum": 0.01, "maximum": 9999})


class CompleteSchema(Schema):
    labour_minutes = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=10_000))
    materials = ma.fields.List(ma.fields.Nested(MaterialLineSchema), load_default=list,
                               validate=ma.validate.Length(max=30))
    note = Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))
    photo_ids = ma.fields.List(ma.fields.Integer(), load_default=list, validate=ma.validate.Length(max=MAX_PHOTOS),
                               metadata={"description": "after-photos uploaded with POST /repairs/photos"})


class ConfirmSchema(Schema):
    rating = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=5))
    tags = ma.fields.List(Text(validate=ma.validate.OneOf(RATING_TAGS)), load_default=list,
                          validate=ma.validate.Length(max=len(RATING_TAGS)))
    comment = Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))


class ReprioritiseSchema(Schema):
    urgency = Text(required=True, validate=ma.validate.OneOf(_URGENCIES))
    reason = _reason(required=False)


class RatingTagsSchema(Schema):
    tags = ma.fields.List(Text())


# --- statistics ------------------------------------------------------------------------------------------------


class StatsQuerySchema(Schema):
    by = Text(load_default="category",
                          validate=ma.validate.OneOf(["category", "building", "worker", "month"]))
    date_from = ma.fields.Date(data_key="from", load_default=None, metadata={"description": "first day (school time)"})
    date_to = ma.fields.Date(data_key="to", load_default=None, metadata={"description": "last day, included"})

    @ma.validates_schema
    def _ordered(self, data, **_kw) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ma.ValidationError("开始日期不能晚于结束日期", field_name="from")


class ExportQuerySchema(Schema):
    date_from = ma.fields.Date(data_key="from", load_default=None)
    date_to = ma.fields.Date(data_key="to", load_default=None)


class StatsRowSchema(Schema):
    key = Text()
    label = Text()
    reports = ma.fields.Integer()
    completed = ma.fields.Integer()
    avg_accept_minutes = ma.fields.Float(allow_none=True)
    avg_repair_minutes = ma.fields.Float(allow_none=True)
    sla_compliance = ma.fields.Float(allow_none=True, metadata={"description": "% of decided repairs that met "
                                                                              "every deadline"})
    sla_decided = ma.fields.Integer()
    sla_met = ma.fields.Integer()
    avg_rating = ma.fields.Float(allow_none=True, metadata={"description": "ratings people gave (not automatic)"})
    ratings = ma.fields.Integer()
    auto_ratings = ma.fields.Integer()
    material_cost_fen = ma.fields.Integer()
    labour_minutes = ma.fields.Integer()

