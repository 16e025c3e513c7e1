"""月报: one printable page per month with each module's key figures against the previous month, ECharts
charts and the .xlsx download (``console.service.monthly_report``). Each section comes from its domain's
service with the signed-in person as actor, so a role sees exactly the modules the services let it see.
Registered on the console's Blueprint (``views.bp``), so the sign-in, CSRF and error rules of ``views``
apply unchanged."""

from __future__ import annotations

import io

from flask import g, render_template, request, send_file, url_for

from app.console import service
from app.console.finance import XLSX
from app.console.views import bp


def _month() -> service.Month:
    return service.parse_month(request.args.get("month", "").strip())


@bp.get("/report")
def monthly_report():
    """月报 of ``?month=YYYY-MM`` (this month by default): figures, differences, charts, print and export."""
    month = _month()
    report = service.monthly_report(actor=g.console_actor, month=month)
    return render_template("console/report.html", report=report, month=month, latest=service.parse_month(""),
                           export_url=url_for("console.monthly_report_export", month=month.key))


@bp.get("/report/export")
def monthly_report_export():
    """The month's report as .xlsx (the same figures as the page; audited)."""
    report = service.monthly_report(actor=g.console_actor, month=_month())
    data = service.export_report(actor=g.console_actor, report=report)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"monthly-report-{report.month.key}.xlsx")
