"""What the console does, one module per use case; callers use ``from app.console import service``.

- ``signin``: one-time sign-in codes (QR confirmed from the mini-program, ``flask console-link``), the
  console's login sessions, idle timeout, who may use the console.
- ``dashboard``: 首页's figures and charts, from the domains' own service functions.
- ``report``: 月报, one month's figures per module against the month before, and its .xlsx.
- ``uploads``: an uploaded sheet kept between its dry run and its confirmation.
"""

from app.console.service.dashboard import Dashboard, dashboard
from app.console.service.report import Month, Report, export_report, monthly_report, parse_month
from app.console.service.signin import (
    CONSOLE_ROLES,
    LinkCode,
    LoginCode,
    NotConsoleUser,
    ScanView,
    confirm,
    create_link,
    create_login_code,
    end,
    is_console_user,
    poll,
    reject,
    scan,
    sign_in_with_link,
)
from app.console.service.uploads import SheetExpired, drop_sheet, keep_sheet, sheet

__all__ = [
    "CONSOLE_ROLES",
    "Dashboard",
    "LinkCode",
    "LoginCode",
    "Month",
    "NotConsoleUser",
    "Report",
    "ScanView",
    "SheetExpired",
    "confirm",
    "create_link",
    "create_login_code",
    "dashboard",
    "drop_sheet",
    "end",
    "export_report",
    "is_console_user",
    "keep_sheet",
    "monthly_report",
    "parse_month",
    "poll",
    "reject",
    "scan",
    "sheet",
    "sign_in_with_link",
]
