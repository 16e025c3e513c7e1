from __future__ import annotations

from datetime import timedelta

import marshmallow as ma

from app.core import clock
from app.core.schemas import Line, Schema
from app.meetings.states import (
    LIST_FILTERS,
    MAX_DURATION_HOURS,
    MAX_GEOFENCE_RADIUS_M,
    MAX_SERIES_OCCURRENCES,
    ClassMembers,
    LeaveStatus,
    Reason,
    ScanAction,
)
from app.users.states import STAFF_ROLES


class SchoolDateTime(ma.fields.DateTime):
    """ISO 8601 with an offset; a time without one is school time (``SCHOOL_TIMEZONE``)."""

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        return parsed.replace(tzinfo=clock.school_zone()) if parsed.tzinfo is None else parsed


def _when(**kw):
    return SchoolDateTime(**kw)


class GeofenceSchema(Schema):
    latitude = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    longitude = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))
    radius_m = ma.fields.Integer(required=True, validate=ma.validate.Range(20, MAX_GEOFENCE_RADIUS_M),
                                 metadata={"description": "metres around the centre that count as 'here'"})


class AudienceSchema(Schema):
    all_staff = ma.fields.Boolean(load_default=False, metadata={"description": "every member of staff"})
    department_ids = ma.fields.List(ma.fields.Integer(), load_default=list,
                                    validate=ma.validate.Length(max=100), metadata={"description": "staff of these"})
    class_ids = ma.fields.List(ma.fields.Integer(), load_default=list, validate=ma.validate.Length(max=100))
    class_members = ma.fields.String(load_default="students",
                                     validate=ma.validate.OneOf([c.value for c in ClassMembers]),
                                     metadata={"description": "students of the classes, or their parents (家长会)"})
    roles = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(STAFF_ROLES)), load_default=list)
    user_ids = ma.fields.List(ma.fields.Integer(), load_default=list, validate=ma.validate.Length(max=5000))


class MeetingInSchema(Schema):
    title = Line(required=True, validate=ma.validate.Length(min=1, max=60))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=500))
    place_id = ma.fields.Integer(allow_none=True, load_default=None, metadata={
        "description": "a room of the places tree. A meeting needs a place: `place_id`, or `location`, or both "
                       "(neither: 422 `meetings.location_required`)"})
    location = ma.fields.String(load_default="", validate=ma.validate.Length(max=60), metadata={
        "description": "where, as free text (required without `place_id`), or a detail added to the room's name"})
    starts_at = _when(required=True)
    ends_at = _when(required=True)
    opens_before_minutes = ma.fields.Integer(load_default=30, validate=ma.validate.Range(0, 240))
    late_after_minutes = ma.fields.Integer(load_default=5, validate=ma.validate.Range(0, 240),
                                           metadata={"description": "a check-in after start + this is late"})
    closes_after_end_minutes = ma.fields.Integer(load_default=0, validate=ma.validate.Range(0, 240))
    geofence = ma.fields.Nested(GeofenceSchema, allow_none=True, load_default=None)
    allow_static_code = ma.fields.Boolean(load_default=False,
                                          metadata={"description": "a printable door code; needs the geofence"})
    sign_out_enabled = ma.fields.Boolean(load_default=False)
    audience = ma.fields.Nested(AudienceSchema, required=True)

    @ma.validates_schema
    def _times(self, data, **kwargs):
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end:
            if end <= start:
                raise ma.ValidationError("结束时间应晚于开始时间", "ends_at")
            if end - start > timedelta(hours=MAX_DURATION_HOURS):
                raise ma.ValidationError(f"会议最长 {MAX_DURATION_HOURS} 小时", "ends_at")
        if data.get("allow_static_code") and not data.get("geofence"):
            raise ma.ValidationError("固定签到码必须设置签到范围", "geofence")


class RepeatSchema(Schema):
    interval_weeks = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, 8))
    until = ma.fields.Date(load_default=None, allow_none=True, metadata={"description": "last date, inclusive"})
    count = ma.fields.Integer(load_default=None, allow_none=True,
                              validate=ma.validate.Range(1, MAX_SERIES_OCCURRENCES))


