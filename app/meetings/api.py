from __future__ import annotations

from urllib.parse import quote

from flask import current_app, make_response, request
from flask.views import MethodView
from flask_limiter.util import get_remote_address

from app.core.auth import current_actor, decode_access_token
from app.core.blueprint import Blueprint
from app.core.errors import AppError
from app.extensions import limiter
from app.meetings import service
from app.meetings.projector import PROJECTOR_HTML
from app.meetings.schemas import (
    AnswerSchema,
    AttendanceSchema,
    AttendeeQuerySchema,
    AttendeeSchema,
    CancelSchema,
    DecisionSchema,
    HistoryQuerySchema,
    HistorySchema,
    LeaveInSchema,
    LeaveQuerySchema,
    LeaveSchema,
    LiveSchema,
    ManualSchema,
    MeetingInSchema,
    MeetingQuerySchema,
    MeetingSchema,
    ProjectorLinkSchema,
    QrQuerySchema,
    QrSchema,
    ScanInSchema,
    ScanLogQuerySchema,
    ScanLogSchema,
    SeriesInSchema,
    SeriesSchema,
    StaticCodeQuerySchema,
)

blp = Blueprint("meetings", __name__, url_prefix="/api/v1/meetings", description="会议签到：二维码签到、请假、考勤统计")


def _per_user() -> str:
    """Rate-limit key: the user of the access token (decoded without a query), else the client IP."""
    _scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        return "user:" + decode_access_token(token.strip())["sub"]
    except AppError:
        return get_remote_address()


def _checkin_limit() -> str:
    return current_app.config["MEETING_CHECKIN_RATE_LIMIT"]


