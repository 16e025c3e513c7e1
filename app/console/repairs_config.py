"""The console's repairs configuration pages (报修设置), one tab each: 分类 (categories: add, edit, retire),
材料 (materials, unit price typed and shown in 元, stored in fen), 维修班组 (worker groups, their members
and who is on duty), 派单规则 (category × building → group), 时限 (deadline policies per category and
urgency, clock or working time) and 节假日 (a year's holidays and make-up working days: one day at a time,
or a whole list at once, every line or none).

Every action is the repairs service function the API calls, with the signed-in person as actor, so the
services decide who may do what: admins everything; dispatchers the groups and the rules (and see the
rest); anyone else the services' 403. A form goes through the API's own schema. Each POST answers the row
or the section it changed (htmx swaps it) and clears the error area; errors are the console's error
fragment. Registered on the console's Blueprint (``views.bp``)."""

from __future__ import annotations

from flask import g, render_template, request, url_for

from app.console.canteen import _day
from app.console.finance import _fen_of, _int_arg, _load
from app.console.views import _Page, bp
from app.core import clock
from app.core.errors import ValidationFailed
from app.places import service as places
from app.repairs import service as repairs
from app.repairs.schemas import (
    CalendarDaySchema,
    CategorySchema,
    CategoryUpdateSchema,
    GroupSchema,
    GroupUpdateSchema,
    MaterialSchema,
    MaterialUpdateSchema,
    RuleSchema,
    SlaPolicySchema,
)
from app.repairs.sla import parse_span, span_label
from app.repairs.states import DEFAULT_SLA, URGENCY_LABELS, DeadlineKind, DispatchMode

TABS = {"categories": "分类", "materials": "材料", "groups": "维修班组", "rules": "派单规则", "deadlines": "时限",
        "holidays": "节假日"}
MODE_LABELS = {DispatchMode.AUTO: "自动派单（在岗且手上工单最少的人）",
               DispatchMode.POOL: "抢单（组内在岗的人先接先得）"}
KIND_LABELS = {"holiday": "放假", "workday": "调休上班"}
SPAN_UNITS = {"m": "分钟", "h": "小时", "d": "天", "wh": "个工作小时", "wd": "个工作日"}
DEADLINE_LABELS = {DeadlineKind.ACCEPT: "接单", DeadlineKind.ARRIVE: "到场", DeadlineKind.FINISH: "完成"}
WEEKDAYS = "一二三四五六日"
CLEAR_ERROR = '<div id="console-error" role="alert" hx-swap-oob="true"></div>'
"""Appended to a successful answer: the error area shows no error left over from an earlier try."""
FORM_ROWS = 8
"""Rows of the 节假日 bulk form (the pasted list takes any number)."""

CATEGORY_FIELDS = {"code": "编码", "name": "名称", "icon": "图标", "color": "颜色", "sort_order": "排序"}
MATERIAL_FIELDS = {"name": "名称", "unit": "单位", "unit_cost_fen": "单价"}
GROUP_FIELDS = {"name": "名称", "dispatch_mode": "派单方式"}
RULE_FIELDS = {"category_id": "类别", "building_id": "楼栋", "group_id": "维修组"}
POLICY_FIELDS = {"category_id": "类别", "urgency": "紧急程度", "accept_span": "接单时限", "arrive_span": "到场时限",
                 "finish_span": "完成时限"}
DAY_FIELDS = {"kind": "类型", "name": "名称"}


def _form(*names: str, drop_empty: bool = False) -> dict[str, str]:
    """The named fields of the posted form, stripped (``drop_empty``: the empty ones left out, so the
    schema's defaults apply)."""
    values = {n: request.form[n].strip() for n in names if n in request.form}
    return {n: v for n, v in values.items() if v} if drop_empty else values


def _optional_id(name: str) -> int | None:
    """A select whose empty choice means 全部 (any)."""
    if not request.form.get(name, ""):
        return None
    value = _int_arg(name, request.form)
    if value is None:
        raise ValidationFailed(message="请从列表中选择", errors={name: ["请从列表中选择"]})
    return value


def _answer(template: str, **context) -> str:
    return render_template(f"console/repairs_config_{template}.html", **context) + CLEAR_ERROR