class SeriesInSchema(MeetingInSchema):
    repeat = ma.fields.Nested(RepeatSchema, load_default=dict, metadata={
        "description": "every `interval_weeks` from `starts_at`, until a date and/or `count` times; "
                       "editing a series without it keeps its recurrence"})


class OrganiserSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class LeaveBriefSchema(Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": [s.value for s in LeaveStatus]})
    status_label = ma.fields.String()
    reason = ma.fields.String()
    decision_note = ma.fields.String(allow_none=True)


class MineSchema(Schema):
    invited = ma.fields.Boolean()
    status = ma.fields.String(metadata={"enum": ["on_time", "late", "excused", "absent"]})
    checked_in_at = ma.fields.DateTime(allow_none=True)
    late = ma.fields.Boolean()
    signed_out_at = ma.fields.DateTime(allow_none=True)
    excused = ma.fields.Boolean(metadata={"description": "approved leave and not checked in (as `counts` has it); "
                                                         "who checked in attended, their leave stays in `leave`"})
    leave = ma.fields.Nested(LeaveBriefSchema, allow_none=True)


class CountsSchema(Schema):
    invited = ma.fields.Integer()
    checked_in = ma.fields.Integer(metadata={"description": "on time + late"})
    on_time = ma.fields.Integer()
    late = ma.fields.Integer()
    excused = ma.fields.Integer(metadata={"description": "approved leave, not checked in"})
    absent = ma.fields.Integer(metadata={"description": "invited - checked_in - excused (not yet in, before the end)"})
    signed_out = ma.fields.Integer()


class MeetingSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String(metadata={"description": "public code; the door code's scene is m=<code>"})
    title = ma.fields.String()
    description = ma.fields.String()
    place_id = ma.fields.Integer(allow_none=True)
    location = ma.fields.String()
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    opens_before_minutes = ma.fields.Integer()
    late_after_minutes = ma.fields.Integer()
    closes_after_end_minutes = ma.fields.Integer()
    checkin_opens_at = ma.fields.DateTime()
    late_at = ma.fields.DateTime()
    checkin_closes_at = ma.fields.DateTime()
    geofence = ma.fields.Nested(GeofenceSchema, allow_none=True)
    allow_static_code = ma.fields.Boolean()
    sign_out_enabled = ma.fields.Boolean()
    status = ma.fields.String(metadata={"enum": ["scheduled", "cancelled"]})
    phase = ma.fields.String(metadata={"enum": ["upcoming", "open", "in_progress", "ended", "cancelled"]})
    series_id = ma.fields.Integer(allow_none=True)
    organiser = ma.fields.Nested(OrganiserSchema)
    can_manage = ma.fields.Boolean()
    audience = ma.fields.Nested(AudienceSchema, allow_none=True, metadata={"description": "organisers only"})
    mine = ma.fields.Nested(MineSchema, allow_none=True, metadata={"description": "my invitation, when invited"})
    counts = ma.fields.Nested(CountsSchema, allow_none=True, metadata={"description": "organisers only"})


class MeetingQuerySchema(Schema):
    scope = ma.fields.String(load_default="invited", validate=ma.validate.OneOf(["invited", "organised", "all"]))
    when = ma.fields.String(load_default="upcoming", validate=ma.validate.OneOf(["upcoming", "past"]))


class CancelSchema(Schema):
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))


class QrQuerySchema(Schema):
    purpose = ma.fields.String(load_default="check_in",
                               validate=ma.validate.OneOf([ScanAction.CHECK_IN.value, ScanAction.SIGN_OUT.value]))


class QrSchema(Schema):
    meeting_id = ma.fields.Integer()
    title = ma.fields.String()
    purpose = ma.fields.String()
    token = ma.fields.String(metadata={"description": "HMAC(meeting id, 15-second slot, purpose)"})
    link = ma.fields.String(metadata={"description": "what the QR code encodes; opens the check-in page"})
    image = ma.fields.String(metadata={"description": "the QR code as a data: URI (PNG)"})
    slot = ma.fields.Integer()
    slot_seconds = ma.fields.Integer()
    changes_at = ma.fields.DateTime(metadata={"description": "when the next code starts"})
    valid_until = ma.fields.DateTime(metadata={"description": "this token is accepted until then"})
    refresh_in_ms = ma.fields.Integer(metadata={"description": "ask again after this long"})
    server_time = ma.fields.DateTime()
    phase = ma.fields.String()
    status = ma.fields.String()
    counts = ma.fields.Nested(CountsSchema)


