"""The console's canteen pages (食堂): dishes with their photos (upload, replace, remove) and the menus of a
week (create, portions, 复制到下周), the
production sheet of a menu with the live pickup progress, sales and waste with a chart and the .xlsx
export, and a department's monthly statement with its 订餐员. Every action is the canteen service function
the API calls, with the signed-in person as actor: canteen staff and admins run it (the service's 403 for
anyone else); finance reads the statements too. Registered on the console's Blueprint (``views.bp``)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask import g, render_template, request, send_file, url_for

from app.canteen import service as canteen
from app.canteen.states import MEAL_LABELS, PriceGroup
from app.console.finance import XLSX, _int_arg, _to, _upload
from app.console.views import bp
from app.core import clock
from app.core.errors import NotFound, ValidationFailed
from app.users import service as users

GROUP_LABELS = {PriceGroup.STAFF: "教职工", PriceGroup.STUDENT: "学生", PriceGroup.EXTERNAL: "校外"}


def _day(name: str, default: date, source=None) -> date:
    text = (source if source is not None else request.args).get(name, "")
    if not text:
        return default
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(message="日期格式应为 YYYY-MM-DD", errors={name: ["日期格式不正确"]}) from None
    if not 2000 <= day.year <= 2100:
        raise ValidationFailed(message="日期应在 2000 年到 2100 年之间", errors={name: ["日期超出范围"]})
    return day


def _fen(text: str, field: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 0 or value > 10000 or value != value.quantize(Decimal("0.01")):
        raise ValidationFailed(message="价格应为大于 0 的数字（元），最多两位小数", errors={field: ["价格格式不正确"]})
    return int(value * 100)


def _count(field: str, *, low: int = 0, high: int = 100000, default: int | None = None) -> int:
    text = request.form.get(field, "").strip()
    if not text and default is not None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 6 and low <= int(text) <= high):
        raise ValidationFailed(message=f"请填写 {low} 到 {high} 之间的整数", errors={field: ["数量不正确"]})
    return int(text)


def _canteen_id(source=None) -> int:
    canteens = canteen.list_canteens()
    wanted = _int_arg("canteen_id", source)
    for c in canteens:
        if wanted is None or c.id == wanted:
            return c.id
    raise NotFound(message="还没有食堂" if wanted is None else "食堂不存在")


# --- 菜品与菜单 ---------------------------------------------------------------------------------------


@bp.get("/canteen/menus")
def canteen_menus():
    """菜品与菜单: the dishes of a canteen, the menus of a week (date × meal) with the portions left, the
    forms to add a dish and a menu, and 复制到下周."""
    canteen.require_staff(g.console_actor)
    canteen_id = _canteen_id()
    today = clock.local_now().date()
    week = _day("week", today)
    week -= timedelta(days=week.weekday())
    days = [week + timedelta(days=i) for i in range(7)]
    grid = {(m.day, m.meal): m for d in days for m in canteen.menus(day=d, canteen_id=canteen_id)}
    return render_template("console/canteen_menus.html", canteens=canteen.list_canteens(), canteen_id=canteen_id,
                           dishes=canteen.dishes(canteen_id), windows=canteen.list_windows(canteen_id),
                           week=week, days=days, grid=grid, meals=MEAL_LABELS, groups=GROUP_LABELS,
                           prev_week=week - timedelta(days=7), next_week=week + timedelta(days=7))


@bp.post("/canteen/dishes")
def create_canteen_dish():
    """添加菜品: ``canteen.create_dish`` (price in 元)."""
    form = request.form
    canteen_id = _canteen_id(form)
    name = form.get("name", "").strip()
    if not 0 < len(name) <= 40:
        raise ValidationFailed(message="请填写菜名（最多 40 个字）", errors={"name": ["请填写菜名"]})
    window_id = _int_arg("window_id", form)
    price = _fen(form.get("price", ""), "price")
    if window_id is None or price is None:
        raise ValidationFailed(message="请选择窗口并填写价格", errors={"window_id": ["请选择窗口"]})
    canteen.create_dish(actor=g.console_actor, canteen_id=canteen_id, window_id=window_id, name=name, price_fen=price)
    return _to(url_for("console.canteen_menus", canteen_id=canteen_id, week=form.get("week") or None))


def _back_to_menus(dish) -> str:
    return url_for("console.canteen_menus", canteen_id=dish.canteen_id, week=request.form.get("week") or None)


@bp.post("/canteen/dishes/<int:dish_id>/photo")
def upload_canteen_dish_photo(dish_id: int):
    """上传照片 / 更换照片 (multipart ``file``): ``canteen.set_dish_photo``, checked and re-encoded as in the
    mini-program; a refused file is the service's message in the error fragment."""
    dish = canteen.set_dish_photo(actor=g.console_actor, dish_id=dish_id,
                                  data=_upload("请选择要上传的照片（JPG、PNG、WebP）"))
    return _to(_back_to_menus(dish))


