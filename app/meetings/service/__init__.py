"""Meeting check-in: meetings, invitees, QR codes, scans, organiser tools, leave, attendance, timers.

Callers write ``from app.meetings import service`` and ``service.<name>``: every use case is
re-exported here. One module for each thing people do (its docstring gives the rules' reasons):

* ``access`` — who may create, see and manage a meeting; the lookups that refuse everyone else.
* ``meetings`` — an organiser creates, edits or cancels a meeting; people read it and list theirs.
* ``codes`` — the codes people scan: the rotating QR, its projector link, the printed door code.
* ``checkin`` — a phone's scan checks its owner in or signs them out (the hot path); the scan log.
* ``manual_checkin`` — the organiser checks someone in by hand or takes a check-in back.
* ``leave`` — an invitee asks for leave or withdraws it; the organiser approves or rejects it.
* ``attendance_report`` — who came: live counter, figures by department, list, export, term record.
* ``overview`` — the admins' overview of every meeting: a period's meetings, attendance by department,
  a person's record with their leave requests, and their exports (the console's 会议 pages).
* ``series`` — an organiser creates, edits or stops a weekly meeting; its occurrences.
* ``timers`` — the reminder before start, the absentee reminder, the organiser's summary
  (``app.core.timers`` kinds; their handlers are in ``app.meetings.jobs``).
* ``catch_up`` — the periodic sweep: the meetings' timers whose jobs were lost, series horizons.

Shared by them: ``timeline`` (a meeting's check-in window and its phase) and ``notices`` (the message
templates, links and texts). Demo data is ``app.meetings.seed``.
"""

from app.meetings.service.access import MeetingNotFound, NotOrganiser, can_create, get_managed, get_visible
from app.meetings.service.attendance_report import (
    attendance,
    attendance_status,
    attendee_view,
    attendees,
    counts,
    current_term,
    export_attendance,
    history,
    live,
    overall,
)
from app.meetings.service.catch_up import sweep
from app.meetings.service.checkin import Answer, distance_m, list_scans, scan
from app.meetings.service.codes import (
    projector_key,
    projector_qr,
    qr_link,
    revoke_projector_links,
    rotating_qr,
    static_code,
)
from app.meetings.service.leave import (
    LeaveNotFound,
    decide_leave,
    leave_view,
    list_leaves,
    request_leave,
    withdraw_leave,
)
from app.meetings.service.manual_checkin import AttendeeNotFound, manual_check_in, undo_check_in
from app.meetings.service.meetings import (
    cancel_meeting,
    create_meeting,
    get_meeting,
    list_meetings,
    meeting_view,
    update_meeting,
)
from app.meetings.service.overview import all_meetings, by_department, person
from app.meetings.service.overview import export as export_overview
from app.meetings.service.series import (
    SeriesNotFound,
    cancel_series,
    create_series,
    get_series,
    series_view,
    update_series,
)
from app.meetings.service.timeline import MeetingEnded, Window, phase, window_for
from app.meetings.service.timers import send_absentee_reminder, send_reminder, send_summary

__all__ = [
    # access
    "MeetingNotFound", "NotOrganiser", "can_create", "get_managed", "get_visible",
    # timeline
    "MeetingEnded", "Window", "phase", "window_for",
    # meetings
    "cancel_meeting", "create_meeting", "get_meeting", "list_meetings", "meeting_view", "update_meeting",
    # codes
    "projector_key", "projector_qr", "qr_link", "revoke_projector_links", "rotating_qr", "static_code",
    # checkin
    "Answer", "distance_m", "list_scans", "scan",
    # manual_checkin
    "AttendeeNotFound", "manual_check_in", "undo_check_in",
    # leave
    "LeaveNotFound", "decide_leave", "leave_view", "list_leaves", "request_leave", "withdraw_leave",
    # attendance_report
    "attendance", "attendance_status", "attendee_view", "attendees", "counts", "current_term", "export_attendance",
    "history", "live", "overall",
    # overview
    "all_meetings", "by_department", "export_overview", "person",
    # series
    "SeriesNotFound", "cancel_series", "create_series", "get_series", "series_view", "update_series",
    # timers
    "send_absentee_reminder", "send_reminder", "send_summary",
    # catch_up
    "sweep",
]