class ProjectorLinkSchema(Schema):
    key = ma.fields.String()
    path = ma.fields.String(metadata={"description": "open on the projector's browser (same host as the API)"})
    expires_at = ma.fields.DateTime()


class StaticCodeQuerySchema(Schema):
    source = ma.fields.String(load_default="wechat", validate=ma.validate.OneOf(["wechat", "qr"]),
                              metadata={"description": "`wechat` mini-program code (falls back to `qr`) or plain `qr`"})


class LocationSchema(Schema):
    latitude = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    longitude = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))
    accuracy = ma.fields.Float(load_default=None, allow_none=True, validate=ma.validate.Range(0, 100000))


class DeviceSchema(ma.Schema):
    """What ``wx.getDeviceInfo`` / ``getAppBaseInfo`` report; unknown keys are dropped, not refused."""

    class Meta:
        unknown = ma.EXCLUDE

    brand = ma.fields.String(validate=ma.validate.Length(max=64))
    model = ma.fields.String(validate=ma.validate.Length(max=64))
    system = ma.fields.String(validate=ma.validate.Length(max=64))
    platform = ma.fields.String(validate=ma.validate.Length(max=64))
    version = ma.fields.String(validate=ma.validate.Length(max=64))
    SDKVersion = ma.fields.String(validate=ma.validate.Length(max=64))


class ScanInSchema(Schema):
    token = ma.fields.String(validate=ma.validate.Length(min=1, max=120),
                             metadata={"description": "the rotating token (the `t` of the QR link)"})
    code = ma.fields.String(validate=ma.validate.Length(min=1, max=12),
                            metadata={"description": "the meeting code of a static door code (scene `m=<code>`)"})
    nonce = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$"),
                             metadata={"description": "random per scan; a retry with it gets the first answer"})
    location = ma.fields.Nested(LocationSchema, load_default=None, allow_none=True)
    device = ma.fields.Nested(DeviceSchema, load_default=None, allow_none=True)

    @ma.validates_schema
    def _one_code(self, data, **kwargs):
        if ("token" in data) == ("code" in data):
            raise ma.ValidationError("请提供 token 或 code 之一", "token")


class MeetingBriefSchema(Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    location = ma.fields.String()
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()


class AnswerSchema(Schema):
    status = ma.fields.String(metadata={"enum": ["ok", "error"]})
    reason = ma.fields.String(allow_none=True, metadata={"enum": [r.value for r in Reason] + [None],
                                                         "description": "None when ok"})
    message = ma.fields.String(metadata={"description": "what to show, in Chinese"})
    action = ma.fields.String(metadata={"enum": ["check_in", "sign_out"]})
    late = ma.fields.Boolean()
    meeting = ma.fields.Nested(MeetingBriefSchema, allow_none=True)
    checked_in_at = ma.fields.DateTime(allow_none=True)
    signed_out_at = ma.fields.DateTime(allow_none=True)
    scanned_at = ma.fields.DateTime()
    replayed = ma.fields.Boolean(metadata={"description": "true: the first answer to this nonce, nothing written"})


class RecentSchema(Schema):
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    checked_in_at = ma.fields.DateTime()
    late = ma.fields.Boolean()


class LiveSchema(Schema):
    meeting_id = ma.fields.Integer()
    phase = ma.fields.String()
    server_time = ma.fields.DateTime()
    counts = ma.fields.Nested(CountsSchema)
    recent = ma.fields.List(ma.fields.Nested(RecentSchema))


class DepartmentCountsSchema(CountsSchema):
    department_id = ma.fields.Integer(allow_none=True)
    department = ma.fields.String()


class AttendanceSchema(CountsSchema):
    meeting_id = ma.fields.Integer()
    title = ma.fields.String()
    phase = ma.fields.String()
    pending_leaves = ma.fields.Integer()
    by_department = ma.fields.List(ma.fields.Nested(DepartmentCountsSchema))


class AttendeeQuerySchema(Schema):
    status = ma.fields.String(load_default="all", validate=ma.validate.OneOf(LIST_FILTERS))
    department_id = ma.fields.Integer()


class AttendeeSchema(Schema):
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    number = ma.fields.String(allow_none=True)
    department_id = ma.fields.Integer(allow_none=True)
    department = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"enum": ["on_time", "late", "excused", "absent"]})
    status_label = ma.fields.String()
    checked_in_at = ma.fields.DateTime(allow_none=True)
    late = ma.fields.Boolean()
    check_in_via = ma.fields.String(allow_none=True, metadata={"enum": ["rotating", "static", "manual", None]})
    signed_out_at = ma.fields.DateTime(allow_none=True)
    excused = ma.fields.Boolean(metadata={"description": "approved leave and not checked in (as `counts` has it); "
                                                         "who checked in attended, their leave stays in `leave`"})
    leave = ma.fields.Nested(LeaveBriefSchema, allow_none=True)