@bp.post("/canteen/dishes/<int:dish_id>/photo/delete")
def remove_canteen_dish_photo(dish_id: int):
    """删除照片 (after the page's confirm): ``canteen.remove_dish_photo``."""
    return _to(_back_to_menus(canteen.remove_dish_photo(actor=g.console_actor, dish_id=dish_id)))


@bp.post("/canteen/menus")
def create_canteen_menu():
    """新建菜单: the dishes ticked, each with portions, cap per person and prices per group (元; empty: the
    dish's price) — ``canteen.create_menu``."""
    form = request.form
    canteen_id = _canteen_id(form)
    day = _day("day", clock.local_now().date(), form)
    meal = form.get("meal", "")
    if meal not in MEAL_LABELS:
        raise ValidationFailed(message="请选择餐次", errors={"meal": ["请选择餐次"]})
    items = []
    for dish_id in [int(v) for v in form.getlist("dish_ids") if v.isascii() and v.isdigit() and len(v) <= 18]:
        prices = {grp.value: fen for grp in PriceGroup
                  if (fen := _fen(form.get(f"price_{grp.value}_{dish_id}", ""), "prices")) is not None}
        items.append({"dish_id": dish_id, "portions": _count(f"portions_{dish_id}", low=1),
                      "max_per_person": _count(f"cap_{dish_id}", low=1, high=20, default=2), "prices": prices})
    if not items:
        raise ValidationFailed(message="请至少选择一个菜品", errors={"dish_ids": ["请选择菜品"]})
    menu = canteen.create_menu(actor=g.console_actor, canteen_id=canteen_id, day=day, meal=meal, items=items,
                               max_per_order=_count("max_per_order", low=1, high=50, default=5))
    return _to(url_for("console.canteen_menu", menu_id=menu.id))


@bp.post("/canteen/copy-week")
def copy_canteen_week():
    """复制到下周: ``canteen.copy_week`` of the week shown; opens the next week."""
    form = request.form
    canteen_id = _canteen_id(form)
    week = _day("week", clock.local_now().date(), form)
    week -= timedelta(days=week.weekday())
    canteen.copy_week(actor=g.console_actor, canteen_id=canteen_id, week_start=week)
    return _to(url_for("console.canteen_menus", canteen_id=canteen_id, week=(week + timedelta(days=7)).isoformat()))


@bp.get("/canteen/menus/<int:menu_id>")
def canteen_menu(menu_id: int):
    """A menu: its dishes with portions, left, caps and prices; 修改份数 through htmx."""
    canteen.require_staff(g.console_actor)
    return render_template("console/canteen_menu.html", menu=canteen.menu_view(menu_id), groups=GROUP_LABELS)


@bp.post("/canteen/menu-items/<int:item_id>/portions")
def set_canteen_portions(item_id: int):
    """修改份数 (``canteen.set_portions``: never below what is ordered); answers the row as it now is."""
    item = canteen.set_portions(actor=g.console_actor, menu_item_id=item_id, portions=_count("portions"))
    return render_template("console/_canteen_item_row.html", i=item, groups=GROUP_LABELS)


# --- 备餐单 -------------------------------------------------------------------------------------------


@bp.get("/canteen/menus/<int:menu_id>/sheet")
def canteen_sheet(menu_id: int):
    """备餐单: portions per dish per window (printable), and the pickup progress polled every 5 s."""
    actor = g.console_actor
    sheet = canteen.production_sheet(actor=actor, menu_id=menu_id)
    return render_template("console/canteen_sheet.html", sheet=sheet, menu=canteen.menu_view(menu_id),
                           progress=canteen.progress(actor=actor, menu_id=menu_id))


@bp.get("/canteen/menus/<int:menu_id>/progress")
def canteen_progress(menu_id: int):
    return render_template("console/_canteen_progress.html",
                           progress=canteen.progress(actor=g.console_actor, menu_id=menu_id))