def _page(tab: str, **context) -> str:
    return render_template("console/repairs_config.html", tab=tab, tabs=TABS, **context)


# --- 分类 ----------------------------------------------------------------------------------------------------


def _categories() -> dict:
    return {"categories": repairs.list_all_categories(actor=g.console_actor)}


@bp.get("/repairs/config")
def repairs_config():
    """报修设置 · 分类: every category (retired ones too) and, for admins, the forms to add and edit."""
    return _page("categories", **_categories())


@bp.post("/repairs/config/categories")
def repairs_config_add_category():
    """添加分类: ``create_category`` (admins), as ``POST /api/v1/admin/repairs/categories``."""
    data = _load(CategorySchema(), _form("code", "name", "icon", "color", "sort_order", drop_empty=True),
                 CATEGORY_FIELDS)
    repairs.create_category(actor=g.console_actor, **data)
    return _answer("categories", **_categories())


def _category_row(category) -> str:
    return _answer("category_row", c=category)


@bp.post("/repairs/config/categories/<int:category_id>")
def repairs_config_edit_category(category_id: int):
    """修改 name, icon, colour, order: ``update_category`` (admins)."""
    data = _load(CategoryUpdateSchema(), _form("name", "icon", "color", "sort_order"), CATEGORY_FIELDS)
    return _category_row(repairs.update_category(actor=g.console_actor, category_id=category_id, **data))


@bp.post("/repairs/config/categories/<int:category_id>/active")
def repairs_config_category_active(category_id: int):
    """停用 / 启用: a retired category is no longer offered to reporters; its repairs keep it."""
    active = request.form.get("active") == "1"
    return _category_row(repairs.update_category(actor=g.console_actor, category_id=category_id, active=active))


# --- 材料 ----------------------------------------------------------------------------------------------------


def _materials() -> dict:
    return {"materials": repairs.list_materials(actor=g.console_actor, include_inactive=True)}


@bp.get("/repairs/config/materials")
def repairs_config_materials():
    """报修设置 · 材料: the catalogue with unit prices in 元."""
    return _page("materials", **_materials())


def _material_data(schema) -> dict:
    return _load(schema, {**_form("name", "unit"), "unit_cost_fen": _fen_of("price")}, MATERIAL_FIELDS)


@bp.post("/repairs/config/materials")
def repairs_config_add_material():
    """添加材料: the price in 元 becomes fen; ``create_material`` (admins)."""
    repairs.create_material(actor=g.console_actor, **_material_data(MaterialSchema()))
    return _answer("materials", **_materials())


@bp.post("/repairs/config/materials/<int:material_id>")
def repairs_config_edit_material(material_id: int):
    """修改 name, unit, price (元): ``update_material`` (admins; past repairs keep the cost they had)."""
    material = repairs.update_material(actor=g.console_actor, material_id=material_id,
                                       **_material_data(MaterialUpdateSchema()))
    return _answer("material_row", m=material)


@bp.post("/repairs/config/materials/<int:material_id>/active")
def repairs_config_material_active(material_id: int):
    material = repairs.update_material(actor=g.console_actor, material_id=material_id,
                                       active=request.form.get("active") == "1")
    return _answer("material_row", m=material)


# --- 维修班组 ------------------------------------------------------------------------------------------------


def _workers() -> list:
    return repairs.list_workers(actor=g.console_actor)


def _groups() -> dict:
    return {"groups": repairs.list_groups(actor=g.console_actor), "workers": _workers(), "modes": MODE_LABELS}


@bp.get("/repairs/config/groups")
def repairs_config_groups():
    """报修设置 · 维修班组: each group with its dispatch mode, members and who is on duty."""
    return _page("groups", **_groups())


@bp.post("/repairs/config/groups")
def repairs_config_add_group():
    """新建班组: ``create_group`` (dispatchers, admins)."""
    data = _load(GroupSchema(), _form("name", "dispatch_mode", drop_empty=True), GROUP_FIELDS)
    repairs.create_group(actor=g.console_actor, **data)
    return _answer("groups", **_groups())


def _group(view) -> str:
    return _answer("group", grp=view, workers=_workers(), modes=MODE_LABELS)


