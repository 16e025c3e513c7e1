from __future__ import annotations

from flask import jsonify, request
from flask.views import MethodView
from flask_limiter.util import get_remote_address

from app.core.auth import current_actor, decode_access_token
from app.core.blueprint import Blueprint
from app.core.errors import AppError
from app.core.schemas import ImportFileSchema, ImportQuerySchema, ImportResultSchema
from app.extensions import limiter
from app.users import service
from app.users.schemas import (
    BindPendingSchema,
    BindSchema,
    DecidingQuerySchema,
    DepartmentSchema,
    GuardianRequestQuerySchema,
    GuardianRequestSchema,
    HeadTeacherSchema,
    MyGuardianRequestSchema,
    ProfileSchema,
    RolesSchema,
    SchoolClassSchema,
    StaffQuerySchema,
    StaffSchema,
    StudentGuardiansSchema,
)
from app.users.states import PARENT_BIND_RATE_LIMIT, PENDING_MESSAGE, BindKind

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="我的、身份绑定、组织与花名册")


def _per_user() -> str:
    """Rate-limit key: the user of the access token (decoded without a query), else the client IP."""
    _scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        return "bind-parent:" + decode_access_token(token.strip())["sub"]
    except AppError:
        return "bind-parent-ip:" + (get_remote_address() or "")


def _not_parent() -> bool:
    body = request.get_json(silent=True)
    return not (isinstance(body, dict) and body.get("kind") == BindKind.PARENT)


_PENDING = BindPendingSchema()


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, ProfileSchema)
    def get(self):
        """The signed-in user: roles, binding, masked phone, children (for parents)."""
        return service.profile(user_id=current_actor(allow_unbound=True).user_id)


@blp.route("/me/bind")
class Bind(MethodView):
    decorators = [limiter.limit("10/minute"),
                  limiter.limit(PARENT_BIND_RATE_LIMIT, key_func=_per_user, exempt_when=_not_parent)]

    @blp.arguments(BindSchema)
    @blp.response(200, ProfileSchema)
    @blp.alt_response(202, schema=BindPendingSchema, success=True, description=(
        "parent without a matching phone: a guardian request was made (or one is pending). The same answer "
        "whether the 学号 and 姓名 matched a student, named a child already bound, or repeated a request"))
    @blp.alt_response(404, description="`users.roster_not_found` (staff, student)")
    @blp.alt_response(409, description="`users.already_bound`; parent: `users.guardians_full`")
    @blp.alt_response(422, description="`users.phone_mismatch`, `users.invalid_phone_code`, "
                                       "`users.too_many_children`")
    @blp.alt_response(429, description="too many attempts (parents: per WeChat account too)")
    def post(self, data):
        """Bind this WeChat account to the roster: staff (工号+姓名, phone when the roster has one),
        student (学号+姓名) or parent (the child's 学号+姓名: bound at once when `phone_code` proves one of the
        child's 家长手机号, else a request the child or the class teacher confirms: 202)."""
        actor = current_actor(allow_unbound=True)
        if data["kind"] == BindKind.PARENT:
            number, name = data["student_number"], data["student_name"]
        else:
            number, name = data["number"], data["name"]
        pending = service.bind_with_phone_code(actor=actor, kind=data["kind"], number=number, name=name,
                                               phone_code=data.get("phone_code"), relation=data.get("relation"))
        if pending is not None:
            body = {"status": "pending", "message": PENDING_MESSAGE, "request": service.my_request_view(pending)}
            return jsonify(_PENDING.dump(body)), 202
        return service.profile(user_id=actor.user_id)


