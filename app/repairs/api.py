"""Repairs: report with photos, my reports, worker tasks, the dispatcher's queue, one endpoint per
workflow action, configuration (categories, materials, groups, rules, deadlines, calendar) and statistics."""

from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView

from app.core.auth import current_actor
from app.core.blueprint import Blueprint
from app.core.ratelimit import per_user
from app.core.storage import send_stored
from app.extensions import limiter
from app.repairs import service
from app.repairs.schemas import (
    CalendarDaySchema,
    CalendarQuerySchema,
    CategorySchema,
    CategoryUpdateSchema,
    CompleteSchema,
    ConfirmSchema,
    DutySchema,
    ExportQuerySchema,
    GroupSchema,
    GroupUpdateSchema,
    MaterialSchema,
    MaterialUpdateSchema,
    MineQuerySchema,
    OpenCheckQuerySchema,
    OpenCheckSchema,
    OptionalReasonSchema,
    PhotoFileSchema,
    PhotoQuerySchema,
    PhotoSchema,
    QueueQuerySchema,
    RatingTagsSchema,
    ReasonSchema,
    RepairDetailSchema,
    RepairSummarySchema,
    ReprioritiseSchema,
    RuleSchema,
    SlaPolicySchema,
    StatsQuerySchema,
    StatsRowSchema,
    SubmitResultSchema,
    SubmitSchema,
    TasksQuerySchema,
    WorkerChoiceSchema,
    WorkerSchema,
)
from app.repairs.states import RATING_TAGS

blp = Blueprint("repairs", __name__, url_prefix="/api/v1", description="报修：上报、派单、维修、评价、统计")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _send_photo(photo: service.PhotoFile):
    """Redirect to a presigned URL (S3) or stream the file (local disk); never cached publicly."""
    return send_stored(photo.key, url=photo.url, max_age=service.photo_url_ttl())


# --- reference data ---------------------------------------------------------------------------------------


@blp.route("/repairs/categories")
class Categories(MethodView):
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """Report categories (水电, 木工 …) with icon and colour, in display order."""
        current_actor()
        return service.list_categories()


@blp.route("/repairs/rating-tags")
class RatingTags(MethodView):
    @blp.response(200, RatingTagsSchema)
    def get(self):
        """Tags a reporter can pick when rating a repair."""
        current_actor()
        return {"tags": list(RATING_TAGS)}


@blp.route("/admin/repairs/categories")
class CategoryCreate(MethodView):
    @blp.arguments(CategorySchema)
    @blp.response(201, CategorySchema)
    def post(self, data):
        """Add a category (admins; audited)."""
        return service.create_category(actor=current_actor(), **data)


@blp.route("/admin/repairs/categories/<int:category_id>")
class CategoryUpdate(MethodView):
    @blp.arguments(CategoryUpdateSchema)
    @blp.response(200, CategorySchema)
    def put(self, data, category_id):
        """Rename, re-icon, reorder or retire a category (admins; audited)."""
        return service.update_category(actor=current_actor(), category_id=category_id, **data)


@blp.route("/repairs/materials")
class Materials(MethodView):
    @blp.response(200, MaterialSchema(many=True))
    def get(self):
        """The materials catalogue with unit costs in fen (workers, dispatchers, admins)."""
        return service.list_materials(actor=current_actor())


@blp.route("/admin/repairs/materials")
class MaterialCreate(MethodView):
    @blp.arguments(MaterialSchema)
    @blp.response(201, MaterialSchema)
    def post(self, data):
        """Add a material (admins; audited)."""
        return service.create_material(actor=current_actor(), **data)


@blp.route("/admin/repairs/materials/<int:material_id>")
class MaterialUpdate(MethodView):
    @blp.arguments(MaterialUpdateSchema)
    @blp.response(200, MaterialSchema)
    def put(self, data, material_id):
        """Change a material's name, unit, cost or retire it (admins; audited; past repairs keep their cost)."""
        return service.update_material(actor=current_actor(), material_id=material_id, **data)


# --- worker groups, rules, deadlines, calendar ---------------------------------------------------------------


