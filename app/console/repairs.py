"""The console's repairs pages (报修): the dispatcher's working queue (filters and sort on the server, 派单 and
转派 in the row through htmx), a repair's detail (its photos streamed through the console session, the
deadlines, the timeline, materials and cost, the rating, and the actions this person may take now), and the
statistics with charts and the .xlsx export.

Every action is the repairs service function the API calls, with the signed-in person as actor: ``perform``
as ``POST /api/v1/repairs/{id}/<action>``, ``reprioritise``, ``statistics`` and ``export_statistics`` as the
statistics endpoints, ``photo_file`` as ``GET /api/v1/repairs/photos/{id}``. Dispatchers and admins use
them; anyone else gets the services' 403. The configuration pages (categories, materials, groups, rules,
deadlines, holidays) are ``app.console.repairs_config``. Registered on the console's Blueprint
(``views.bp``), so the sign-in, CSRF and error rules of ``views`` hold unchanged."""

from __future__ import annotations

import functools
import io
from datetime import date

from flask import g, render_template, request, send_file, url_for

from app.console.canteen import _day
from app.console.finance import XLSX, _int_arg, _load, _to
from app.console.views import _Page, _page_number, bp
from app.core.errors import ValidationFailed
from app.core.storage import send_stored
from app.places import service as places
from app.repairs import service as repairs_service
from app.repairs.schemas import OptionalReasonSchema, ReasonSchema, ReprioritiseSchema, WorkerChoiceSchema
from app.repairs.states import STATUS_LABELS, URGENCY_LABELS, Status

REPAIR_VIEWS = {"open": ("未完成工单", {}), "overdue": ("已超时", {"overdue": True}),
                "unassigned": ("待派单", {"unassigned": True})}
SORT_LABELS = {"due": "超时优先，再按时限", "urgent": "紧急优先", "newest": "最新报修在前", "oldest": "最早报修在前"}
FIELDS = {"worker_id": "维修工", "reason": "原因", "urgency": "紧急程度"}
PHOTO_KINDS = {"report": "报修照片", "after": "维修后照片"}


def _dispatchers(view):
    """These pages are the dispatchers' and admins' (``repairs.require_dispatcher``): another console role gets
    403 before anything is read, whatever it may do to a repair in the mini-program."""
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        repairs_service.require_dispatcher(g.console_actor)
        return view(*args, **kwargs)
    return guarded


def _labels() -> dict:
    return {"statuses": STATUS_LABELS, "urgencies": URGENCY_LABELS}


# --- 报修工单: the dispatcher's queue ------------------------------------------------------------------


def _queue_query() -> dict:
    args = request.args
    view = args.get("view", "open")
    status = args.get("status") or None
    sort = args.get("sort") or "due"
    return {"view": view if view in REPAIR_VIEWS else "open",
            "status": status if status in {s.value for s in Status} else None,
            "category_id": _int_arg("category_id"), "building_id": _int_arg("building_id"),
            "sort": sort if sort in repairs_service.QUEUE_SORTS else "due"}


