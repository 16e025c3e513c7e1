"""The console's parcel-locker pages (快递柜): every bank's compartments live (a grid coloured by state,
refreshed every 5 s through htmx, offline banks marked), parcels waiting and overdue with the fee due,
door faults with the repair report they opened, the peak-day capacity chart (free compartments by size,
parcels waiting, compartments expected to become free per hour) and the overdue fees collected per day.
Station staff (``app.lockers.states.STAFF``: admins) only — anyone else gets the lockers service's 403.
Registered on the console's Blueprint (``views.bp``)."""

from __future__ import annotations

from datetime import timedelta

from flask import g, render_template, request

from app.console.canteen import _count, _day
from app.console.finance import _int_arg
from app.console.views import _Page, _page_number, bp
from app.core import clock
from app.lockers import service as lockers
from app.lockers.states import COMPARTMENT_LABELS, STAFF, Size
from app.places import service as places

SIZE_LABELS = {Size.S: "小格", Size.M: "中格", Size.L: "大格"}


@bp.context_processor
def _lockers_context() -> dict:
    """Who sees the 快递柜 links (base.html): the lockers' staff roles."""
    return {"lockers_staff": STAFF}


def _grid() -> str:
    return render_template("console/_locker_grid.html", banks=lockers.bank_grid(actor=g.console_actor),
                           statuses=COMPARTMENT_LABELS.statuses, sizes=SIZE_LABELS)


@bp.get("/lockers")
def locker_banks():
    """柜机状态: a grid per bank, one cell per compartment coloured by its state, refreshed every 5 s."""
    return render_template("console/locker_banks.html", grid=_grid())


@bp.post("/lockers/banks")
def add_locker_bank():
    """新增快递柜: ``lockers.add_bank`` (a place by its code, compartments by size, the controller's
    address); answers the new bank with its controller's secret, shown this once."""
    actor = g.console_actor
    lockers.require_staff(actor)
    form = request.form
    place = places.get_by_code(form.get("place_code", "").strip())
    installed = lockers.add_bank(actor=actor, code=form.get("code", "").strip(), name=form.get("name", ""),
                                 place_id=place.id, base_url=form.get("base_url", "").strip(),
                                 sizes={str(s): _count(f"size_{s}", high=200, default=0) for s in Size})
    return render_template("console/_locker_installed.html", b=installed)


@bp.get("/lockers/grid")
def locker_grid():
    """The grid alone (what the banks page polls)."""
    return _grid()


@bp.get("/lockers/parcels")
def locker_parcels():
    """待取包裹: parcels waiting (or overdue, or to return), the longest waiting first, with the fee due."""
    actor = g.console_actor
    status = request.args.get("status") or "waiting"
    bank_id = _int_arg("bank_id")
    params = _Page(_page_number())
    rows = lockers.list_parcels(actor=actor, params=params, status=status, bank_id=bank_id)
    query = {"status": status, **({"bank_id": bank_id} if bank_id is not None else {})}
    return render_template("console/locker_parcels.html", rows=rows, params=params, query=query, status=status,
                           bank_id=bank_id, filters=lockers.PARCEL_FILTERS, banks=lockers.bank_grid(actor=actor))


@bp.get("/lockers/faults")
def locker_faults():
    """柜门故障: compartments out of service, with the repair report their door opened and when."""
    params = _Page(_page_number())
    rows = lockers.door_faults(actor=g.console_actor, params=params)
    return render_template("console/locker_faults.html", rows=rows, params=params)


def capacity_chart(actor, bank_id: int | None = None) -> dict:
    """What the capacity chart draws, straight from the lockers service: per bank the free compartments by
    size and the parcels waiting; per coming hour the compartments expected to become free."""
    banks = [b for b in lockers.capacity(actor=actor) if bank_id is None or b["id"] == bank_id]
    releases = lockers.expected_releases(actor=actor, bank_id=bank_id)
    return {"banks": [b["name"] for b in banks],
            "free": {str(size): [b["free"][str(size)] for b in banks] for size in Size},
            "waiting": [b["parcels_waiting"] for b in banks],
            "hours": releases["hours"], "releases": releases["releases"]}


@bp.get("/lockers/capacity")
def locker_capacity():
    """高峰容量: free compartments by size and parcels waiting per bank, releases expected per hour."""
    actor = g.console_actor
    lockers.require_staff(actor)
    bank_id = _int_arg("bank_id")
    return render_template("console/locker_capacity.html", chart=capacity_chart(actor, bank_id), bank_id=bank_id,
                           banks=lockers.bank_grid(actor=actor), sizes=SIZE_LABELS)


@bp.get("/lockers/fees")
def locker_fees():
    """超期费收入: the overdue fees paid per day of a range (the last 7 days by default), with the total."""
    today = clock.local_now().date()
    date_from, date_to = _day("from", today - timedelta(days=6)), _day("to", today)
    figures = lockers.fees_collected(actor=g.console_actor, date_from=date_from, date_to=date_to)
    return render_template("console/locker_fees.html", figures=figures, date_from=date_from, date_to=date_to)
