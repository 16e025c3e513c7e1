"""Setting the canteen up (staff): canteens and their windows, dishes, daily menus with each dish's
portions, cap per person and prices per price group; copying a week's menus to the next week. Also
what everyone reads: the dishes and the menus of a day with the portions left (with their photos' URLs,
``photos``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.canteen.models import Canteen, CanteenWindow, Dish, Menu, MenuItem
from app.canteen.service import notices
from app.canteen.service.access import price_group, require_staff
from app.canteen.service.errors import CanteenNotFound, DishNotFound, MenuExists, MenuNotFound, NameTaken, SoldOut
from app.canteen.service.photos import photo_urls
from app.canteen.states import MEAL_LABELS, PICKUP_END_TIMER, PriceGroup, default_times
from app.core import allocation, audit, clock, timers
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import ValidationFailed

STOCK_KIND = "canteen.menu_item"


# --- canteens, windows, dishes ------------------------------------------------------------------------


def list_canteens() -> list[Canteen]:
    return list(db.session.scalars(select(Canteen).where(Canteen.active.is_(True)).order_by(Canteen.id)))


def create_canteen(*, actor: Actor, name: str, location: str = "") -> Canteen:
    require_staff(actor)
    if db.session.scalar(select(Canteen.id).where(Canteen.name == name)):
        raise NameTaken(message=f"已有名为「{name}」的食堂")
    canteen = Canteen(name=name, location=location)
    db.session.add(canteen)
    db.session.flush()
    audit.record("canteen", canteen.id, "create", actor_id=actor.user_id, after={"name": name})
    return canteen


def get_canteen(canteen_id: int) -> Canteen:
    canteen = db.session.get(Canteen, canteen_id)
    if canteen is None:
        raise CanteenNotFound()
    return canteen


def list_windows(canteen_id: int) -> list[CanteenWindow]:
    get_canteen(canteen_id)
    return list(db.session.scalars(select(CanteenWindow).where(CanteenWindow.canteen_id == canteen_id)
                                   .order_by(CanteenWindow.sort_order, CanteenWindow.id)))


def create_window(*, actor: Actor, canteen_id: int, name: str, sort_order: int = 0) -> CanteenWindow:
    require_staff(actor)
    get_canteen(canteen_id)
    if db.session.scalar(select(CanteenWindow.id).where(CanteenWindow.canteen_id == canteen_id,
                                                        CanteenWindow.name == name)):
        raise NameTaken(message=f"该食堂已有「{name}」")
    window = CanteenWindow(canteen_id=canteen_id, name=name, sort_order=sort_order)
    db.session.add(window)
    db.session.flush()
    audit.record("canteen_window", window.id, "create", actor_id=actor.user_id, after={"name": name})
    return window


@dataclass(frozen=True)
class DishView:
    id: int
    canteen_id: int
    window_id: int
    name: str
    price_fen: int
    tags: list[str]
    allergens: list[str]
    photo_url: str | None
    thumb_url: str | None


def dish_view(dish: Dish) -> DishView:
    """A dish as the API answers it, with signed URLs of its photo and thumbnail (None: no photo)."""
    urls = photo_urls(dish.photo_key, dish.photo_thumb_key)
    return DishView(id=dish.id, canteen_id=dish.canteen_id, window_id=dish.window_id, name=dish.name,
                    price_fen=dish.price_fen, tags=list(dish.tags or []), allergens=list(dish.allergens or []),
                    photo_url=urls.url, thumb_url=urls.thumb_url)


def dishes(canteen_id: int) -> list[DishView]:
    """The canteen's active dishes as the API answers them."""
    return [dish_view(d) for d in list_dishes(canteen_id)]


def list_dishes(canteen_id: int) -> list[Dish]:
    get_canteen(canteen_id)
    return list(db.session.scalars(select(Dish).where(Dish.canteen_id == canteen_id, Dish.active.is_(True))
                                   .order_by(Dish.id)))


def create_dish(*, actor: Actor, canteen_id: int, window_id: int, name: str, price_fen: int,
                tags: list[str] | None = None, allergens: list[str] | None = None) -> Dish:
    require_staff(actor)
    window = db.session.get(CanteenWindow, window_id)
    if window is None or window.canteen_id != canteen_id:
        raise ValidationFailed(errors={"window_id": ["窗口不属于该食堂"]})
    dish = Dish(canteen_id=canteen_id, window_id=window_id, name=name, price_fen=price_fen,
                tags=list(tags or []), allergens=list(allergens or []))
    db.session.add(dish)
    db.session.flush()
    audit.record("canteen_dish", dish.id, "create", actor_id=actor.user_id,
                 after={"name": name, "price_fen": price_fen})
    return dish