class ManualSchema(Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=100),
                              metadata={"description": "why (audited)"})


class ScanLogQuerySchema(Schema):
    result = ma.fields.String(validate=ma.validate.OneOf(["ok", "error"]))


class ScanLogSchema(Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    action = ma.fields.String()
    via = ma.fields.String()
    result = ma.fields.String()
    reason = ma.fields.String(allow_none=True)
    late = ma.fields.Boolean()
    distance_m = ma.fields.Float(allow_none=True)
    device = ma.fields.Dict(allow_none=True)
    recorded_by = ma.fields.Integer(allow_none=True)
    note = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class LeaveInSchema(Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=200))


class DecisionSchema(Schema):
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))


class LeaveQuerySchema(Schema):
    meeting_id = ma.fields.Integer(metadata={"description": "one meeting (default: every meeting I organise)"})
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in LeaveStatus]))


class LeaveSchema(LeaveBriefSchema):
    meeting_id = ma.fields.Integer()
    meeting_title = ma.fields.String()
    meeting_starts_at = ma.fields.DateTime()
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    created_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)


class HistoryQuerySchema(Schema):
    user_id = ma.fields.Integer(metadata={"description": "someone else's (admins); default: mine"})
    start = ma.fields.Date(metadata={"description": "default: the current term's first day"})
    end = ma.fields.Date(metadata={"description": "default: the current term's last day"})


class HistoryItemSchema(Schema):
    meeting_id = ma.fields.Integer()
    title = ma.fields.String()
    starts_at = ma.fields.DateTime()
    location = ma.fields.String()
    status = ma.fields.String()
    status_label = ma.fields.String()
    checked_in_at = ma.fields.DateTime(allow_none=True)


class HistorySchema(Schema):
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    start = ma.fields.Date()
    end = ma.fields.Date()
    invited = ma.fields.Integer()
    checked_in = ma.fields.Integer()
    late = ma.fields.Integer()
    excused = ma.fields.Integer()
    absent = ma.fields.Integer()
    rate = ma.fields.Float(allow_none=True, metadata={"description": "checked_in / (invited - excused)"})
    meetings = ma.fields.List(ma.fields.Nested(HistoryItemSchema))


class OccurrenceSchema(Schema):
    id = ma.fields.Integer()
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    status = ma.fields.String()
    detached = ma.fields.Boolean()
    phase = ma.fields.String()


class SeriesSchema(Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["active", "cancelled"]})
    interval_weeks = ma.fields.Integer()
    until = ma.fields.Date(allow_none=True)
    first_starts_at = ma.fields.DateTime()
    duration_minutes = ma.fields.Integer()
    description = ma.fields.String(metadata={"example": "每周一 16:00，11月23日起"})
    template = ma.fields.Dict()
    occurrences = ma.fields.List(ma.fields.Nested(OccurrenceSchema))