@blp.route("")
class Meetings(MethodView):
    @blp.arguments(MeetingQuerySchema, location="query")
    @blp.response(200, MeetingSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """My meetings: invited to (default) or organised; upcoming (default) or past. `scope=all`: admins."""
        return service.list_meetings(actor=current_actor(), params=pagination_parameters, **query)

    @blp.arguments(MeetingInSchema)
    @blp.response(201, MeetingSchema)
    @blp.alt_response(403, description="`meetings.forbidden`: only staff and admins organise meetings")
    def post(self, data):
        """Create a meeting (staff and admins); invitees are materialised and notified.

        A meeting needs a place: a room (`place_id`), a `location` text, or both; neither is a 422
        `meetings.location_required` on `location`. Its end must be in the future (`meetings.in_the_past`).
        """
        actor = current_actor()
        return service.meeting_view(service.create_meeting(actor=actor, data=data), actor)


@blp.route("/<int:meeting_id>")
class MeetingById(MethodView):
    @blp.response(200, MeetingSchema)
    def get(self, meeting_id):
        """One meeting: its organiser and invitees see it (with `mine`); others get 404."""
        return service.get_meeting(actor=current_actor(), meeting_id=meeting_id)

    @blp.arguments(MeetingInSchema)
    @blp.response(200, MeetingSchema)
    @blp.alt_response(409, description="`meetings.ended` / `meetings.cancelled`")
    def put(self, data, meeting_id):
        """Edit a meeting (organiser or admin): invitees are re-materialised, changes are announced.

        The same fields and rules as creating one (a place or a location text; an end in the future).
        """
        actor = current_actor()
        return service.meeting_view(service.update_meeting(actor=actor, meeting_id=meeting_id, data=data), actor)


@blp.route("/<int:meeting_id>/cancel")
class CancelMeeting(MethodView):
    @blp.arguments(CancelSchema)
    @blp.response(200, MeetingSchema)
    def post(self, data, meeting_id):
        """Cancel a meeting (organiser or admin); invitees are told. Again: 200, nothing changes."""
        actor = current_actor()
        return service.meeting_view(service.cancel_meeting(actor=actor, meeting_id=meeting_id, **data), actor)


@blp.route("/<int:meeting_id>/qr")
class RotatingQr(MethodView):
    @blp.arguments(QrQuerySchema, location="query")
    @blp.response(200, QrSchema)
    def get(self, query, meeting_id):
        """The current rotating token (15-second slots) and its QR image, with the live count (organiser)."""
        return service.rotating_qr(actor=current_actor(), meeting_id=meeting_id, **query)


@blp.route("/<int:meeting_id>/projector-link")
class ProjectorLink(MethodView):
    @blp.arguments(QrQuerySchema, location="query")
    @blp.response(201, ProjectorLinkSchema)
    def post(self, query, meeting_id):
        """A login-free link for a projector page that shows the rotating code (organiser; audited)."""
        return service.projector_key(actor=current_actor(), meeting_id=meeting_id, **query)

    @blp.response(204)
    def delete(self, meeting_id):
        """Revoke every projector link of this meeting at once; a new one can be asked for (organiser; audited)."""
        service.revoke_projector_links(actor=current_actor(), meeting_id=meeting_id)


@blp.route("/projector/<string:key>")
class ProjectorPage(MethodView):
    @blp.response(200, content_type="text/html", description="a self-refreshing page for a big screen")
    def get(self, key):
        """The projector page: the rotating code, a countdown and the live count (no names)."""
        service.projector_qr(key=key)  # 404 for a bad key before any HTML
        response = make_response(PROJECTOR_HTML)
        response.headers.update({"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                                 "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"})
        return response


@blp.route("/projector/<string:key>/qr")
class ProjectorQr(MethodView):
    @blp.response(200, QrSchema)
    def get(self, key):
        """What the projector page polls (the key is the credential)."""
        return service.projector_qr(key=key)


@blp.route("/<int:meeting_id>/static-code")
class StaticCode(MethodView):
    @blp.arguments(StaticCodeQuerySchema, location="query")
    @blp.response(200, content_type="image/png", description="PNG to print; `X-Code-Source` says which kind")
    @blp.alt_response(409, description="`meetings.static_code_disabled`: the meeting has no geofence")
    def get(self, query, meeting_id):
        """The printable door code (scene `m=<code>`); only for meetings with a geofence (organiser)."""
        return service.static_code(actor=current_actor(), meeting_id=meeting_id, prefer=query["source"]).response()


@blp.route("/check-ins")
class CheckIns(MethodView):
    decorators = [limiter.limit(_checkin_limit, key_func=_per_user)]

    @blp.arguments(ScanInSchema)
    @blp.response(200, AnswerSchema)
    @blp.alt_response(422, description="no token/code or no nonce")
    @blp.alt_response(429, description="more than MEETING_CHECKIN_RATE_LIMIT scans")
    def post(self, data):
        """Scan: check in (or sign out, for a code shown in sign-out mode). Business refusals answer 200
        with `status: error` and a `reason`; a retried `nonce` gets the first answer and writes nothing."""
        actor = current_actor()
        return service.scan(actor=actor, nonce=data["nonce"], token=data.get("token"), code=data.get("code"),
                            location=data.get("location"), device=data.get("device"), ip=request.remote_addr,
                            user_agent=request.headers.get("User-Agent"))


@blp.route("/<int:meeting_id>/live")
class Live(MethodView):
    @blp.response(200, LiveSchema)
    def get(self, meeting_id):
        """The live counter and the last people in (organiser)."""
        return service.live(actor=current_actor(), meeting_id=meeting_id)


@blp.route("/<int:meeting_id>/attendance")
class Attendance(MethodView):
    @blp.response(200, AttendanceSchema)
    @blp.alt_response(403, description="`meetings.forbidden`: an invitee who does not organise it")
    def get(self, meeting_id):
        """invited / checked_in / late / excused / absent, overall and per department (organiser or admin)."""
        return service.attendance(actor=current_actor(), meeting_id=meeting_id)


@blp.route("/<int:meeting_id>/attendees")
class Attendees(MethodView):
    @blp.arguments(AttendeeQuerySchema, location="query")
    @blp.response(200, AttendeeSchema(many=True))
    @blp.paginate()
    def get(self, query, meeting_id, pagination_parameters):
        """The invitees, filtered by status (`checked_in`, `late`, `excused`, `absent` …) or department."""
        return service.attendees(actor=current_actor(), meeting_id=meeting_id, params=pagination_parameters,
                                 **query)


@blp.route("/<int:meeting_id>/attendance.xlsx")
class Export(MethodView):
    @blp.response(200, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  description="one row per invitee, plus a summary sheet")
    def get(self, meeting_id):
        """Export the attendance (.xlsx; organiser or admin; logged)."""
        data, filename = service.export_attendance(actor=current_actor(), meeting_id=meeting_id)
        response = make_response(data)
        response.headers.update({
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": f"attachment; filename=\"attendance-{meeting_id}.xlsx\"; "
                                   f"filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "private, no-store",
        })
        return response


@blp.route("/<int:meeting_id>/attendees/<int:user_id>/check-in")
class ManualCheckIn(MethodView):
    @blp.arguments(ManualSchema)
    @blp.response(200, AttendeeSchema)
    def post(self, data, meeting_id, user_id):
        """Check an invitee in by hand, with a reason (organiser; audited)."""
        actor = current_actor()
        inv = service.manual_check_in(actor=actor, meeting_id=meeting_id, user_id=user_id, **data)
        return service.attendee_view(inv)


@blp.route("/<int:meeting_id>/attendees/<int:user_id>/undo-check-in")
class UndoCheckIn(MethodView):
    @blp.arguments(ManualSchema)
    @blp.response(200, AttendeeSchema)
    def post(self, data, meeting_id, user_id):
        """Take a check-in back, with a reason (organiser; audited)."""
        actor = current_actor()
        inv = service.undo_check_in(actor=actor, meeting_id=meeting_id, user_id=user_id, **data)
        return service.attendee_view(inv)


@blp.route("/<int:meeting_id>/scans")
class Scans(MethodView):
    @blp.arguments(ScanLogQuerySchema, location="query")
    @blp.response(200, ScanLogSchema(many=True))
    @blp.paginate()
    def get(self, query, meeting_id, pagination_parameters):
        """Every scan of the meeting, refused ones included, newest first (organiser)."""
        return service.list_scans(actor=current_actor(), meeting_id=meeting_id, params=pagination_parameters,
                                  **query)


@blp.route("/<int:meeting_id>/leave-requests")
class AskLeave(MethodView):
    @blp.arguments(LeaveInSchema)
    @blp.response(201, LeaveSchema)
    @blp.alt_response(409, description="`meetings.leave_exists`, `meetings.already_checked_in`, `meetings.ended`")
    def post(self, data, meeting_id):
        """Ask for leave (请假) with a reason (invitees); the organiser is told."""
        return service.leave_view(service.request_leave(actor=current_actor(), meeting_id=meeting_id, **data))


@blp.route("/leave-requests")
class Leaves(MethodView):
    @blp.arguments(LeaveQuerySchema, location="query")
    @blp.response(200, LeaveSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Leave requests of the meetings I organise (admins: all), e.g. `status=pending`."""
        return service.list_leaves(actor=current_actor(), params=pagination_parameters, **query)


@blp.route("/leave-requests/<int:leave_id>/approve")
class ApproveLeave(MethodView):
    @blp.arguments(DecisionSchema)
    @blp.response(200, LeaveSchema)
    @blp.alt_response(409, description="`meeting_leave.invalid_transition`: not pending (the message says its "
                                       "status); approving again with the same note answers 200")
    def post(self, data, leave_id):
        """Approve: the invitee counts as excused (organiser or admin)."""
        return service.leave_view(service.decide_leave(actor=current_actor(), leave_id=leave_id, approve=True,
                                                       **data))


@blp.route("/leave-requests/<int:leave_id>/reject")
class RejectLeave(MethodView):
    @blp.arguments(DecisionSchema)
    @blp.response(200, LeaveSchema)
    def post(self, data, leave_id):
        """Reject (also an earlier approval): the invitee is expected again (organiser or admin)."""
        return service.leave_view(service.decide_leave(actor=current_actor(), leave_id=leave_id, approve=False,
                                                       **data))


@blp.route("/leave-requests/<int:leave_id>/withdraw")
class WithdrawLeave(MethodView):
    @blp.response(200, LeaveSchema)
    def post(self, leave_id):
        """Withdraw my own request (pending or approved); withdrawing it again answers 200."""
        return service.leave_view(service.withdraw_leave(actor=current_actor(), leave_id=leave_id))


@blp.route("/history")
class History(MethodView):
    @blp.arguments(HistoryQuerySchema, location="query")
    @blp.response(200, HistorySchema)
    def get(self, query):
        """Attendance across a term (default: the current one): rate and lates. Mine, or anyone's for admins."""
        return service.history(actor=current_actor(), **query)


@blp.route("/series")
class SeriesCollection(MethodView):
    @blp.arguments(SeriesInSchema)
    @blp.response(201, SeriesSchema)
    def post(self, data):
        """A recurring meeting (weekly staff meeting): occurrences are generated 8 weeks ahead."""
        actor = current_actor()
        return service.series_view(service.create_series(actor=actor, data=data), actor)


@blp.route("/series/<int:series_id>")
class SeriesById(MethodView):
    @blp.response(200, SeriesSchema)
    def get(self, series_id):
        """A series and its occurrences (organiser or admin)."""
        return service.get_series(actor=current_actor(), series_id=series_id)

    @blp.arguments(SeriesInSchema)
    @blp.response(200, SeriesSchema)
    def put(self, data, series_id):
        """Edit the series and its future occurrences not edited on their own (same weekday).

        The edit applies from the occurrence `starts_at` names on (it must end in the future, like a new
        series: `meetings.in_the_past`). `repeat` changes the interval and the end (without it they stay);
        occurrences the new schedule drops are cancelled and their invitees told once.
        """
        actor = current_actor()
        return service.series_view(service.update_series(actor=actor, series_id=series_id, data=data), actor)


@blp.route("/series/<int:series_id>/cancel")
class CancelSeries(MethodView):
    @blp.arguments(CancelSchema)
    @blp.response(200, SeriesSchema)
    @blp.alt_response(409, description="`meeting_series.invalid_transition`: already stopped")
    def post(self, data, series_id):
        """Stop the series: future occurrences are cancelled."""
        actor = current_actor()
        return service.series_view(service.cancel_series(actor=actor, series_id=series_id, **data), actor)
