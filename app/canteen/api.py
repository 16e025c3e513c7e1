"""Canteen: the menus of a day with portions left, ordering (paid through WeChat Pay), my orders, cancel,
the order's QR code; for canteen staff: canteens, windows, dishes, menus, copying a week, pickups by code
or QR, the production sheet and the pickup progress."""

from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView

from app.canteen import service
from app.canteen.schemas import (
    CanteenSchema,
    CopyWeekSchema,
    DepartmentOrderCreateSchema,
    DishPhotoFileSchema,
    DishSchema,
    DishUpdateSchema,
    MenuCreateSchema,
    MenuItemSchema,
    MenuQuerySchema,
    MenuSchema,
    MonthQuerySchema,
    OrderCreateSchema,
    OrdererInSchema,
    OrdererSchema,
    OrderSchema,
    OrdersQuerySchema,
    PickupSchema,
    PlacedSchema,
    PortionsSchema,
    ProgressSchema,
    SalesQuerySchema,
    SalesRowSchema,
    SheetSchema,
    StatementSchema,
    WindowSchema,
)
from app.core.auth import current_actor
from app.core.blueprint import Blueprint
from app.core.ratelimit import per_user
from app.core.storage import send_stored
from app.extensions import limiter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

blp = Blueprint("canteen", __name__, url_prefix="/api/v1/canteen", description="订餐：菜单、下单支付、取餐、后厨")


# --- everyone ---------------------------------------------------------------------------------------------


@blp.route("/canteens")
class Canteens(MethodView):
    @blp.response(200, CanteenSchema(many=True))
    def get(self):
        """The canteens."""
        current_actor()
        return service.list_canteens()

    @blp.arguments(CanteenSchema)
    @blp.response(201, CanteenSchema)
    @blp.alt_response(409, description="`canteen.name_taken`")
    def post(self, data):
        """Add a canteen (canteen staff, admins; audited)."""
        return service.create_canteen(actor=current_actor(), **data)


@blp.route("/canteens/<int:canteen_id>/windows")
class Windows(MethodView):
    @blp.response(200, WindowSchema(many=True))
    def get(self, canteen_id):
        """The canteen's windows (stalls)."""
        current_actor()
        return service.list_windows(canteen_id)

    @blp.arguments(WindowSchema)
    @blp.response(201, WindowSchema)
    @blp.alt_response(409, description="`canteen.name_taken`")
    def post(self, data, canteen_id):
        """Add a window (canteen staff, admins; audited)."""
        return service.create_window(actor=current_actor(), canteen_id=canteen_id, **data)


@blp.route("/canteens/<int:canteen_id>/dishes")
class Dishes(MethodView):
    @blp.response(200, DishSchema(many=True))
    def get(self, canteen_id):
        """The canteen's dishes, with signed URLs of their photos and thumbnails."""
        current_actor()
        return service.dishes(canteen_id)

    @blp.arguments(DishSchema)
    @blp.response(201, DishSchema)
    def post(self, data, canteen_id):
        """Add a dish with its price in fen, tags and allergens (canteen staff, admins; audited)."""
        return service.dish_view(service.create_dish(actor=current_actor(), canteen_id=canteen_id, **data))


@blp.route("/dishes/<int:dish_id>")
class DishById(MethodView):
    @blp.arguments(DishUpdateSchema)
    @blp.response(200, DishSchema)
    @blp.alt_response(404, description="`canteen.dish_not_found`")
    def put(self, data, dish_id):
        """Change a dish's name, price in fen, tags, allergens or window: only the fields sent (a PUT, not
        a PATCH: the mini-program's `wx.request` has no PATCH). Canteen staff, admins; audited. Menus made
        already keep their prices."""
        return service.dish_view(service.update_dish(actor=current_actor(), dish_id=dish_id, **data))


@blp.route("/dishes/<int:dish_id>/photo")
class DishPhoto(MethodView):
    decorators = [limiter.limit("30/minute", key_func=per_user, methods=["POST"])]

    @blp.arguments(DishPhotoFileSchema, location="files")
    @blp.response(200, DishSchema)
    @blp.alt_response(403, description="`canteen.forbidden`: canteen staff and admins only")
    @blp.alt_response(413, description="`uploads.too_large`: more than 10 MB")
    @blp.alt_response(422, description="`uploads.not_an_image`, `uploads.image_too_large`, `uploads.corrupt_image`")
    @blp.alt_response(503, description="`uploads.busy`: every image slot is taken; try again after `Retry-After`")
    def post(self, files, dish_id):
        """Upload the dish's photo (multipart `file`, as `wx.uploadFile` sends it), replacing the one it had:
        checked and re-encoded as a repair photo is; the thumbnail for the menu list follows shortly
        (until then `thumb_url` is the photo). Canteen staff, admins; audited."""
        return service.dish_view(service.set_dish_photo(actor=current_actor(), dish_id=dish_id,
                                                        data=files["file"].read()))

    @blp.response(200, DishSchema)
    def delete(self, dish_id):
        """Remove the dish's photo (canteen staff, admins; audited); without one, nothing changes."""
        return service.dish_view(service.remove_dish_photo(actor=current_actor(), dish_id=dish_id))


