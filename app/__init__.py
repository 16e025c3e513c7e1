"""Application factory."""

from __future__ import annotations

import os
import re
from typing import Any

import click
from flask import Flask
from sqlalchemy.orm import configure_mappers
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app import config as config_module
from app import models as _models  # noqa: F401 - every table registered before Alembic looks
from app.auth import service as auth_service
from app.auth.api import blp as auth_blp
from app.canteen import handlers as canteen_handlers
from app.canteen import jobs as canteen_jobs
from app.canteen import states as canteen_states
from app.canteen.api import blp as canteen_blp
from app.console import canteen as console_canteen  # noqa: F401 - the canteen pages, on console_bp
from app.console import finance as console_finance  # noqa: F401 - the finance pages, on console_bp
from app.console import lockers as console_lockers  # noqa: F401 - the parcel-locker pages, on console_bp
from app.console import meetings as console_meetings  # noqa: F401 - the meetings pages, on console_bp
from app.console import notices as console_notices  # noqa: F401 - the notices pages, on console_bp
from app.console import people as console_people  # noqa: F401 - the people and places pages, on console_bp
from app.console import repairs as console_repairs  # noqa: F401 - the repairs pages, on console_bp
from app.console import repairs_config as console_repairs_config  # noqa: F401 - the repairs settings pages, on console_bp
from app.console import report as console_report  # noqa: F401 - 月报, on console_bp
from app.console import service as console_service
from app.console.api import blp as console_api_blp
from app.console.views import bp as console_bp
from app.core import images
from app.core.auth import init_auth
from app.core.db import commit_scope, compile_prebuilt, init_transaction_boundary, use_statement_timeout
from app.core.errors import AppError
from app.core.jobs import QUEUES, Periodic, init_jobs, init_periodic
from app.core.logging import configure_logging, init_request_ids
from app.core.redis import init_redis
from app.core.request_guards import init_request_guards
from app.core.storage import init_storage
from app.core.timers import TimerKind, init_timers
from app.core.timers import sweep as timers_sweep
from app.extensions import Api, db, limiter, migrate
from app.fees import handlers as fees_handlers
from app.fees.api import blp as fees_blp
from app.health.api import blp as health_blp
from app.lockers import handlers as lockers_handlers
from app.lockers import jobs as lockers_jobs
from app.lockers import service as lockers_service
from app.lockers import states as lockers_states
from app.lockers.api import blp as lockers_blp
from app.meetings import jobs as meetings_jobs
from app.meetings import states as meetings_states
from app.meetings.api import blp as meetings_blp
from app.notifications import handlers as notifications_handlers
from app.notifications import jobs as notifications_jobs
from app.notifications.api import blp as notifications_blp
from app.payments import jobs as payments_jobs
from app.payments import states as payments_states
from app.payments.api import blp as payments_blp
from app.places import service as places_service
from app.places.api import blp as places_blp
from app.repairs import handlers as repairs_handlers
from app.repairs import jobs as repairs_jobs
from app.repairs import service as repairs_service
from app.repairs.api import blp as repairs_blp
from app.seed import seed_demo
from app.users import jobs as users_jobs
from app.users import service as users_service
from app.users.api import blp as users_blp
from app.worker import run_worker


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in URLs: a positive id that fits PostgreSQL's BIGINT; anything else is a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