@blp.route("/me/guardian-requests")
class MyGuardianRequests(MethodView):
    @blp.arguments(GuardianRequestQuerySchema, location="query")
    @blp.response(200, MyGuardianRequestSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """My requests to be a parent of a student, newest first (`status=pending`: still waiting)."""
        return service.my_requests(actor=current_actor(allow_unbound=True), params=pagination_parameters, **query)


@blp.route("/me/guardian-requests/<int:request_id>/withdraw")
class WithdrawGuardianRequest(MethodView):
    @blp.response(200, MyGuardianRequestSchema)
    @blp.alt_response(404, description="`users.guardian_request_not_found`: not yours")
    @blp.alt_response(409, description="`guardian_request.invalid_transition`: already decided")
    def post(self, request_id):
        """Withdraw my pending request (a second tap is harmless)."""
        req = service.withdraw(actor=current_actor(allow_unbound=True), request_id=request_id)
        return service.my_request_view(req)


@blp.route("/me/children/<int:student_id>")
class MyChild(MethodView):
    @blp.response(204)
    @blp.alt_response(404, description="`users.guardian_not_found`")
    def delete(self, student_id):
        """Stop acting for one of my children (audited)."""
        service.leave_child(actor=current_actor(), student_id=student_id)


@blp.route("/guardian-requests")
class GuardianRequests(MethodView):
    @blp.arguments(DecidingQuerySchema, location="query")
    @blp.response(200, GuardianRequestSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Parents' requests I may decide: about me (students), the classes I head (班主任), every student
        (admins); pending ones by default."""
        status = None if query["status"] == "all" else query["status"]
        return service.requests_to_decide(actor=current_actor(), params=pagination_parameters, status=status)


@blp.route("/guardian-requests/<int:request_id>")
class GuardianRequestDetail(MethodView):
    @blp.response(200, GuardianRequestSchema)
    @blp.alt_response(404, description="`users.guardian_request_not_found`: not one I may decide")
    def get(self, request_id):
        """One request I may decide."""
        return service.get_request(actor=current_actor(), request_id=request_id)


@blp.route("/guardian-requests/<int:request_id>/<any(approve, reject):action>")
class DecideGuardianRequest(MethodView):
    @blp.response(200, GuardianRequestSchema)
    @blp.alt_response(404, description="`users.guardian_request_not_found`: not one I may decide")
    @blp.alt_response(409, description="`guardian_request.invalid_transition` (decided), "
                                       "`guardian_request.concurrent_change`, `users.guardian_request_expired`; "
                                       "approve: `users.guardians_full`")
    def post(self, request_id, action):
        """`approve`: the requester becomes the student's parent; `reject`: nothing is bound. Either way the
        requester is told; the same decision by the same person again is harmless."""
        actor = current_actor()
        service.decide(actor=actor, request_id=request_id, approve=action == "approve")
        return service.get_request(actor=actor, request_id=request_id)


@blp.route("/students/<int:student_id>/guardians")
class StudentGuardianList(MethodView):
    @blp.response(200, StudentGuardiansSchema)
    @blp.alt_response(404, description="`users.student_not_found`: not me, not my class")
    def get(self, student_id):
        """The parents bound to a student (the student, the class teacher, admins)."""
        return service.student_guardians(actor=current_actor(), student_id=student_id)


@blp.route("/students/<int:student_id>/guardians/<int:user_id>")
class StudentGuardianEntry(MethodView):
    @blp.response(204)
    @blp.alt_response(404, description="`users.student_not_found`, `users.guardian_not_found`")
    def delete(self, student_id, user_id):
        """Unbind a parent from a student (the student, the class teacher, admins; audited)."""
        service.remove_guardian(actor=current_actor(), student_id=student_id, user_id=user_id)


@blp.route("/departments")
class Departments(MethodView):
    @blp.response(200, DepartmentSchema(many=True))
    def get(self):
        """Departments (处室/教研组)."""
        current_actor()
        return service.list_departments()


@blp.route("/classes")
class Classes(MethodView):
    @blp.response(200, SchoolClassSchema(many=True))
    def get(self):
        """Classes, by grade."""
        current_actor()
        return service.list_classes()


@blp.route("/admin/classes/<int:class_id>/head-teacher")
class HeadTeacher(MethodView):
    @blp.arguments(HeadTeacherSchema)
    @blp.response(200, SchoolClassSchema)
    @blp.alt_response(404, description="`users.class_not_found`")
    @blp.alt_response(422, description="`users.staff_not_found`")
    def put(self, data, class_id):
        """Name a class's head teacher (班主任) by 工号, or clear it with null (admins; audited). The head
        teacher decides the class's guardian requests; the students import's 班主任工号 sets it too."""
        return service.set_head_teacher(actor=current_actor(), class_id=class_id, staff_number=data["staff_number"])


@blp.route("/admin/staff")
class StaffList(MethodView):
    @blp.arguments(StaffQuerySchema, location="query")
    @blp.response(200, StaffSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Staff on the roster (admins), searchable by name or number, filterable by role."""
        return service.list_staff(actor=current_actor(), params=pagination_parameters, **query)


@blp.route("/admin/staff/<int:staff_id>/roles")
class StaffRoles(MethodView):
    @blp.arguments(RolesSchema)
    @blp.response(200, StaffSchema)
    def put(self, data, staff_id):
        """Set a staff member's roles (admins; audited)."""
        return service.set_staff_roles(actor=current_actor(), staff_id=staff_id, roles=data["roles"])


@blp.route("/admin/roster/<any(staff, students):kind>")
class ImportRoster(MethodView):
    decorators = [limiter.limit("20/minute")]

    @blp.arguments(ImportQuerySchema, location="query")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportResultSchema)
    @blp.alt_response(422, description="`users.import_invalid`: `errors.rows` lists every bad row; nothing imported")
    def post(self, query, files, kind):
        """Import the roster from .xlsx, all rows or none: `staff` (工号, 姓名, 部门, 手机号, 角色) or
        `students` (学号, 姓名, 班级; optional 家长手机号 — one or two numbers — and 班主任工号)."""
        importer = service.import_staff if kind == "staff" else service.import_students
        return importer(actor=current_actor(), data=files["file"].read(), dry_run=query["dry_run"])
