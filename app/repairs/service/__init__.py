"""Repairs: reporting with photos, dispatch, the workflow, deadlines that escalate, completion with
materials, ratings, and statistics. Keyword-only functions taking the actor explicitly; they flush,
never commit (the entry point owns the transaction).

Callers use ``from app.repairs import service`` and ``service.<name>``; this package re-exports the names
below from its use-case modules, one per thing a person does (each module's docstring says more):

* ``catalogue`` — admins keep the categories people report under and the materials workers use.
* ``policies`` — the working-day calendar and the SLA policies that set a repair's deadlines.
* ``teams`` — worker groups, their members and who is on duty, the workers list, the dispatch rules.
* ``access`` — who is asking: a person's roles on one repair, and whether they may see it.
* ``reporting`` — reporting a problem, the "already reported?" check, linking a duplicate report.
* ``photos`` — uploading photos, attaching them, who may see them, signed links, thumbnails.
* ``dispatch`` — finding a worker (or a pool) for a repair in the queue, and trying again later.
* ``workflow`` — ``perform`` and each action's rule (assign, transfer, accept, decline, start, hold,
  resume, complete, confirm, cancel, reopen), changing the urgency, the automatic confirmation (its timer,
  ``repairs.auto_confirm``).
* ``deadlines`` — a repair's deadlines: planning, meeting, pausing on hold, escalating when missed (its
  timer, ``repairs.deadline``).
* ``periodic`` — the periodic sweep: the repairs' timers whose jobs were lost, queued work, unused photos.
* ``notices`` — the notification templates and the wording of what workers, reporters and staff are told.
* ``views`` — a repair as one person sees it, the detail page, my reports, a worker's tasks, the queue.
* ``stats`` — statistics by category, building, worker or month, and the workbook export.

Underneath them: ``lifecycle`` (the one state machine, ``fire``, the open statuses) and ``errors``. Demo
data is in ``app.repairs.seed``; what repairs does when other domains' signals fire, in
``app.repairs.handlers``.
"""

from __future__ import annotations

from app.repairs.service.access import require_dispatcher
from app.repairs.service.catalogue import (
    create_category,
    create_material,
    list_all_categories,
    list_categories,
    list_materials,
    update_category,
    update_material,
)
from app.repairs.service.deadlines import DEADLINE_TIMER, check_deadline, escalate_due
from app.repairs.service.dispatch import redispatch_queued, resolve_group
from app.repairs.service.errors import PhotoNotFound, RepairNotFound
from app.repairs.service.periodic import sweep
from app.repairs.service.photos import (
    PhotoFile,
    add_photo,
    make_thumbnail,
    photo_dict,
    photo_file,
    photo_url_ttl,
    photo_urls,
    signed_photo_file,
    upload_photo,
)
from app.repairs.service.policies import (
    CALENDAR_KINDS,
    CalendarImport,
    calendar,
    delete_calendar_day,
    import_calendar,
    list_calendar,
    list_sla_policies,
    parse_day,
    put_sla_policy,
    set_calendar_day,
    sla_spans,
)
from app.repairs.service.reporting import open_report, report_device_fault, submit
from app.repairs.service.stats import (
    DIMENSION_LABELS,
    StatsRow,
    Workload,
    daily_reports,
    export_statistics,
    statistics,
    workload,
)
from app.repairs.service.teams import (
    GroupView,
    WorkerView,
    create_group,
    delete_rule,
    group_view,
    list_groups,
    list_rules,
    list_workers,
    put_rule,
    remove_member,
    set_member,
    update_group,
)
from app.repairs.service.views import (
    QUEUE_SORTS,
    RepairView,
    available_actions,
    detail_view,
    get_repair,
    list_mine,
    list_queue,
    list_tasks,
)
from app.repairs.service.workflow import AUTO_CONFIRM_TIMER, auto_confirm, perform, reprioritise

__all__ = [
    # catalogue
    "create_category",
    "create_material",
    "list_all_categories",
    "list_categories",
    "list_materials",
    "update_category",
    "update_material",
    # policies
    "CALENDAR_KINDS",
    "CalendarImport",
    "calendar",
    "delete_calendar_day",
    "import_calendar",
    "list_calendar",
    "list_sla_policies",
    "parse_day",
    "put_sla_policy",
    "set_calendar_day",
    "sla_spans",
    # teams
    "GroupView",
    "WorkerView",
    "create_group",
    "delete_rule",
    "group_view",
    "list_groups",
    "list_rules",
    "list_workers",
    "put_rule",
    "remove_member",
    "set_member",
    "update_group",
    # reporting
    "open_report",
    "report_device_fault",
    "submit",
    # photos
    "PhotoFile",
    "add_photo",
    "make_thumbnail",
    "photo_dict",
    "photo_file",
    "photo_url_ttl",
    "photo_urls",
    "signed_photo_file",
    "upload_photo",
    # dispatch
    "redispatch_queued",
    "resolve_group",
    # workflow
    "AUTO_CONFIRM_TIMER",
    "auto_confirm",
    "perform",
    "reprioritise",
    # deadlines
    "DEADLINE_TIMER",
    "check_deadline",
    "escalate_due",
    # periodic
    "sweep",
    # views
    "QUEUE_SORTS",
    "RepairView",
    "available_actions",
    "detail_view",
    "get_repair",
    "list_mine",
    "list_queue",
    "list_tasks",
    # stats
    "DIMENSION_LABELS",
    "StatsRow",
    "Workload",
    "daily_reports",
    "export_statistics",
    "statistics",
    "workload",
    # access
    "require_dispatcher",
    # errors
    "PhotoNotFound",
    "RepairNotFound",
]