@bp.post("/repairs/config/groups/<int:group_id>")
def repairs_config_edit_group(group_id: int):
    """改名 / 派单方式: ``update_group``."""
    data = _load(GroupUpdateSchema(), _form("name", "dispatch_mode"), GROUP_FIELDS)
    return _group(repairs.update_group(actor=g.console_actor, group_id=group_id, **data))


@bp.post("/repairs/config/groups/<int:group_id>/active")
def repairs_config_group_active(group_id: int):
    """停用 / 启用 a group: ``update_group(active=…)``."""
    return _group(repairs.update_group(actor=g.console_actor, group_id=group_id,
                                       active=request.form.get("active") == "1"))


@bp.post("/repairs/config/groups/<int:group_id>/members")
def repairs_config_add_member(group_id: int):
    """添加组员 (a worker), on duty or not: ``set_member``; coming on duty picks up queued work."""
    user_id = _int_arg("user_id", request.form)
    if user_id is None:
        raise ValidationFailed(message="请选择维修工", errors={"user_id": ["请选择维修工"]})
    on_duty = request.form.get("on_duty") == "1"
    return _group(repairs.set_member(actor=g.console_actor, group_id=group_id, user_id=user_id, on_duty=on_duty))


@bp.post("/repairs/config/groups/<int:group_id>/members/<int:user_id>/duty")
def repairs_config_member_duty(group_id: int, user_id: int):
    """在岗 / 休息: ``set_member(on_duty=…)`` (the same call as ``PUT …/members/<user_id>``)."""
    on_duty = request.form.get("on_duty") == "1"
    return _group(repairs.set_member(actor=g.console_actor, group_id=group_id, user_id=user_id, on_duty=on_duty))


@bp.post("/repairs/config/groups/<int:group_id>/members/<int:user_id>/remove")
def repairs_config_remove_member(group_id: int, user_id: int):
    """移出班组: ``remove_member``."""
    return _group(repairs.remove_member(actor=g.console_actor, group_id=group_id, user_id=user_id))


# --- 派单规则 ------------------------------------------------------------------------------------------------


def _buildings() -> dict[int, str]:
    found = places.list_places(params=_Page(1, page_size=500), kind="building")
    return {p.id: places.view(p).full_name for p in found}


def _rules() -> dict:
    actor = g.console_actor
    return {"rules": repairs.list_rules(actor=actor), "buildings": _buildings(),
            "categories": {c.id: c.name for c in repairs.list_all_categories(actor=actor)},
            "groups": {grp.id: grp.name for grp in repairs.list_groups(actor=actor)}}


@bp.get("/repairs/config/rules")
def repairs_config_rules():
    """报修设置 · 派单规则: (category or any) × (building or any) → group; the most specific rule wins."""
    return _page("rules", **_rules())


@bp.post("/repairs/config/rules")
def repairs_config_put_rule():
    """保存规则: ``put_rule`` (replaces the rule of the same category and building)."""
    data = _load(RuleSchema(), {"category_id": _optional_id("category_id"), "building_id": _optional_id("building_id"),
                                "group_id": _optional_id("group_id")}, RULE_FIELDS)
    repairs.put_rule(actor=g.console_actor, **data)
    return _answer("rules", **_rules())


@bp.post("/repairs/config/rules/<int:rule_id>/delete")
def repairs_config_delete_rule(rule_id: int):
    """删除规则 (confirmed in the page): ``delete_rule``."""
    repairs.delete_rule(actor=g.console_actor, rule_id=rule_id)
    return _answer("rules", **_rules())


# --- 时限 ----------------------------------------------------------------------------------------------------


def _deadlines() -> dict:
    actor = g.console_actor
    return {"policies": repairs.list_sla_policies(actor=actor), "span_label": span_label, "parse_span": parse_span,
            "categories": {c.id: c.name for c in repairs.list_all_categories(actor=actor)},
            "urgencies": URGENCY_LABELS, "kinds": DEADLINE_LABELS, "units": SPAN_UNITS, "defaults": DEFAULT_SLA}


@bp.get("/repairs/config/deadlines")
def repairs_config_deadlines():
    """报修设置 · 时限: the policies per category (or the default) and urgency; without one, the school's
    written policy applies."""
    return _page("deadlines", **_deadlines())