@blp.route("/dish-photos/<string:token>")
class SignedDishPhoto(MethodView):
    @blp.response(200, content_type="image/jpeg")
    @blp.alt_response(403, description="`uploads.link_expired`: fetch the dishes or menus again for a fresh link")
    def get(self, token):
        """A dish photo or thumbnail through a signed URL from a dish or menu answer (for `<image src>`,
        which cannot send a token). No login: the signature is the permission."""
        return send_stored(service.signed_photo(token=token), max_age=service.photo_url_ttl())


@blp.route("/menus")
class Menus(MethodView):
    @blp.arguments(MenuQuerySchema, location="query")
    @blp.response(200, MenuSchema(many=True))
    def get(self, query):
        """The menus of a day (default today), with each dish's prices and the portions left, and the
        caller's `price_group` (the price they pay is `items[].prices[price_group]`)."""
        return service.menus(day=query["date"], meal=query["meal"], canteen_id=query["canteen_id"],
                             actor=current_actor())

    @blp.arguments(MenuCreateSchema)
    @blp.response(201, MenuSchema)
    @blp.alt_response(409, description="`canteen.menu_exists`")
    def post(self, data):
        """A menu for one meal of one day: dishes with portions, a cap per person and prices per price group
        (`staff`, `student`, `external`); cut-off, cancellation deadline and pickup window from the policy
        unless given (canteen staff, admins)."""
        menu = service.create_menu(actor=current_actor(), **data)
        return service.menu_view(menu.id)


@blp.route("/menus/copy-week")
class CopyWeek(MethodView):
    @blp.arguments(CopyWeekSchema)
    @blp.response(201, MenuSchema(many=True))
    def post(self, data):
        """Copy a week's menus to the next week; days and meals with a menu already are skipped."""
        made = service.copy_week(actor=current_actor(), **data)
        return [service.menu_view(m.id) for m in made]


@blp.route("/menu-items/<int:menu_item_id>/portions")
class Portions(MethodView):
    @blp.arguments(PortionsSchema)
    @blp.response(200, MenuItemSchema)
    @blp.alt_response(409, description="`canteen.portions_taken`: fewer than already ordered")
    def put(self, data, menu_item_id):
        """Change a dish's portions (canteen staff, admins)."""
        return service.set_portions(actor=current_actor(), menu_item_id=menu_item_id, **data)


@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(OrderCreateSchema)
    @blp.response(201, PlacedSchema)
    @blp.alt_response(409, description="`canteen.sold_out`, `canteen.orders_closed`, `canteen.over_cap`")
    def post(self, data):
        """Order: the portions are held and a payment opened (`payment.payment_id`); WeChat is not asked
        here. Paying is the next call, `POST /payments/{payment_id}/checkout`, whose `params` go to
        `wx.requestPayment`. Unpaid after 10 minutes the order expires and its portions go back. The
        same `request_id` again answers the same order."""
        return service.place_order(actor=current_actor(), **data)


