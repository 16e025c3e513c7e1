"""The console's people and places pages (人员、场所): the roster import of staff and students from an
.xlsx (a dry run listing every bad row before anything is written, then 确认导入 of the kept sheet), the
staff list (searchable, paginated) with roles granted and revoked, the students list, the places tree and a
printable A4 sheet of a building's room codes. Every action is the users or places service function the API calls,
with the signed-in person as actor: the roster and roles are admins' (the service's 403 for anyone else),
the room codes admins' and dispatchers'. Registered on the console's Blueprint (``views.bp``)."""

from __future__ import annotations

from flask import g, render_template, request, url_for
from werkzeug.exceptions import NotFound as HttpNotFound

from app.console import service
from app.console.finance import _dry_run, _int_arg
from app.console.views import _Page, _page_number, bp
from app.core.auth import ROLE_LABELS, require_roles
from app.core.errors import ValidationFailed
from app.core.sheets import ImportResult
from app.places import service as places
from app.places.states import KIND_LABELS, PlaceKind
from app.users import service as users
from app.users.states import STAFF_COLUMNS, STAFF_ROLES, STUDENT_COLUMNS, STUDENT_OPTIONAL_COLUMNS

IMPORTS = {
    "staff": ("教职工", users.import_staff, list(STAFF_COLUMNS)),
    "students": ("学生", users.import_students,
                 [*STUDENT_COLUMNS, *(f"{t}（可选）" for t in STUDENT_OPTIONAL_COLUMNS)]),
}


def _import_kind(kind: str):
    if kind not in IMPORTS:
        raise HttpNotFound()
    return IMPORTS[kind]


# --- 人员: the staff list, roles ------------------------------------------------------------------------


def _staff_filters() -> dict:
    role = request.args.get("role") or None
    return {"q": (request.args.get("q") or "").strip()[:50] or None, "role": role if role in STAFF_ROLES else None}


@bp.get("/people")
def people():
    """人员: the staff (``users.list_staff``, as ``GET /api/v1/admin/staff``) by 工号, searchable by name or
    工号 and filterable by role, each with its roles to grant or revoke; the roster imports above."""
    filters = _staff_filters()
    params = _Page(_page_number())
    rows = users.list_staff(actor=g.console_actor, params=params, **filters)
    query = {k: v for k, v in filters.items() if v is not None}
    return render_template("console/people.html", rows=rows, params=params, filters=filters, query=query,
                           imports=IMPORTS, roles=STAFF_ROLES, labels=ROLE_LABELS)


@bp.get("/people/students")
def people_students():
    """学生: the students on the roster (``users.list_students``) by 学号, searchable by name or 学号 and
    filterable by class, paginated."""
    filters = {"q": (request.args.get("q") or "").strip()[:50] or None, "class_id": _int_arg("class_id")}
    params = _Page(_page_number())
    rows = users.list_students(actor=g.console_actor, params=params, **filters)
    query = {k: v for k, v in filters.items() if v is not None}
    return render_template("console/people_students.html", rows=rows, params=params, filters=filters, query=query,
                           classes=users.list_classes())


def _roles_row(staff_id: int, *, grant: bool) -> str:
    """授予 / 取消 one role (``users.change_staff_role``, which sets the roles through the service the API's
    ``PUT /api/v1/admin/staff/<id>/roles`` calls: admins, audited); answers the row as it now is."""
    staff = users.change_staff_role(actor=g.console_actor, staff_id=staff_id, role=request.form.get("role", ""),
                                    grant=grant)
    return render_template("console/_people_staff_row.html", s=staff, roles=STAFF_ROLES, labels=ROLE_LABELS)


@bp.post("/people/staff/<int:staff_id>/roles/grant")
def grant_role(staff_id: int):
    """授予 a role."""
    return _roles_row(staff_id, grant=True)