@blp.route("/repairs/groups")
class Groups(MethodView):
    @blp.response(200, GroupSchema(many=True))
    def get(self):
        """Worker groups with their members and who is on duty (dispatchers, admins)."""
        return service.list_groups(actor=current_actor())

    @blp.arguments(GroupSchema)
    @blp.response(201, GroupSchema)
    def post(self, data):
        """Create a worker group (dispatchers, admins; audited)."""
        return service.create_group(actor=current_actor(), **data)


@blp.route("/repairs/groups/<int:group_id>")
class GroupById(MethodView):
    @blp.arguments(GroupUpdateSchema)
    @blp.response(200, GroupSchema)
    def put(self, data, group_id):
        """Rename a group, switch auto/pool dispatch, or retire it (dispatchers, admins; audited)."""
        return service.update_group(actor=current_actor(), group_id=group_id, **data)


@blp.route("/repairs/groups/<int:group_id>/members/<int:user_id>")
class GroupMember(MethodView):
    @blp.arguments(DutySchema)
    @blp.response(200, GroupSchema)
    def put(self, data, group_id, user_id):
        """Add a worker to the group or set them on/off duty; coming on duty picks up queued work."""
        return service.set_member(actor=current_actor(), group_id=group_id, user_id=user_id, **data)

    @blp.response(200, GroupSchema)
    def delete(self, group_id, user_id):
        """Take a worker out of the group (dispatchers, admins; audited)."""
        return service.remove_member(actor=current_actor(), group_id=group_id, user_id=user_id)


@blp.route("/repairs/workers")
class Workers(MethodView):
    @blp.response(200, WorkerSchema(many=True))
    def get(self):
        """Active workers, least open work first: the dispatcher's assign picker."""
        return service.list_workers(actor=current_actor())


@blp.route("/repairs/dispatch-rules")
class Rules(MethodView):
    @blp.response(200, RuleSchema(many=True))
    def get(self):
        """Category × building -> group rules (null = any); the most specific rule wins."""
        return service.list_rules(actor=current_actor())

    @blp.arguments(RuleSchema)
    @blp.response(200, RuleSchema)
    def put(self, data):
        """Create or replace the rule for a (category, building) scope (dispatchers, admins; audited)."""
        return service.put_rule(actor=current_actor(), **data)


@blp.route("/repairs/dispatch-rules/<int:rule_id>")
class RuleById(MethodView):
    @blp.response(204)
    def delete(self, rule_id):
        """Delete a rule (dispatchers, admins; audited)."""
        service.delete_rule(actor=current_actor(), rule_id=rule_id)


@blp.route("/repairs/sla-policies")
class SlaPolicies(MethodView):
    @blp.response(200, SlaPolicySchema(many=True))
    def get(self):
        """Deadline policies per category (null = default) and urgency: spans like 30m, 2h, 3wd."""
        return service.list_sla_policies(actor=current_actor())


@blp.route("/admin/repairs/sla-policies")
class SlaPolicyPut(MethodView):
    @blp.arguments(SlaPolicySchema)
    @blp.response(200, SlaPolicySchema)
    def put(self, data):
        """Create or replace a policy (admins; audited). `wd`/`wh` count only working-day time."""
        return service.put_sla_policy(actor=current_actor(), **data)


@blp.route("/repairs/calendar")
class CalendarList(MethodView):
    @blp.arguments(CalendarQuerySchema, location="query")
    @blp.response(200, CalendarDaySchema(many=True))
    def get(self, query):
        """A year's holidays and make-up working days (weekends are implied)."""
        return service.list_calendar(actor=current_actor(), **query)


@blp.route("/admin/repairs/calendar/<string:day>")
class CalendarDayView(MethodView):
    @blp.arguments(CalendarDaySchema)
    @blp.response(200, CalendarDaySchema)
    def put(self, data, day):
        """Mark a date (YYYY-MM-DD) as a holiday or a make-up working day (admins; audited)."""
        return service.set_calendar_day(actor=current_actor(), day=service.parse_day(day), **data)

    @blp.response(204)
    def delete(self, day):
        """Back to the weekday/weekend rule for that date (admins; audited)."""
        service.delete_calendar_day(actor=current_actor(), day=service.parse_day(day))


# --- photos --------------------------------------------------------------------------------------------------