def update_dish(*, actor: Actor, dish_id: int, **changes: Any) -> Dish:
    """Change a dish's name, price (fen), tags, allergens or window (canteen staff; audited). Menus made
    already keep their prices: a menu item copies the price when it is made."""
    require_staff(actor)
    dish = db.session.get(Dish, dish_id)
    if dish is None:
        raise DishNotFound()
    window_id = changes.get("window_id")
    if window_id is not None:
        window = db.session.get(CanteenWindow, window_id)
        if window is None or window.canteen_id != dish.canteen_id:
            raise ValidationFailed(errors={"window_id": ["窗口不属于该食堂"]})
    before = {k: getattr(dish, k) for k in changes}
    for name, value in changes.items():
        setattr(dish, name, list(value) if isinstance(value, list) else value)
    db.session.flush()
    audit.record("canteen_dish", dish.id, "update", actor_id=actor.user_id,
                 before={k: list(v) if isinstance(v, list) else v for k, v in before.items()}, after=changes)
    return dish


# --- menus ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    id: int
    dish_id: int
    name: str
    window_id: int
    window_name: str
    tags: list[str]
    allergens: list[str]
    prices: dict[str, int]
    portions: int
    remaining: int
    max_per_person: int
    photo_url: str | None = None
    thumb_url: str | None = None


@dataclass(frozen=True)
class MenuView:
    id: int
    canteen_id: int
    canteen_name: str
    day: date
    meal: str
    meal_label: str
    max_per_order: int
    orders_close_at: datetime
    cancel_until: datetime
    pickup_from: datetime
    pickup_until: datetime
    open: bool
    items: list[ItemView]
    price_group: str | None = None
    """The caller's price group (what they pay is ``items[].prices[price_group]``); None for staff views."""


def _prices(base_fen: int, prices: dict[str, int] | None) -> dict[str, int]:
    """Every price group's price: what was given, else the dish's price."""
    given = dict(prices or {})
    unknown = set(given) - {g.value for g in PriceGroup}
    if unknown:
        raise ValidationFailed(errors={"prices": [f"未知的价格类别：{', '.join(sorted(unknown))}"]})
    out = {g.value: int(given.get(g.value, base_fen)) for g in PriceGroup}
    if any(v <= 0 for v in out.values()):
        raise ValidationFailed(errors={"prices": ["价格应为正整数（分）"]})
    return out


def _add_item(menu: Menu, *, dish_id: int, portions: int, max_per_person: int = 2,
              prices: dict[str, int] | None = None) -> MenuItem:
    dish = db.session.get(Dish, dish_id)
    if dish is None or dish.canteen_id != menu.canteen_id:
        raise DishNotFound()
    if db.session.scalar(select(MenuItem.id).where(MenuItem.menu_id == menu.id, MenuItem.dish_id == dish.id)):
        raise ValidationFailed(errors={"items": [f"菜品重复：{dish.name}"]})
    item_id = db.session.scalar(select(func.nextval("canteen_menu_items_id_seq")))  # the stock's subject
    stock = allocation.create_stock(kind=STOCK_KIND, subject_id=item_id, total=portions)
    item = MenuItem(id=item_id, menu_id=menu.id, dish_id=dish.id, window_id=dish.window_id, stock_id=stock.id,
                    max_per_person=max_per_person, prices=_prices(dish.price_fen, prices))
    db.session.add(item)
    db.session.flush()
    return item


def create_menu(*, actor: Actor, canteen_id: int, day: date, meal: str, items: list[dict[str, Any]],
                max_per_order: int = 5, orders_close_at: datetime | None = None, cancel_until: datetime | None = None,
                pickup_from: datetime | None = None, pickup_until: datetime | None = None) -> Menu:
    """A menu for ``meal`` on ``day``; the cut-off, cancellation deadline and pickup window follow the
    policy of ``states.py`` unless given."""
    require_staff(actor)
    get_canteen(canteen_id)
    if db.session.scalar(select(Menu.id).where(Menu.canteen_id == canteen_id, Menu.day == day, Menu.meal == meal)):
        raise MenuExists()
    times = default_times(day, meal, clock.school_zone())
    given = {"orders_close_at": orders_close_at, "cancel_until": cancel_until, "pickup_from": pickup_from,
             "pickup_until": pickup_until}
    times.update({k: v for k, v in given.items() if v is not None})
    if times["cancel_until"] > times["orders_close_at"]:
        raise ValidationFailed(errors={"cancel_until": ["取消截止时间不能晚于订餐截止时间"]})
    if times["pickup_from"] >= times["pickup_until"]:
        raise ValidationFailed(errors={"pickup_until": ["取餐结束时间应晚于开始时间"]})
    menu = Menu(canteen_id=canteen_id, day=day, meal=meal, max_per_order=max_per_order,
                created_by=actor.user_id, **times)
    db.session.add(menu)
    db.session.flush()
    for spec in items:
        _add_item(menu, **spec)
    timers.schedule(PICKUP_END_TIMER, menu.id, menu.pickup_until)
    notices.schedule(menu)
    audit.record("canteen_menu", menu.id, "create", actor_id=actor.user_id,
                 after={"day": day.isoformat(), "meal": meal, "items": len(items)})
    return menu