# Explicit: a blueprint not in this list is not served.
BLUEPRINTS = [
    health_blp,
    auth_blp,
    users_blp,
    places_blp,
    notifications_blp,
    payments_blp,
    meetings_blp,
    repairs_blp,
    fees_blp,
    canteen_blp,
    lockers_blp,
    console_api_blp,
]


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    settings = config_module.load_settings(overrides)
    config_module.check_production(settings)
    configure_logging(settings["LOG_LEVEL"])

    app = Flask(__name__, instance_path=settings["INSTANCE_DIR"], instance_relative_config=False)
    app.url_map.converters["int"] = DatabaseIdConverter  # /x/<int:id> never overflows a BIGINT
    app.config.from_mapping(config_module.flask_config(settings))
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    if settings["TRUSTED_PROXY_COUNT"]:
        n = settings["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.ROOT_DIR / "migrations"))
    init_redis(app)
    limiter.init_app(app)
    init_request_ids(app)
    init_request_guards(app)  # after the request id (its answer carries one), before any view reads a body
    init_transaction_boundary(app)
    init_jobs(app)
    init_storage(app)
    init_auth(app, loader=auth_service.load_actor)
    init_timers(app, [
        TimerKind(meetings_states.REMINDER_TIMER, meetings_jobs.reminder),
        TimerKind(meetings_states.ABSENTEES_TIMER, meetings_jobs.absentees),
        TimerKind(meetings_states.SUMMARY_TIMER, meetings_jobs.summary),
        TimerKind(repairs_service.DEADLINE_TIMER, repairs_jobs.deadline_due),
        TimerKind(repairs_service.AUTO_CONFIRM_TIMER, repairs_jobs.auto_confirm_due),
        TimerKind(users_jobs.GUARDIAN_REQUEST_EXPIRY, users_jobs.expire_guardian_request),
        TimerKind(payments_states.QUERY_TIMER, payments_jobs.query_due, queue="payments"),
        TimerKind(payments_states.CLOSE_TIMER, payments_jobs.close_due, queue="payments"),
        TimerKind(payments_states.REFUND_RETRY_TIMER, payments_jobs.refund_retry_due, queue="payments"),
        TimerKind(canteen_states.PICKUP_END_TIMER, canteen_jobs.pickup_end_due),
        TimerKind(canteen_states.PICKUP_START_TIMER, canteen_jobs.pickup_start_due),
        TimerKind(canteen_states.PICKUP_CLOSING_TIMER, canteen_jobs.pickup_closing_due),
        TimerKind(lockers_states.REMINDER_TIMER, lockers_jobs.reminder_due),
        TimerKind(lockers_states.RETURN_TIMER, lockers_jobs.return_due),
    ])
    repairs_handlers.connect()  # signal receivers: global, connecting again is harmless
    notifications_handlers.connect()
    fees_handlers.connect()
    canteen_handlers.connect()
    lockers_handlers.connect()
    init_periodic(app, [
        Periodic("timers.sweep", timers_sweep, every=settings["TIMER_SWEEP_SECONDS"]),
        Periodic("notifications.sweep", notifications_jobs.sweep, every=settings["NOTIFY_SWEEP_SECONDS"],
                 queue="notifications"),
        Periodic("meetings.sweep", meetings_jobs.sweep, every=settings["MEETING_SWEEP_SECONDS"], queue="default"),
        Periodic("repairs.sweep", repairs_jobs.sweep, every=settings["REPAIRS_SWEEP_SECONDS"]),
        Periodic("payments.sweep", payments_jobs.sweep, every=settings["PAYMENTS_SWEEP_SECONDS"], queue="payments"),
        Periodic("payments.reconcile", payments_jobs.reconcile_due, every=settings["PAYMENTS_RECONCILE_CHECK_SECONDS"],
                 queue="payments"),
    ])

    api = Api(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    app.register_blueprint(console_bp)  # HTML pages, not in the OpenAPI document

    _register_cli(app)
    _warm_up(app)
    return app


def _warm_up(app: Flask) -> None:
    """Build now what the first request would otherwise build lazily (it made a fresh process's first
    report several times slower than the next): SQLAlchemy configures every mapper (relationships, column
    properties, ~130 ms for this schema) on the first query, Pillow registers its format plugins on the
    first upload, and the hot paths' prebuilt statements are compiled (``app.core.db.prebuilt``; the first
    lunch order compiled ten of them, ~10 ms). All once per process; calling this again costs nothing."""
    configure_mappers()
    images.preload()
    with app.app_context():
        compile_prebuilt()


def _register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create demo data (idempotent)."""
        with commit_scope():
            done = seed_demo()
        click.echo("demo data ready: " + (", ".join(done) or "nothing to seed"))

    @app.cli.command("worker")
    @click.argument("queues", nargs=-1)
    @click.option("--burst", is_flag=True, help="stop when the queues are empty")
    @click.option("--name", default=None)
    def worker_command(queues, burst, name):
        """Run an RQ worker (with the scheduler) on the given queues (default: all)."""
        unknown = set(queues) - set(QUEUES)
        if unknown:
            raise click.BadParameter(f"unknown queue(s): {', '.join(sorted(unknown))}; known: {', '.join(QUEUES)}")
        use_statement_timeout(app, app.config["JOB_STATEMENT_TIMEOUT_MS"])
        if app.config["WORKER_NICE"]:
            # background work yields the CPU to the answers people (and WeChat's notifications) wait for
            os.nice(app.config["WORKER_NICE"])
        run_worker(app, list(queues) or None, burst=burst, name=name)

    @app.cli.command("console-link")
    @click.argument("staff_number")
    @click.option("--base-url", default=None, help="where the console is served (default http://HOST:PORT)")
    def console_link_command(staff_number, base_url):
        """Print a one-time sign-in link to the console (valid 10 minutes) for a staff member with a console role."""
        refused: AppError | None = None
        try:
            with commit_scope():
                try:
                    link = console_service.create_link(staff_number=staff_number)
                except AppError as exc:
                    if not exc.keep_writes:
                        raise
                    refused = exc  # the refusal is audited: commit it
        except AppError as exc:
            raise click.ClickException(exc.message) from exc
        if refused is not None:
            raise click.ClickException(refused.message)
        base = (base_url or f"http://{app.config['HOST']}:{app.config['PORT']}").rstrip("/")
        click.echo(f"{base}/console/link/{link.token}")
        click.echo(f"valid until {link.expires_at.isoformat()}, once", err=True)

    @app.cli.command("lockers-add-bank")
    @click.argument("code")
    @click.option("--name", required=True, help="名称, e.g. 宿舍2号楼快递柜")
    @click.option("--place", "place_code", required=True, help="the place's code, e.g. E-DORM1")
    @click.option("--sizes", required=True, help="compartments by size, e.g. S=10,M=8,L=4")
    @click.option("--controller-url", required=True, help="where our server reaches the bank's controller")
    @click.option("--by", "staff_number", required=True, help="the 工号 of the station staff member installing it")
    def lockers_add_bank_command(code, name, place_code, sizes, controller_url, staff_number):
        """Install a parcel-locker bank with its compartments; prints its controller's code and secret (once)."""
        try:
            counts = {k.strip().upper(): int(v) for k, v in (p.split("=") for p in sizes.split(",") if p.strip())}
        except ValueError as exc:
            raise click.BadParameter("--sizes like S=10,M=8,L=4") from exc
        try:
            with commit_scope():
                user_id = users_service.user_id_of_staff(staff_number)
                actor = users_service.load_actor(user_id) if user_id is not None else None
                if actor is None:
                    raise click.ClickException(f"no active staff member bound to a user with 工号 {staff_number}")
                place = places_service.get_by_code(place_code)
                installed = lockers_service.add_bank(actor=actor, code=code, name=name, place_id=place.id,
                                                     sizes=counts, base_url=controller_url)
        except AppError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"bank {installed.code} (id {installed.bank_id}), {installed.compartments} compartments")
        click.echo(f"controller {installed.device_code} secret {installed.secret}")
        click.echo("the secret is shown once: type it into the controller now", err=True)

    @app.cli.command("settings-table")
    @click.option("--write-readme", is_flag=True, help="replace the table in README.md")
    def settings_table_command(write_readme):
        """Print the settings table (Markdown), or write it into the README."""
        table = config_module.settings_table()
        if not write_readme:
            click.echo(table)
            return
        readme = config_module.ROOT_DIR / "README.md"
        text = re.sub(r"\| setting \| default \| what it does \|\n(?:\|.*\|\n)+", lambda _m: table + "\n",
                      readme.read_text(encoding="utf-8"))
        readme.write_text(text, encoding="utf-8")
        click.echo("README.md settings table updated")
