"""The canteen's use cases. Keyword-only functions taking the actor; they flush, never commit.

* ``pickup`` — staff verify an order by pickup code or QR token (once); no-shows at the window's end.
* ``kitchen`` — the production sheet per menu and window, the live pickup progress, sales and waste.
* ``departments`` — 订餐员 named per department order for colleagues, billed to the department; the
  department's monthly statement (also .xlsx).
* ``ordering`` — place an order (portions through ``app.core.allocation``, payment through the payable
  contract), what payments says (paid → pickup code, closed → expired), cancel with refund, my orders.
* ``photos`` — a dish's photo (upload, replace, remove), its thumbnail job and its signed URLs.
* ``setup`` — canteens, windows, dishes, daily menus with portions, caps and prices; copy a week; the
  menus of a day with the portions left.
* ``notices`` — what the canteen tells people (paid, ready for pickup, pickup closing, refunded) and the
  menu timers that send the bulk ones.
* ``access`` — who runs the canteen (``canteen``, ``admin``), whose order it is, which price group.
* ``errors`` — the domain's error codes.
"""

from __future__ import annotations

from app.canteen.service.access import is_staff, price_group, require_staff
from app.canteen.service.departments import (
    export_statement,
    name_orderer,
    orderers,
    place_department_order,
    remove_orderer,
    statement,
)
from app.canteen.service.errors import (
    AlreadyPickedUp,
    CancelClosed,
    CodeNotFound,
    MenuExists,
    OrderNotFound,
    OrdersClosed,
    OverCap,
    SoldOut,
)
from app.canteen.service.kitchen import day_figures, export_sales, production_sheet, progress, sales
from app.canteen.service.notices import pickup_closing_due, pickup_start_due, refunded
from app.canteen.service.ordering import (
    BIZ_TYPE,
    cancel,
    closed,
    my_orders,
    order_detail,
    order_qr,
    paid,
    place_order,
    present,
)
from app.canteen.service.photos import (
    make_dish_thumbnail,
    photo_url_ttl,
    remove_dish_photo,
    set_dish_photo,
    signed_photo,
)
from app.canteen.service.pickup import pickup_end_due, verify
from app.canteen.service.setup import (
    copy_week,
    create_canteen,
    create_dish,
    create_menu,
    create_window,
    dish_view,
    dishes,
    get_canteen,
    list_canteens,
    list_dishes,
    list_windows,
    menu_view,
    menus,
    set_portions,
    update_dish,
)

__all__ = [
    "refunded",
    "pickup_start_due",
    "pickup_closing_due",
    "statement",
    "remove_orderer",
    "place_department_order",
    "orderers",
    "name_orderer",
    "export_statement",
    "BIZ_TYPE",
    "AlreadyPickedUp",
    "CancelClosed",
    "CodeNotFound",
    "MenuExists",
    "OrderNotFound",
    "OrdersClosed",
    "OverCap",
    "SoldOut",
    "cancel",
    "closed",
    "copy_week",
    "day_figures",
    "create_canteen",
    "create_dish",
    "create_menu",
    "create_window",
    "is_staff",
    "export_sales",
    "get_canteen",
    "list_canteens",
    "list_dishes",
    "list_windows",
    "menu_view",
    "menus",
    "my_orders",
    "order_detail",
    "order_qr",
    "paid",
    "pickup_end_due",
    "place_order",
    "present",
    "price_group",
    "production_sheet",
    "progress",
    "require_staff",
    "sales",
    "set_portions",
    "dish_view",
    "dishes",
    "update_dish",
    "make_dish_thumbnail",
    "photo_url_ttl",
    "remove_dish_photo",
    "set_dish_photo",
    "signed_photo",
    "verify",
]