def set_portions(*, actor: Actor, menu_item_id: int, portions: int) -> ItemView:
    """Change a dish's portions; never below what is already ordered (409)."""
    require_staff(actor)
    item = db.session.get(MenuItem, menu_item_id)
    if item is None:
        raise MenuNotFound()
    if not allocation.set_total(item.stock_id, portions):
        raise SoldOut("canteen.portions_taken", "份数不能少于已订出的份数")
    audit.record("canteen_menu_item", item.id, "set_portions", actor_id=actor.user_id, after={"portions": portions})
    return next(i for i in menu_view(item.menu_id).items if i.id == item.id)


def copy_week(*, actor: Actor, canteen_id: int, week_start: date) -> list[Menu]:
    """Copy the menus of the week starting ``week_start`` to the week after, with the same dishes,
    portions, caps and prices; a day and meal that has a menu already is skipped."""
    require_staff(actor)
    get_canteen(canteen_id)
    source = db.session.scalars(select(Menu).where(
        Menu.canteen_id == canteen_id, Menu.day >= week_start, Menu.day < week_start + timedelta(days=7))
        .order_by(Menu.day, Menu.meal)).all()
    made = []
    for menu in source:
        day = menu.day + timedelta(days=7)
        if db.session.scalar(select(Menu.id).where(Menu.canteen_id == canteen_id, Menu.day == day,
                                                   Menu.meal == menu.meal)):
            continue
        items = db.session.scalars(select(MenuItem).where(MenuItem.menu_id == menu.id).order_by(MenuItem.id)).all()
        totals = {s.id: s.total for s in db.session.scalars(
            select(allocation.Stock).where(allocation.Stock.id.in_([i.stock_id for i in items])))}
        week = timedelta(days=7)
        made.append(create_menu(
            actor=actor, canteen_id=canteen_id, day=day, meal=menu.meal, max_per_order=menu.max_per_order,
            orders_close_at=menu.orders_close_at + week, cancel_until=menu.cancel_until + week,
            pickup_from=menu.pickup_from + week, pickup_until=menu.pickup_until + week,
            items=[{"dish_id": i.dish_id, "portions": totals[i.stock_id], "max_per_person": i.max_per_person,
                    "prices": i.prices} for i in items]))
    return made


def get_menu(menu_id: int) -> Menu:
    menu = db.session.get(Menu, menu_id)
    if menu is None:
        raise MenuNotFound()
    return menu


def _views(menus: list[Menu]) -> list[MenuView]:
    if not menus:
        return []
    ids = [m.id for m in menus]
    rows = db.session.execute(
        select(MenuItem, Dish, CanteenWindow.name, allocation.Stock.total, allocation.Stock.remaining)
        .join(Dish, Dish.id == MenuItem.dish_id).join(CanteenWindow, CanteenWindow.id == MenuItem.window_id)
        .join(allocation.Stock, allocation.Stock.id == MenuItem.stock_id)
        .where(MenuItem.menu_id.in_(ids)).order_by(CanteenWindow.sort_order, MenuItem.id)).all()
    items: dict[int, list[ItemView]] = {i: [] for i in ids}
    for item, dish, window_name, total, left in rows:
        urls = photo_urls(dish.photo_key, dish.photo_thumb_key)
        items[item.menu_id].append(ItemView(
            id=item.id, dish_id=dish.id, name=dish.name, window_id=item.window_id, window_name=window_name,
            tags=list(dish.tags or []), allergens=list(dish.allergens or []),
            prices={k: int(v) for k, v in item.prices.items()}, portions=total, remaining=left,
            max_per_person=item.max_per_person, photo_url=urls.url, thumb_url=urls.thumb_url))
    names = dict(db.session.execute(select(Canteen.id, Canteen.name).where(
        Canteen.id.in_({m.canteen_id for m in menus}))).all())
    now = clock.now()
    return [MenuView(id=m.id, canteen_id=m.canteen_id, canteen_name=names.get(m.canteen_id, ""), day=m.day,
                     meal=m.meal, meal_label=MEAL_LABELS[m.meal], max_per_order=m.max_per_order,
                     orders_close_at=m.orders_close_at, cancel_until=m.cancel_until, pickup_from=m.pickup_from,
                     pickup_until=m.pickup_until, open=now < m.orders_close_at, items=items[m.id])
            for m in menus]


def menu_view(menu_id: int) -> MenuView:
    return _views([get_menu(menu_id)])[0]


def menus(*, day: date | None = None, meal: str | None = None, canteen_id: int | None = None,
          actor: Actor | None = None) -> list[MenuView]:
    """The menus of ``day`` (default: today, school time) with the portions left of each dish; with
    ``actor``, their price group (the price they pay: ``items[].prices[price_group]``)."""
    stmt = select(Menu).where(Menu.day == (day or clock.local_now().date()))
    if meal:
        stmt = stmt.where(Menu.meal == meal)
    if canteen_id:
        stmt = stmt.where(Menu.canteen_id == canteen_id)
    views = _views(list(db.session.scalars(stmt.order_by(Menu.canteen_id, Menu.pickup_from))))
    if actor is None:
        return views
    group = price_group(actor)
    return [replace(v, price_group=group) for v in views]