@blp.route("/orders/mine")
class Mine(MethodView):
    @blp.arguments(OrdersQuerySchema, location="query")
    @blp.response(200, OrderSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """My orders, newest first."""
        return service.my_orders(actor=current_actor(), params=pagination_parameters, **query)


@blp.route("/orders/<int:order_id>")
class OrderDetail(MethodView):
    @blp.response(200, OrderSchema)
    def get(self, order_id):
        """An order of mine (its pickup code while paid); someone else's is a 404."""
        return service.order_detail(actor=current_actor(), order_id=order_id)


@blp.route("/orders/<int:order_id>/cancel")
class Cancel(MethodView):
    @blp.response(200, OrderSchema)
    @blp.alt_response(409, description="`canteen.cancel_closed`: past the cancellation deadline")
    def post(self, order_id):
        """Cancel my order before the deadline: portions back, a paid order refunded in full."""
        return service.cancel(actor=current_actor(), order_id=order_id)


@blp.route("/orders/<int:order_id>/qr")
class OrderQr(MethodView):
    @blp.response(200, content_type="image/png", description="the order's QR code, scanned at the window")
    def get(self, order_id):
        """The QR code of my paid order."""
        return service.order_qr(actor=current_actor(), order_id=order_id).response()


# --- staff ------------------------------------------------------------------------------------------------


@blp.route("/pickups")
class Pickups(MethodView):
    @blp.arguments(PickupSchema)
    @blp.response(200, OrderSchema)
    @blp.alt_response(409, description="`canteen.already_picked_up` (the message says when)")
    def post(self, data):
        """Hand an order out by its 6-digit code or its QR token (canteen staff, admins): once."""
        return service.verify(actor=current_actor(), **data)


@blp.route("/menus/<int:menu_id>/production")
class Production(MethodView):
    @blp.response(200, SheetSchema)
    def get(self, menu_id):
        """The production sheet: portions ordered per dish and window (`final` after the cut-off)."""
        return service.production_sheet(actor=current_actor(), menu_id=menu_id)


@blp.route("/menus/<int:menu_id>/progress")
class Progress(MethodView):
    @blp.response(200, ProgressSchema)
    def get(self, menu_id):
        """The pickup progress: paid and waiting, picked up, no-show."""
        return service.progress(actor=current_actor(), menu_id=menu_id)


@blp.route("/stats/sales")
class Sales(MethodView):
    @blp.arguments(SalesQuerySchema, location="query")
    @blp.response(200, SalesRowSchema(many=True))
    def get(self, query):
        """Sales and waste per menu and dish between two days (at most 92; canteen staff, admins)."""
        return service.sales(actor=current_actor(), **query)


@blp.route("/stats/sales/export")
class SalesExport(MethodView):
    @blp.arguments(SalesQuerySchema, location="query")
    @blp.response(200, content_type=XLSX, description="one row per menu and dish")
    def get(self, query):
        """Sales and waste as .xlsx (canteen staff, admins; the export is audited)."""
        data = service.export_sales(actor=current_actor(), **query)
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="canteen-sales.xlsx")


# --- departments (订餐员) ----------------------------------------------------------------------------------


@blp.route("/departments/<int:department_id>/orderers")
class Orderers(MethodView):
    @blp.response(200, OrdererSchema(many=True))
    def get(self, department_id):
        """The department's 订餐员 (canteen staff, admins)."""
        return service.orderers(actor=current_actor(), department_id=department_id)

    @blp.arguments(OrdererInSchema)
    @blp.response(200, OrdererSchema(many=True))
    def post(self, data, department_id):
        """Name an active staff member of the department 订餐员 (canteen staff, admins; audited; twice
        changes nothing)."""
        return service.name_orderer(actor=current_actor(), department_id=department_id, **data)


@blp.route("/departments/<int:department_id>/orderers/<int:user_id>")
class Orderer(MethodView):
    @blp.response(204)
    def delete(self, department_id, user_id):
        """Take the 订餐员 role away (canteen staff, admins; audited)."""
        service.remove_orderer(actor=current_actor(), department_id=department_id, user_id=user_id)


@blp.route("/departments/<int:department_id>/orders")
class DepartmentOrders(MethodView):
    @blp.arguments(DepartmentOrderCreateSchema)
    @blp.response(201, OrderSchema)
    @blp.alt_response(403, description="`canteen.not_orderer`")
    @blp.alt_response(409, description="`canteen.sold_out`, `canteen.orders_closed`, `canteen.over_cap`")
    def post(self, data, department_id):
        """The department's 订餐员 orders for `headcount` colleagues: no WeChat payment, billed to the
        department at the staff price, paid at once with one pickup code. Caps are the menu's per person
        and per order times the headcount. Cancel like any order (`/orders/{id}/cancel`): the charge goes."""
        return service.place_department_order(actor=current_actor(), department_id=department_id, **data)


@blp.route("/departments/<int:department_id>/statements")
class Statements(MethodView):
    @blp.arguments(MonthQuerySchema, location="query")
    @blp.response(200, StatementSchema)
    @blp.alt_response(403, description="`canteen.department_forbidden`")
    def get(self, query, department_id):
        """The department's monthly statement: one line per billed order of the month (by the meal's day),
        totals in fen (canteen staff, finance, the department's 订餐员)."""
        return service.statement(actor=current_actor(), department_id=department_id, **query)


@blp.route("/departments/<int:department_id>/statements/export")
class StatementExport(MethodView):
    @blp.arguments(MonthQuerySchema, location="query")
    @blp.response(200, content_type=XLSX, description="one row per order and a total row")
    def get(self, query, department_id):
        """The monthly statement as .xlsx (audited)."""
        data, name = service.export_statement(actor=current_actor(), department_id=department_id, **query)
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)
