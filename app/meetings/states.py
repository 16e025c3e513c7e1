"""Meeting, leave-request and series statuses, their transition tables, scan reasons and limits (pure data).

Roles in the tables are *relative to the object* where the rule is about a person's relation to it,
beside the global ``admin``: ``organiser`` (who organises this meeting or series, or the meeting a
leave request is for) and ``requester`` (who asked for this leave). The service works out which of
them the actor holds (``access.roles_on``) and the machine checks the row, so a row reads as the rule
is said: "(pending, withdraw) → withdrawn, by the requester". Events a double tap or a retried
request repeats are marked ``repeatable``: a repeat by someone allowed to fire them answers success
and changes nothing (the service says what makes it the same request).
"""

from __future__ import annotations

from enum import StrEnum

from app.core.statemachine import Labels, t

ORGANISER, REQUESTER, ADMIN = "organiser", "requester", "admin"


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class LeaveStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class SeriesStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


M = MeetingStatus
MEETING_TRANSITIONS = {
    (M.SCHEDULED, "cancel"): t(M.CANCELLED, ORGANISER, ADMIN, repeatable=True),
}
"""A meeting is edited while scheduled; cancelling is final (a new meeting is a new row)."""
MEETING_LABELS = Labels("会议", {M.SCHEDULED: "已安排", M.CANCELLED: "已取消"}, {"cancel": "取消"})

L = LeaveStatus
LEAVE_TRANSITIONS = {
    (L.PENDING, "approve"): t(L.APPROVED, ORGANISER, ADMIN, repeatable=True),
    (L.PENDING, "reject"): t(L.REJECTED, ORGANISER, ADMIN),
    (L.APPROVED, "reject"): t(L.REJECTED, ORGANISER, ADMIN),  # the organiser changes their mind before the meeting
    (L.PENDING, "withdraw"): t(L.WITHDRAWN, REQUESTER, repeatable=True),
    (L.APPROVED, "withdraw"): t(L.WITHDRAWN, REQUESTER, repeatable=True),  # "I can come after all"
}
OPEN_LEAVE_STATUSES = (L.PENDING, L.APPROVED)
"""At most one of these per invitee and meeting (a partial unique index)."""

LEAVE_LABELS = {L.PENDING: "待审批", L.APPROVED: "已批准", L.REJECTED: "已驳回", L.WITHDRAWN: "已撤回"}
LEAVE_REQUEST_LABELS = Labels("请假申请", LEAVE_LABELS, {"approve": "批准", "reject": "驳回", "withdraw": "撤回"})

S = SeriesStatus
SERIES_TRANSITIONS = {
    (S.ACTIVE, "cancel"): t(S.CANCELLED, ORGANISER, ADMIN),
}
"""A series is edited while active; stopping it is final (its future occurrences are cancelled)."""
SERIES_LABELS = Labels("周期会议", {S.ACTIVE: "进行中", S.CANCELLED: "已停止"}, {"cancel": "停止"})


class ScanAction(StrEnum):
    CHECK_IN = "check_in"
    SIGN_OUT = "sign_out"
    UNDO = "undo"  # an organiser takes a check-in back (manual only)


class ScanVia(StrEnum):
    ROTATING = "rotating"  # the 15-second QR on the organiser's phone or the projector
    STATIC = "static"  # the printed mini-program code on the door (needs the geofence)
    MANUAL = "manual"  # the organiser, with a reason


class Reason(StrEnum):
    """Why a scan was refused. The check-in answer's ``reason`` is one of these (None when ok)."""

    ALREADY_CHECKED_IN = "already_checked_in"
    NOT_INVITED = "not_invited"
    TOO_EARLY = "too_early"
    CLOSED = "closed"
    INVALID_TOKEN = "invalid_token"
    EXPIRED_TOKEN = "expired_token"
    OUT_OF_RANGE = "out_of_range"
    CANCELLED = "cancelled"
    # sign-out only (a QR code shown in sign-out mode)
    NOT_CHECKED_IN = "not_checked_in"
    ALREADY_SIGNED_OUT = "already_signed_out"


