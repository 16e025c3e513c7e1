from __future__ import annotations

from flask.views import MethodView

from app.core.auth import current_actor
from app.core.blueprint import Blueprint
from app.core.schemas import ImportFileSchema, ImportQuerySchema, ImportResultSchema
from app.places import service
from app.places.schemas import PlaceDetailSchema, PlaceQuerySchema, PlaceSchema, QrQuerySchema

blp = Blueprint("places", __name__, url_prefix="/api/v1", description="地点：校区、楼栋、楼层、房间")


@blp.route("/places")
class Places(MethodView):
    @blp.arguments(PlaceQuerySchema, location="query")
    @blp.response(200, PlaceSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Browse the tree (children of `parent_id`, campuses by default) or search by name or code."""
        current_actor()
        return service.list_places(params=pagination_parameters, **query)


@blp.route("/places/<int:place_id>")
class PlaceById(MethodView):
    @blp.response(200, PlaceDetailSchema)
    def get(self, place_id):
        """One place with its path from the campus down."""
        current_actor()
        return service.view(service.get_place(place_id))


@blp.route("/places/by-code/<string:code>")
class PlaceByCode(MethodView):
    @blp.response(200, PlaceDetailSchema)
    def get(self, code):
        """Resolve a place code, e.g. the `p=<code>` scene of a room's QR code."""
        current_actor()
        return service.view(service.get_by_code(code))


@blp.route("/places/<int:place_id>/qrcode")
class PlaceQr(MethodView):
    @blp.arguments(QrQuerySchema, location="query")
    @blp.response(200, content_type="image/png", description="PNG to print; `X-Code-Source` says which kind")
    def get(self, query, place_id):
        """A printable code that opens the mini-program on this place (admins, dispatchers)."""
        return service.qr_image(actor=current_actor(), place_id=place_id, prefer=query["source"]).response()


@blp.route("/admin/places/import")
class ImportPlaces(MethodView):
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportResultSchema)
    @blp.alt_response(422, description="`places.import_invalid`: `errors.rows` lists every bad row; nothing imported")
    def post(self, query, files):
        """Import places from .xlsx (编码, 名称, 类型, 上级编码): all rows or none."""
        return service.import_places(actor=current_actor(), data=files["file"].read(), dry_run=query["dry_run"])