@bp.post("/people/staff/<int:staff_id>/roles/revoke")
def revoke_role(staff_id: int):
    """取消 a role (the page asks first); the service keeps at least one, and an admin's own 管理员."""
    return _roles_row(staff_id, grant=False)


# --- 人员: roster import ---------------------------------------------------------------------------------


def _import_result(kind: str, result: ImportResult, token: str | None = None) -> str:
    return render_template("console/_people_import_result.html", kind=kind, label=IMPORTS[kind][0], result=result,
                           token=token)


@bp.post("/people/import/<string:kind>")
def import_roster(kind: str):
    """The .xlsx dry run of a staff or students sheet (``users.import_staff`` / ``import_students`` with
    ``dry_run``, as ``POST /api/v1/admin/roster/<kind>?dry_run=true``): every bad row listed and nothing
    written; a clean sheet is kept (15 minutes) for 确认导入."""
    _label, importer, _columns = _import_kind(kind)
    actor = g.console_actor
    require_roles(actor, "admin")
    data, result, errors = _dry_run(lambda sheet: importer(actor=actor, data=sheet, dry_run=True))
    if errors is not None:
        return errors
    token = service.keep_sheet(actor=actor, purpose=f"users.import:{kind}", data=data)
    return _import_result(kind, result, token)


@bp.post("/people/import/<string:kind>/confirm")
def confirm_roster(kind: str):
    """确认导入 of a sheet that passed its dry run: the service's checks again, then every row or none."""
    _label, importer, _columns = _import_kind(kind)
    actor = g.console_actor
    purpose, token = f"users.import:{kind}", request.form.get("token", "")
    data = service.sheet(actor=actor, purpose=purpose, token=token)
    result = importer(actor=actor, data=data, dry_run=False)
    service.drop_sheet(actor=actor, purpose=purpose, token=token)
    return _import_result(kind, result)


# --- 场所: the tree and a building's room codes -----------------------------------------------------------

_ALL = 500  # a level of the tree on one page (a campus has far fewer buildings, a floor fewer rooms)


def _children(parent_id: int | None, kind: str | None = None) -> list:
    return places.list_places(params=_Page(1, page_size=_ALL), parent_id=parent_id, kind=kind)


@bp.get("/places")
def places_tree():
    """场所: campus → building → floor → room (``places.list_places``, as ``GET /api/v1/places``), one
    level at a time below the chosen place, each building with its printable sheet of room codes."""
    require_roles(g.console_actor, "admin", "dispatcher")
    parent_id = _int_arg("parent_id")
    parent = places.view(places.get_place(parent_id)) if parent_id is not None else None
    rows = _children(parent_id)
    return render_template("console/places.html", parent=parent, rows=rows, kinds=KIND_LABELS,
                           building=PlaceKind.BUILDING)


@bp.get("/places/<int:place_id>/code")
def place_code(place_id: int):
    """A room's printable code, the same image as ``GET /api/v1/places/<id>/qrcode`` (``places.qr_image``)."""
    return places.qr_image(actor=g.console_actor, place_id=place_id).response()


@bp.get("/places/<int:building_id>/codes")
def place_codes_sheet(building_id: int):
    """打印房间码: every room of a building, floor by floor, 3 × 4 codes on an A4 page with the room's name
    under each (print CSS; a page break after every twelve)."""
    require_roles(g.console_actor, "admin", "dispatcher")
    building = places.get_place(building_id)
    if building.kind != PlaceKind.BUILDING:
        raise ValidationFailed(message="请选择一栋楼打印房间码", errors={"building_id": ["不是楼栋"]})
    rooms = [(floor, room) for floor in _children(building.id, PlaceKind.FLOOR)
             for room in _children(floor.id, PlaceKind.ROOM)]
    pages = [rooms[i:i + 12] for i in range(0, len(rooms), 12)]
    return render_template("console/places_codes.html", building=places.view(building), pages=pages, count=len(rooms),
                           back=url_for("console.places_tree", parent_id=building.id))