@blp.route("/repairs/photos")
class PhotoUpload(MethodView):
    decorators = [limiter.limit("30/minute", key_func=per_user)]

    @blp.arguments(PhotoFileSchema, location="files")
    @blp.response(201, PhotoSchema)
    @blp.alt_response(413, description="`uploads.too_large`: more than 10 MB")
    @blp.alt_response(422, description="`uploads.not_an_image`, `uploads.image_too_large`, `uploads.corrupt_image`")
    @blp.alt_response(503, description="`uploads.busy`: every image slot is taken; try again after `Retry-After`")
    def post(self, files):
        """Upload a photo (multipart `file`): checked, re-encoded as JPEG without EXIF, yours and unattached
        until a report or a completion references its id."""
        return service.upload_photo(actor=current_actor(), data=files["file"].read())


@blp.route("/repairs/photos/<int:photo_id>")
class PhotoById(MethodView):
    @blp.arguments(PhotoQuerySchema, location="query")
    @blp.response(200, content_type="image/jpeg", description="the JPEG, or a 302 to a presigned URL")
    def get(self, query, photo_id):
        """A photo (`size=thumb` for the thumbnail) for the uploader, the reporter, the assigned worker,
        dispatchers and admins; anyone else gets 404."""
        return _send_photo(service.photo_file(actor=current_actor(), photo_id=photo_id, thumb=query["size"] == "thumb"))


@blp.route("/repairs/photo-files/<string:token>")
class SignedPhoto(MethodView):
    @blp.response(200, content_type="image/jpeg")
    @blp.alt_response(403, description="`uploads.link_expired`: fetch the repair again for a fresh link")
    def get(self, token):
        """A photo through a short-lived signed URL from a repair's details (for `<image src>`, which cannot
        send a token). No login: the signature is the permission."""
        return _send_photo(service.signed_photo_file(token=token))


@blp.route("/repairs/<int:repair_id>/photos")
class RepairPhotos(MethodView):
    decorators = [limiter.limit("30/minute", key_func=per_user)]

    @blp.arguments(PhotoFileSchema, location="files")
    @blp.response(201, PhotoSchema)
    @blp.alt_response(503, description="`uploads.busy`: every image slot is taken; try again after `Retry-After`")
    def post(self, files, repair_id):
        """Add a photo to an existing repair: the reporter while it is open, the worker (after-photos) while
        working."""
        return service.add_photo(actor=current_actor(), repair_id=repair_id, data=files["file"].read())


# --- reports ---------------------------------------------------------------------------------------------------


@blp.route("/repairs")
class Repairs(MethodView):
    @blp.arguments(SubmitSchema)
    @blp.response(201, SubmitResultSchema, description="a new repair (`linked: false`)")
    @blp.alt_response(200, schema=SubmitResultSchema,
                      description="linked (`linked: true`): an open repair of the same room and category took the "
                                  "report instead of a new one being created; `repair` is that repair")
    def post(self, data):
        """Report a problem (photos uploaded first, referenced by `photo_ids`); dispatched at once."""
        view, linked = service.submit(actor=current_actor(), **data)
        return {"linked": linked, "repair": view}, 200 if linked else 201


@blp.route("/repairs/open-check")
class OpenCheck(MethodView):
    @blp.arguments(OpenCheckQuerySchema, location="query")
    @blp.response(200, OpenCheckSchema)
    def get(self, query):
        """Before reporting: is the same problem (place and category) already reported and open? Submitting
        then links the report to it unless `insist` is set."""
        return service.open_report(actor=current_actor(), **query)