def _picker(actor) -> list[tuple[str, list[tuple[int, str]]]]:
    """The assign / transfer picker: every active worker under each of their groups (on duty or not, and their
    open work), the groups in name order; workers of no group last (``repairs.list_workers``)."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for w in repairs_service.list_workers(actor=actor):
        for group in w.groups or [{"name": "", "on_duty": None}]:
            duty = {True: "在岗，", False: "不在岗，", None: ""}[group["on_duty"]]
            groups.setdefault(group["name"], []).append((w.user_id, f"{w.name}（{duty}未完成 {w.open_count}）"))
    named = sorted((name, workers) for name, workers in groups.items() if name)
    return named + ([("未分组", groups[""])] if "" in groups else [])


def _with_actions(view):
    if not view.actions:
        view.actions = repairs_service.available_actions(view.repair, view.roles)
    return view


def _row(view, picker) -> str:
    return render_template("console/_repair_row.html", r=_with_actions(view), picker=picker, **_labels())


@bp.get("/repairs")
def repairs():
    """未完成 / 已超时 / 待派单: the dispatcher's queue (``repairs.list_queue``, as ``GET /api/v1/repairs/queue``),
    overdue first unless another order is chosen, filtered by status, category and building; each row links
    to the repair and offers 派单 or 转派."""
    actor = g.console_actor
    query = _queue_query()
    title, filters = REPAIR_VIEWS[query["view"]]
    params = _Page(_page_number())
    rows = repairs_service.list_queue(actor=actor, params=params, status=query["status"], sort=query["sort"],
                                      category_id=query["category_id"], building_id=query["building_id"], **filters)
    picker = _picker(actor)
    return render_template(
        "console/repairs.html", rows=[_with_actions(r) for r in rows], picker=picker, params=params, title=title,
        tab_items=[(key, label) for key, (label, _filters) in REPAIR_VIEWS.items()], query=query,
        args={k: v for k, v in query.items() if v is not None}, sorts=SORT_LABELS,
        categories=repairs_service.list_categories(),
        buildings=places.list_places(params=_Page(1, page_size=500), kind="building"), **_labels())


def _worker_choice() -> dict:
    worker_id = _int_arg("worker_id", request.form)
    if worker_id is None:
        raise ValidationFailed(message="请选择维修工", errors={"worker_id": ["请选择维修工"]})
    return _load(WorkerChoiceSchema(), {"worker_id": worker_id, "reason": _text("reason")}, FIELDS)


def _text(name: str) -> str | None:
    return request.form.get(name, "").strip() or None


def _done(view) -> str:
    """After an action: the detail page again (HX-Redirect) when it came from there, else the queue's row as
    it now is."""
    if request.form.get("next") == "detail":
        return _to(url_for("console.repair_detail", repair_id=view.id))
    return _row(view, _picker(g.console_actor))


def _perform(repair_id: int, action: str, **payload) -> str:
    """One workflow action through ``repairs.perform``, as ``POST /api/v1/repairs/{id}/<action>``."""
    return _done(repairs_service.perform(actor=g.console_actor, repair_id=repair_id, action=action, **payload))


@bp.post("/repairs/<int:repair_id>/assign")
@_dispatchers
def assign_repair(repair_id: int):
    """派单 to the worker chosen (``perform(action="assign")``: 409 once someone else was faster)."""
    return _perform(repair_id, "assign", **_worker_choice())


@bp.post("/repairs/<int:repair_id>/transfer")
@_dispatchers
def transfer_repair(repair_id: int):
    """转派 to another worker (``perform(action="transfer")``; the page asks to confirm)."""
    return _perform(repair_id, "transfer", **_worker_choice())


@bp.post("/repairs/<int:repair_id>/cancel")
@_dispatchers
def cancel_repair(repair_id: int):
    """取消 with an optional reason (``perform(action="cancel")``)."""
    data = _load(OptionalReasonSchema(), {"reason": _text("reason")}, FIELDS)
    return _perform(repair_id, "cancel", **data)


@bp.post("/repairs/<int:repair_id>/reopen")
@_dispatchers
def reopen_repair(repair_id: int):
    """重新报修 with a reason (``perform(action="reopen")``: within 7 days of closing)."""
    data = _load(ReasonSchema(), {"reason": _text("reason") or ""}, FIELDS)
    return _perform(repair_id, "reopen", **data)


@bp.post("/repairs/<int:repair_id>/reprioritise")
@_dispatchers
def reprioritise_repair(repair_id: int):
    """调整紧急程度 (``repairs.reprioritise``: unmet deadlines follow the new policy)."""
    data = _load(ReprioritiseSchema(), {"urgency": request.form.get("urgency", ""), "reason": _text("reason")},
                 FIELDS)
    return _done(repairs_service.reprioritise(actor=g.console_actor, repair_id=repair_id, **data))


# --- a repair ------------------------------------------------------------------------------------------


@bp.get("/repairs/<int:repair_id>")
@_dispatchers
def repair_detail(repair_id: int):
    """A repair: reporter, place, category, urgency, description, photos, deadlines, the timeline (every
    change with who and when), materials and cost, the rating, and the actions this person may take
    (``repairs.get_repair``, as ``GET /api/v1/repairs/{id}``)."""
    actor = g.console_actor
    view = repairs_service.get_repair(actor=actor, repair_id=repair_id)
    picker = _picker(actor) if {"assign", "transfer"} & set(view.actions) else []
    return render_template("console/repair_detail.html", r=view, picker=picker, kinds=PHOTO_KINDS, **_labels())


@bp.get("/repairs/photos/<int:photo_id>")
def repair_photo(photo_id: int):
    """A repair's photo (``?size=thumb``: its thumbnail) for a console user who may see it — the same rule
    as ``GET /api/v1/repairs/photos/{id}`` (``repairs.photo_file``): anyone else gets 404."""
    photo = repairs_service.photo_file(actor=g.console_actor, photo_id=photo_id,
                                       thumb=request.args.get("size") == "thumb")
    return send_stored(photo.key, url=photo.url, max_age=repairs_service.photo_url_ttl())


# --- 报修统计 ------------------------------------------------------------------------------------------


def _stats_range() -> tuple[date | None, date | None]:
    date_from, date_to = _day("from", None), _day("to", None)
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed(message="开始日期不能晚于结束日期", errors={"from": ["开始日期不能晚于结束日期"]})
    return date_from, date_to


@bp.get("/repairs/stats")
@_dispatchers
def repair_stats():
    """报修统计 by category, building, worker or month (``repairs.statistics``, as ``GET /api/v1/repairs/stats``):
    reports, time to accept, time to repair, deadlines met, satisfaction and cost, with charts; a date range;
    the .xlsx export."""
    by = request.args.get("by", "category")
    by = by if by in repairs_service.DIMENSION_LABELS else "category"
    date_from, date_to = _stats_range()
    rows = repairs_service.statistics(actor=g.console_actor, by=by, date_from=date_from, date_to=date_to)
    chart = [{"name": r.label, "reports": r.reports, "completed": r.completed, "accept": r.avg_accept_minutes,
              "repair": r.avg_repair_minutes, "sla": r.sla_compliance, "cost": r.material_cost_fen / 100}
             for r in rows]
    dates = {"from": date_from.isoformat() if date_from else None, "to": date_to.isoformat() if date_to else None}
    dates = {k: v for k, v in dates.items() if v}
    return render_template("console/repair_stats.html", rows=rows, chart=chart, by=by, dates=dates,
                           dimensions=repairs_service.DIMENSION_LABELS,
                           tab_items=[(k, f"按{label}") for k, label in repairs_service.DIMENSION_LABELS.items()],
                           export_url=url_for("console.repair_stats_export", **dates))


@bp.get("/repairs/stats/export")
@_dispatchers
def repair_stats_export():
    """The statistics as .xlsx (``repairs.export_statistics``, as ``GET /api/v1/repairs/stats/export``;
    audited): one sheet per dimension and one row per repair."""
    date_from, date_to = _stats_range()
    data = repairs_service.export_statistics(actor=g.console_actor, date_from=date_from, date_to=date_to)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="repairs-stats.xlsx")