@bp.post("/repairs/config/deadlines")
def repairs_config_put_policy():
    """保存时限: each span is a number and a unit (clock time or working time); ``put_sla_policy`` (admins)
    replaces the policy of the same category and urgency."""
    spans = {f"{kind}_span": request.form.get(f"{kind}_amount", "").strip() + request.form.get(f"{kind}_unit", "")
             for kind in DeadlineKind}
    data = _load(SlaPolicySchema(), {"category_id": _optional_id("category_id"),
                                     "urgency": request.form.get("urgency", ""), **spans}, POLICY_FIELDS)
    repairs.put_sla_policy(actor=g.console_actor, **data)
    return _answer("deadlines", **_deadlines())


# --- 节假日 --------------------------------------------------------------------------------------------------


def _year(source=None) -> int:
    year = _int_arg("year", source)
    return year if year is not None and 2000 <= year <= 2100 else clock.local_now().year


def _holidays(year: int) -> dict:
    return {"year": year, "days": repairs.list_calendar(actor=g.console_actor, year=year), "kinds": KIND_LABELS,
            "weekdays": WEEKDAYS}


@bp.get("/repairs/config/holidays")
def repairs_config_holidays():
    """报修设置 · 节假日: a year's holidays and make-up working days (weekends are implied), one day to add,
    and a whole list at once (checked first: every bad line listed, nothing written)."""
    return _page("holidays", form_rows=range(1, FORM_ROWS + 1), **_holidays(_year()))


@bp.post("/repairs/config/holidays")
def repairs_config_set_day():
    """添加一天: ``set_calendar_day`` (admins); shows that day's year."""
    if not request.form.get("day"):
        raise ValidationFailed(message="请填写日期", errors={"day": ["请填写日期"]})
    day = _day("day", clock.local_now().date(), request.form)
    data = _load(CalendarDaySchema(), _form("kind", "name"), DAY_FIELDS)
    repairs.set_calendar_day(actor=g.console_actor, day=day, **data)
    return _answer("holidays", **_holidays(day.year))


@bp.post("/repairs/config/holidays/<string:day>/delete")
def repairs_config_delete_day(day: str):
    """删除 (confirmed in the page): the date follows the weekday/weekend rule again."""
    parsed = repairs.parse_day(day)
    repairs.delete_calendar_day(actor=g.console_actor, day=parsed)
    return _answer("holidays", **_holidays(parsed.year))


def _bulk_text() -> str:
    """The pasted list, or the form's rows as lines of the same shape (row N is line N)."""
    if "text" in request.form:
        return request.form["text"]
    lines = []
    for row in range(1, FORM_ROWS + 1):
        first, last, kind, name = (request.form.get(f"{f}_{row}", "").strip()
                                   for f in ("first", "last", "kind", "name"))
        lines.append(f"{first}~{last or first} {kind} {name}".strip() if first or last or name else "")
    return "\n".join(lines)


@bp.post("/repairs/config/holidays/import")
def repairs_config_import_days():
    """预览 (``dry_run=1``) or 确认添加 a list of days: ``import_calendar``, every line or none. Bad lines are
    listed (with the line as typed) and nothing is written; after writing, the year shown is refreshed."""
    text, dry_run = _bulk_text(), request.form.get("dry_run") == "1"
    try:
        result = repairs.import_calendar(actor=g.console_actor, text=text, dry_run=dry_run)
    except ValidationFailed as exc:
        rows = (exc.errors or {}).get("rows")
        if not rows:
            raise
        lines = text.splitlines()
        return render_template("console/repairs_config_calendar_errors.html", message=exc.message, source=(
            "text" if "text" in request.form else "form"), rows=[{**r, "line": lines[r["row"] - 1]} for r in rows])
    answer = render_template("console/repairs_config_calendar_result.html", result=result, kinds=KIND_LABELS)
    if not dry_run:
        answer += render_template("console/repairs_config_holidays.html", oob=True,
                                  **_holidays(_year(request.form)))
    return answer + CLEAR_ERROR


@bp.app_template_global("repairs_config_tab_url")
def _tab_url(tab: str) -> str:
    return url_for("console.repairs_config" if tab == "categories" else f"console.repairs_config_{tab}")
