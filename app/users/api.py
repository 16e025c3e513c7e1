from __future__ import annotations

from flask.views import MethodView

from app.core.auth import current_actor
from app.core.blueprint import Blueprint
from app.core.schemas import ImportFileSchema, ImportQuerySchema, ImportResultSchema
from app.extensions import limiter
from app.users import service
from app.users.schemas import (
    BindSchema,
    DepartmentSchema,
    ProfileSchema,
    RolesSchema,
    SchoolClassSchema,
    StaffQuerySchema,
    StaffSchema,
)
from app.users.states import BindKind

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="我的、身份绑定、组织与花名册")


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, ProfileSchema)
    def get(self):
        """The signed-in user: roles, binding, masked phone, children (for parents)."""
        return service.profile(user_id=current_actor(allow_unbound=True).user_id)


@blp.route("/me/bind")
class Bind(MethodView):
    decorators = [limiter.limit("10/minute")]

    @blp.arguments(BindSchema)
    @blp.response(200, ProfileSchema)
    @blp.alt_response(404, description="`users.roster_not_found`")
    @blp.alt_response(409, description="`users.already_bound`")
    def post(self, data):
        """Bind this WeChat account to the roster: staff (工号+姓名, phone when the roster has one),
        student (学号+姓名) or parent (the child's 学号+姓名)."""
        actor = current_actor(allow_unbound=True)
        if data["kind"] == BindKind.PARENT:
            number, name = data["student_number"], data["student_name"]
        else:
            number, name = data["number"], data["name"]
        service.bind_with_phone_code(actor=actor, kind=data["kind"], number=number, name=name,
                                     phone_code=data.get("phone_code"))
        return service.profile(user_id=actor.user_id)


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