@blp.route("/repairs/mine")
class Mine(MethodView):
    @blp.arguments(MineQuerySchema, location="query")
    @blp.response(200, RepairSummarySchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """My reports (and those mine was linked to), newest first."""
        return service.list_mine(actor=current_actor(), params=pagination_parameters, **query)


@blp.route("/repairs/tasks")
class Tasks(MethodView):
    @blp.arguments(TasksQuerySchema, location="query")
    @blp.response(200, RepairSummarySchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """A worker's tasks: `new` (assigned to me or in my group's pool), `active`, `done`; urgent and
        overdue first."""
        return service.list_tasks(actor=current_actor(), params=pagination_parameters, **query)


@blp.route("/repairs/queue")
class Queue(MethodView):
    @blp.arguments(QueueQuerySchema, location="query")
    @blp.response(200, RepairSummarySchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """The dispatcher's queue: open repairs, overdue first, then by the next deadline."""
        return service.list_queue(actor=current_actor(), params=pagination_parameters, **query)


@blp.route("/repairs/<int:repair_id>")
class RepairById(MethodView):
    @blp.response(200, RepairDetailSchema)
    def get(self, repair_id):
        """A repair with photos (short-lived URLs), deadlines, the timeline and what you may do now."""
        return service.get_repair(actor=current_actor(), repair_id=repair_id)


def _action_endpoint(action: str, schema, summary: str) -> None:
    """One POST endpoint per workflow action: `/repairs/{id}/<action>`."""

    if schema is None:
        def post(self, repair_id):
            return service.perform(actor=current_actor(), repair_id=repair_id, action=action)
    else:
        def post(self, data, repair_id):
            return service.perform(actor=current_actor(), repair_id=repair_id, action=action, **data)

    post.__doc__ = summary
    post = blp.alt_response(409, description="`repairs.invalid_transition` (not allowed in this status; the "
                                             "message names the status) or `repairs.concurrent_change` "
                                             "(someone else was faster)")(post)
    post = blp.response(200, RepairDetailSchema,
                        description="the repair as you now see it; a repeat of a step you already took (a double "
                                    "tap of accept, start, hold, resume, complete, confirm or cancel) answers "
                                    "the same and changes nothing")(post)
    if schema is not None:
        post = blp.arguments(schema)(post)
    view = type(f"Repair{action.title().replace('_', '')}", (MethodView,), {"post": post})
    blp.route(f"/repairs/<int:repair_id>/{action}", endpoint=f"repair_{action}")(view)


for _action, _schema, _summary in [
    ("assign", WorkerChoiceSchema, "Dispatch a queued repair to a worker (dispatchers, admins)."),
    ("transfer", WorkerChoiceSchema, "Give the repair to another worker (dispatchers, admins)."),
    ("accept", None, "Accept: the assigned worker, or any member of the group while it waits in the pool "
                     "(two at once: one wins, the other gets 409)."),
    ("decline", ReasonSchema, "Decline with a reason (the assigned worker): back to the queue, re-dispatched."),
    ("start", None, "On site, working (the assigned worker): meets the arrival deadline."),
    ("hold", ReasonSchema, "Pause with a reason (waiting for parts …); the finish deadline is paused too."),
    ("resume", None, "Continue after a pause."),
    ("complete", CompleteSchema, "Done: materials, labour minutes, after-photos (the assigned worker)."),
    ("confirm", ConfirmSchema, "Confirm and rate 1–5 stars with tags and a comment (the reporter)."),
    ("cancel", OptionalReasonSchema, "Cancel (the reporter until the worker is on site; dispatchers, admins)."),
    ("reopen", ReasonSchema, "Not fixed after all: reopen with a reason (within 7 days of closing)."),
]:
    _action_endpoint(_action, _schema, _summary)


@blp.route("/repairs/<int:repair_id>/reprioritise")
class Reprioritise(MethodView):
    @blp.arguments(ReprioritiseSchema)
    @blp.response(200, RepairDetailSchema)
    def post(self, data, repair_id):
        """Change the urgency (dispatchers, admins): unmet deadlines follow the new policy (audited)."""
        return service.reprioritise(actor=current_actor(), repair_id=repair_id, **data)


# --- statistics ------------------------------------------------------------------------------------------------


@blp.route("/repairs/stats")
class Stats(MethodView):
    @blp.arguments(StatsQuerySchema, location="query")
    @blp.response(200, StatsRowSchema(many=True))
    def get(self, query):
        """Time to accept, time to repair, SLA compliance %, satisfaction and cost by category, building,
        worker or month (dispatchers, admins)."""
        return service.statistics(actor=current_actor(), **query)


@blp.route("/repairs/stats/export")
class StatsExport(MethodView):
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.response(200, content_type=XLSX, description="one sheet per dimension plus one row per repair")
    def get(self, query):
        """The statistics as .xlsx (dispatchers, admins; the export is audited)."""
        data = service.export_statistics(actor=current_actor(), **query)
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="repairs-stats.xlsx")
