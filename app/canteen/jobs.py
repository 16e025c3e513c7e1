"""Canteen timer handlers (registered in ``create_app``; they run inside ``app.core.timers.fire``'s
transaction, re-check the order or menu as it is now and act at most once)."""

from __future__ import annotations

from app.canteen import service
from app.core.jobs import job


def pickup_end_due(menu_id: int) -> int:
    """Timer ``canteen.pickup_end``: the pickup window ended — uncollected paid orders become no-shows."""
    return service.pickup_end_due(menu_id)


def pickup_start_due(menu_id: int) -> int:
    """Timer ``canteen.pickup_start``: the pickup window opened — "可以取餐了" to everyone waiting, in bulk."""
    return service.pickup_start_due(menu_id)


def pickup_closing_due(menu_id: int) -> int:
    """Timer ``canteen.pickup_closing``: 15 minutes before the window ends — "取餐即将结束", in bulk."""
    return service.pickup_closing_due(menu_id)


@job
def make_dish_thumbnail(dish_id: int, key: str) -> bool:
    """The thumbnail of a dish's new photo (the menu list shows it), if the photo is still the dish's."""
    return service.make_dish_thumbnail(dish_id, key)