# --- 销售与损耗 ---------------------------------------------------------------------------------------


def _sales_query() -> dict:
    today = clock.local_now().date()
    return {"canteen_id": _canteen_id(), "date_from": _day("from", today - timedelta(days=6)),
            "date_to": _day("to", today)}


@bp.get("/canteen/sales")
def canteen_sales():
    """销售与损耗: per menu and dish, sold vs picked up, with the waste (not collected + not sold), a chart."""
    canteen.require_staff(g.console_actor)
    query = _sales_query()
    rows = canteen.sales(actor=g.console_actor, **query)
    chart = [{"name": f"{r.day.month}/{r.day.day}{MEAL_LABELS[r.meal]} {r.dish_name}", "sold": r.sold,
              "picked_up": r.picked_up, "waste": r.waste} for r in rows]
    args = {"canteen_id": query["canteen_id"], "from": query["date_from"].isoformat(),
            "to": query["date_to"].isoformat()}
    totals = {k: sum(getattr(r, k) for r in rows) for k in ("portions", "sold", "picked_up", "waste", "revenue_fen")}
    return render_template("console/canteen_sales.html", rows=rows, chart=chart, query=query, meals=MEAL_LABELS,
                           canteens=canteen.list_canteens(), totals=totals,
                           export_url=url_for("console.canteen_sales_export", **args))


@bp.get("/canteen/sales/export")
def canteen_sales_export():
    data = canteen.export_sales(actor=g.console_actor, **_sales_query())
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="canteen-sales.xlsx")


# --- 部门结算 -----------------------------------------------------------------------------------------


def _statement_query() -> tuple[int, str]:
    departments = users.list_departments()
    wanted = _int_arg("department_id")
    department_id = wanted if wanted is not None else (departments[0].id if departments else 0)
    month = request.args.get("month", "")
    if not (len(month) == 7 and month[4] == "-" and month[:4].isdigit() and month[5:].isdigit()
            and 2000 <= int(month[:4]) <= 2100 and 1 <= int(month[5:]) <= 12):
        month = clock.local_now().date().strftime("%Y-%m")
    return department_id, month


@bp.get("/canteen/statements")
def canteen_statement():
    """部门结算: a department's billed orders of a month with totals (``canteen.statement``), the .xlsx, and —
    for canteen staff — its 订餐员 (add / remove)."""
    actor = g.console_actor
    department_id, month = _statement_query()
    s = canteen.statement(actor=actor, department_id=department_id, month=month)
    staff = canteen.is_staff(actor)
    return render_template(
        "console/canteen_statement.html", s=s, month=month, departments=users.list_departments(), staff=staff,
        orderers_html=_orderers(department_id) if staff else "",
        export_url=url_for("console.canteen_statement_export", department_id=department_id, month=month))


@bp.get("/canteen/statements/export")
def canteen_statement_export():
    department_id, month = _statement_query()
    data, name = canteen.export_statement(actor=g.console_actor, department_id=department_id, month=month)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)


def _orderers(department_id: int) -> str:
    """The 订餐员 list and, to add one, the department's active staff who are not 订餐员 yet."""
    named = canteen.orderers(actor=g.console_actor, department_id=department_id)
    taken = {o.user_id for o in named}
    ids = [uid for uid in users.staff_user_ids(department_ids=[department_id]) if uid not in taken]
    names = users.display_names(ids)
    return render_template("console/_canteen_orderers.html", department_id=department_id, orderers=named,
                           candidates=[(uid, names.get(uid, "")) for uid in ids])


@bp.post("/canteen/departments/<int:department_id>/orderers")
def add_canteen_orderer(department_id: int):
    """添加订餐员 (``canteen.name_orderer``: an active staff member of the department)."""
    user_id = _int_arg("user_id", request.form)
    if user_id is None:
        raise ValidationFailed(message="请选择教职工", errors={"user_id": ["请选择教职工"]})
    canteen.name_orderer(actor=g.console_actor, department_id=department_id, user_id=user_id)
    return _orderers(department_id)


@bp.post("/canteen/departments/<int:department_id>/orderers/<int:user_id>/remove")
def remove_canteen_orderer(department_id: int, user_id: int) -> str:
    canteen.remove_orderer(actor=g.console_actor, department_id=department_id, user_id=user_id)
    return _orderers(department_id)

