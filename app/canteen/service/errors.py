"""The canteen's errors: stable codes, Chinese messages."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound


class CanteenNotFound(NotFound):
    error_code, message = "canteen.not_found", "食堂不存在"


class MenuNotFound(NotFound):
    error_code, message = "canteen.menu_not_found", "菜单不存在"


class DishNotFound(NotFound):
    error_code, message = "canteen.dish_not_found", "菜品不存在"


class OrderNotFound(NotFound):
    error_code, message = "canteen.order_not_found", "订单不存在"


class SoldOut(Conflict):
    error_code, message = "canteen.sold_out", "所选菜品已售罄"


class OrdersClosed(Conflict):
    error_code, message = "canteen.orders_closed", "已过订餐截止时间"


class OverCap(Conflict):
    error_code, message = "canteen.over_cap", "超过限购份数"


class CancelClosed(Conflict):
    error_code, message = "canteen.cancel_closed", "已过取消截止时间，不能取消"


class CodeNotFound(NotFound):
    error_code, message = "canteen.code_not_found", "取餐码无效"


class AlreadyPickedUp(Conflict):
    error_code, message = "canteen.already_picked_up", "已取餐"


class MenuExists(Conflict):
    error_code, message = "canteen.menu_exists", "该餐次的菜单已存在"


class RequestReused(Conflict):
    error_code, message = "canteen.request_reused", "请求编号已用于另一份订单"


class NameTaken(Conflict):
    error_code, message = "canteen.name_taken", "名称已被使用"