REASON_MESSAGES = {
    Reason.ALREADY_CHECKED_IN: "你已签到，无需重复扫码",
    Reason.NOT_INVITED: "你不在本次会议的参会名单中，如有疑问请联系会议组织者",
    Reason.TOO_EARLY: "签到尚未开始，请在签到时间内再扫码",
    Reason.CLOSED: "签到已结束",
    Reason.INVALID_TOKEN: "无法识别的签到码，请扫描会场展示的二维码",
    Reason.EXPIRED_TOKEN: "签到码已过期，请扫描屏幕上最新的二维码",
    Reason.OUT_OF_RANGE: "你不在会场范围内，请到会场后再签到",
    Reason.CANCELLED: "会议已取消",
    Reason.NOT_CHECKED_IN: "你还没有签到，不能签退",
    Reason.ALREADY_SIGNED_OUT: "你已签退，无需重复扫码",
}
OK_MESSAGES = {
    (ScanAction.CHECK_IN, False): "签到成功",
    (ScanAction.CHECK_IN, True): "签到成功（迟到）",
    (ScanAction.SIGN_OUT, False): "签退成功",
    (ScanAction.SIGN_OUT, True): "签退成功",
}
LOCATION_NEEDED_MESSAGE = "本会议需要核对位置，请允许小程序获取你的位置后重新扫码"


class AttendanceStatus(StrEnum):
    """One invitee's standing, derived from their invitation row."""

    ON_TIME = "on_time"
    LATE = "late"
    EXCUSED = "excused"
    ABSENT = "absent"  # not (yet) checked in and not excused


ATTENDANCE_LABELS = {
    AttendanceStatus.ON_TIME: "已签到",
    AttendanceStatus.LATE: "迟到",
    AttendanceStatus.EXCUSED: "请假",
    AttendanceStatus.ABSENT: "缺席",
}
LIST_FILTERS = ("all", "checked_in", "on_time", "late", "excused", "absent")

VIA_LABELS = {ScanVia.ROTATING: "扫码", ScanVia.STATIC: "门口码", ScanVia.MANUAL: "手动"}


class ClassMembers(StrEnum):
    """Who of a class an invitation by class reaches."""

    STUDENTS = "students"  # 班会, a student assembly
    PARENTS = "parents"  # 家长会


# --- the QR token and timing -------------------------------------------------------------------------

SLOT_SECONDS = 15
"""A rotating token is valid for its 15-second slot and the one after (current and previous accepted)."""
PURPOSE_CODES = {ScanAction.CHECK_IN: "i", ScanAction.SIGN_OUT: "o"}

DEFAULT_OPENS_BEFORE_MINUTES = 30
DEFAULT_LATE_AFTER_MINUTES = 5
DEFAULT_CLOSES_AFTER_END_MINUTES = 0
SIGN_OUT_GRACE_MINUTES = 60
"""Sign-out is accepted from the start until this long after the end."""
ABSENTEE_REMINDER_MINUTES = 10
"""Those not in at start + 10 min are reminded (once)."""
SUMMARY_DELAY_MINUTES = 1
"""The organiser's summary goes out this long after check-in closes."""
REMINDER_TIMER = "meetings.reminder"
ABSENTEES_TIMER = "meetings.absentees"
SUMMARY_TIMER = "meetings.summary"
TIMER_KINDS = (REMINDER_TIMER, ABSENTEES_TIMER, SUMMARY_TIMER)
"""A meeting's timers (``app.core.timers`` kinds; the subject is the meeting's id)."""
SWEEP_LOOKBACK_HOURS = 6
"""A timer's message goes out only if it fell due this recently: a timer fired late (its job lost, a
long outage) sends no stale reminders."""
MAX_DURATION_HOURS = 24
MAX_INVITEES = 5000
MAX_GEOFENCE_RADIUS_M = 5000

SERIES_HORIZON_WEEKS = 8
"""A recurring series has its occurrences generated this far ahead; the sweep extends it weekly."""
MAX_SERIES_OCCURRENCES = 60
