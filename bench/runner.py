"""The benchmark runner behind ``python -m bench <scenario>`` (``make bench SCENARIO=<name>``).

One run: PostgreSQL and Redis (``DATABASE_URL`` / ``REDIS_URL``, else the embedded ones under
``instance/bench``), a fresh database of the run's own on that server (dropped at the end) and a Redis
database of its own, migrations and the demo seed, the scenario's own seed, gunicorn on a free port
(plus RQ workers when the scenario asks), then two locust runs in a separate process — the baseline
(``GET /api/v1/health``) and the scenario — with the same users and duration. The last line printed
is ``RESULT …`` (docs/architecture.md). Every child runs in its own session with a parent-death signal, and
is stopped in a ``finally``, so Ctrl-C, SIGTERM or a crash leave nothing running.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen, TimeoutExpired
from types import ModuleType

import psutil
import psycopg
from flask import Flask
from locust import User
from redis import Redis
from sqlalchemy.engine import make_url

from app import config as config_module
from app import create_app
from app.core.db import commit_scope, db
from app.devrun import GUNICORN_LIMITS, create_database, drop_database, free_port, prepare_database, wait_http
from app.embedded import EmbeddedServices, spawn, stop_process
from app.wechat.paykeys import ensure_pay_keys
from bench import report, scenarios
from bench.report import LoadStats, PhaseResult

ROOT_DIR = config_module.ROOT_DIR
OUT_DIR = ROOT_DIR / "bench" / "out"
INSTANCE_DIR = ROOT_DIR / "instance" / "bench"
BASELINE = "baseline"
FINAL_STATS = ROOT_DIR / "bench" / "final_stats.py"  # loaded into every locust run, see its docstring
START_TIMEOUT = 60.0  # seconds for gunicorn (and the workers' first heartbeat) to answer
LOCUST_GRACE = 60.0  # seconds beyond --duration before a locust run counts as hung
SMOKE_USERS, SMOKE_DURATION = 2, 6  # locust counts its import time into the run: leave room
CHILD_ENV = {
    "LOG_LEVEL": "WARNING",
    "QUIET_HOURS": "",  # a benchmark at night must not measure the wait for the morning
    "RATELIMIT_ENABLED": "false",  # every locust user shares one IP: the per-IP limits would measure themselves
    "PYTHONUNBUFFERED": "1",
}


DATABASE_PREFIX = "bench_"
REDIS_OWNER_KEY = "zhhq:bench:owner"


class BenchError(RuntimeError):
    """The run cannot produce figures: a child died, locust failed, a scenario is malformed."""


@dataclass(frozen=True)
class Options:
    users: int
    spawn_rate: float
    duration: int
    web_workers: int
    smoke: bool = False


@dataclass
class Context:
    """What a scenario's ``seed`` / ``run`` / ``verify`` get: where things are and how hard it is pushed."""

    base_url: str
    database_url: str
    redis_url: str
    users: int
    duration: int
    simulator_url: str = ""
    smoke: bool = False
    """``--smoke``: the test suite's run; a scenario that seeds a lot seeds a tiny amount instead."""
    instance_dir: Path = INSTANCE_DIR
    pay_settings: dict[str, str] = field(default_factory=dict)
    """The ``WECHATPAY_*`` settings of the run: keys under the instance directory, the simulator as
    WeChat Pay, notifications posted to this run's gunicorn."""
    _app: Flask | None = field(default=None, repr=False)

    def app(self) -> Flask:
        """A Flask app bound to the bench's services (built once: one connection pool per run)."""
        if self._app is None:
            self._app = create_app({"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                                    "INSTANCE_DIR": str(self.instance_dir), "LOG_LEVEL": "WARNING",
                                    "WECHAT_API_BASE_URL": self.simulator_url,
                                    "WECOM_API_BASE_URL": self.simulator_url, "QUIET_HOURS": "",
                                    **self.pay_settings})
        return self._app

    def close(self) -> None:
        """Return the pool's connections before the services stop under them."""
        if self._app is not None:
            with self._app.app_context():
                db.session.remove()
                db.engine.dispose()


@dataclass(frozen=True)
class Scenario:
    """A module of ``bench/scenarios``, read through the contract in bench/README.md."""

    name: str
    module: ModuleType

    @property
    def description(self) -> str:
        doc = (self.module.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else "(no description)"

    @property
    def locustfile(self) -> Path | None:
        """``LOCUSTFILE`` (relative to the module) when given, else the module when it defines a user."""
        here = Path(self.module.__file__)
        named = getattr(self.module, "LOCUSTFILE", None)
        if named:
            return (here.parent / named).resolve()
        return here if any(_is_user_class(v, self.module) for v in vars(self.module).values()) else None

    @property
    def workers(self) -> int:
        return int(getattr(self.module, "WORKERS", 0))

    @property
    def measure(self) -> list[str] | None:
        return getattr(self.module, "MEASURE", None)

    def hook(self, name: str) -> Callable[[Context], object] | None:
        return getattr(self.module, name, None)


def _is_user_class(value: object, module: ModuleType) -> bool:
    return (isinstance(value, type) and issubclass(value, User) and not value.abstract
            and value.__module__ == module.__name__)


def load_scenario(name: str) -> Scenario:
    scenario = Scenario(name, importlib.import_module(f"{scenarios.__name__}.{name}"))
    if scenario.locustfile is None and scenario.hook("run") is None:
        raise BenchError(f"scenario {name!r} has neither a locust user class, LOCUSTFILE nor run(ctx)")
    return scenario


def scenario_description(name: str) -> str:
    """For ``--list``: a broken scenario is listed as such instead of hiding the others."""
    try:
        return load_scenario(name).description
    except (BenchError, ImportError) as err:
        return f"(broken: {err})"


@dataclass(frozen=True)
class Outcome:
    scenario: str
    phases: list[PhaseResult]
    result: PhaseResult
    baseline_rps: float
    errors: int
    notes: list[str]


@dataclass
class _Tally:
    """``errors`` of the RESULT line: failed requests, task exceptions and problems, each explained."""

    errors: int = 0
    notes: list[str] = field(default_factory=list)

    def failed(self, label: str, count: int, what: str) -> None:
        if count:
            self.errors += count
            self.notes.append(f"{label}: {count} {what}")

    def problem(self, text: str) -> None:
        self.errors += 1
        self.notes.append(f"problem: {text}")


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """A second Ctrl-C must not cut the clean-up short and leave children running."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _shown(path: str | Path) -> str:
    """Paths in messages relative to the repository, as the README quotes them."""
    return str(Path(path).relative_to(ROOT_DIR))


def _fresh(*paths: Path) -> None:
    """Logs are appended to by ``spawn`` and a stale CSV could pass for this run's: start clean."""
    for path in paths:
        path.unlink(missing_ok=True)


def fresh_database(server_url: str) -> str:
    """A new database on the server of ``server_url`` for this run alone (``bench_<scenario>_<pid>``).
    Databases that runs killed before their clean-up left behind (their process is gone) are dropped."""
    for stale in _bench_databases(server_url):
        pid = stale.rsplit("_", 1)[-1]
        if not (pid.isdigit() and psutil.pid_exists(int(pid))):
            drop_database(make_url(server_url).set(database=stale).render_as_string(hide_password=False))
    return create_database(server_url, f"{DATABASE_PREFIX}{os.getpid()}")


def _bench_databases(server_url: str) -> list[str]:
    admin_url = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (DATABASE_PREFIX + "%",))
        return [name for (name,) in rows]


def own_redis(url: str, *, embedded: bool) -> str:
    """A Redis database for this run alone. The embedded Redis is the run's own: its database is
    flushed. On a shared server, the first empty database other than the one named, claimed with a key
    (never a database someone else is using)."""
    if embedded:
        with Redis.from_url(url) as conn:
            conn.flushdb()
        return url
    base, _, named = url.rpartition("/")
    if not named.isdigit():
        base, named = url.rstrip("/"), "0"
    run_id = uuid.uuid4().hex
    for index in range(1, 16):
        if str(index) == named:
            continue
        candidate = f"{base}/{index}"
        with Redis.from_url(candidate) as conn:
            if conn.dbsize() == 0 and conn.set(REDIS_OWNER_KEY, run_id, nx=True):
                return candidate
    raise BenchError(f"no empty Redis database on {base} for this run (databases 1-15 are all in use)")


def release_redis(url: str) -> None:
    with Redis.from_url(url) as conn:
        conn.flushdb()


class BenchRun:
    """One run of one scenario: start everything, measure, stop everything."""

    def __init__(self, scenario: Scenario, options: Options):
        self.scenario = scenario
        self.options = options
        # Only what the environment names is external; the rest is embedded under instance/bench.
        self.services = EmbeddedServices(INSTANCE_DIR, os.environ.get("DATABASE_URL", ""),
                                         os.environ.get("REDIS_URL", ""))
        self.port = free_port()
        self.simulator_port = free_port()
        self.children: list[tuple[str, Popen]] = []
        self.ctx: Context | None = None
        self.database_url = ""
        self.redis_url = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def out(self, suffix: str) -> Path:
        return OUT_DIR / f"{self.scenario.name}-{suffix}"

    def execute(self) -> Outcome:
        try:
            self._start()
            return self._measure()
        finally:
            with _signals_ignored():
                self._stop()

    # --- start and stop -----------------------------------------------------------------------

    def _start(self) -> None:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        INSTANCE_DIR.chmod(0o755)  # the embedded postgres runs as its own user when we are root
        self.services.start()
        self.database_url = fresh_database(self.services.database_url)
        self.redis_url = own_redis(self.services.redis_url, embedded=self.services.redis is not None)
        simulator_url = f"http://127.0.0.1:{self.simulator_port}/"
        self.pay_keys = ensure_pay_keys(INSTANCE_DIR / "wechatpay")
        self.ctx = Context(self.base_url, self.database_url, self.redis_url, self.options.users, self.options.duration,
                           simulator_url=simulator_url, smoke=self.options.smoke,
                           pay_settings={**self.pay_keys.settings(), "WECHATPAY_API_BASE_URL": simulator_url,
                                         "WECHATPAY_NOTIFY_URL": f"{self.base_url}/api/v1/payments/notify"})
        print(f"services: PostgreSQL {self._origin(self.services.postgres)} (database "
              f"{make_url(self.database_url).database}, new), Redis {self._origin(self.services.redis)} "
              f"(database {self.redis_url.rpartition('/')[2]}, own)", flush=True)
        prepare_database(self.ctx.database_url, self.ctx.redis_url)
        self._seed()
        env = self._child_env()
        # WeChat is the simulator, as in `make run`; lenient: every user has consented to every template.
        # Served by gunicorn (one process: the simulator keeps its state in memory; threads with
        # keep-alive, as WeChat's own servers offer) rather than werkzeug, which closes every connection.
        self._spawn("simulator", [
            sys.executable, "-m", "gunicorn",
            f"app.wechat.simulator:create_simulator(lenient_quota=True, pay_keys_dir={str(self.pay_keys.directory)!r})",
            "--bind", f"127.0.0.1:{self.simulator_port}", "--workers", "1", "--worker-class", "gthread",
            "--threads", "16", "--keep-alive", "5", "--no-control-socket",
        ], env)
        wait_http(f"{self.ctx.simulator_url}__sim__/health", START_TIMEOUT, self.children)
        self._spawn("web", [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{self.port}",
                            "--workers", str(self.options.web_workers), "--no-control-socket",
                            "--graceful-timeout", "5", "--timeout", "60", *GUNICORN_LIMITS], env)
        for i in range(1, self.scenario.workers + 1):
            # The port in the name ties the worker to this run (the tests look for leftovers by it).
            self._spawn(f"worker-{i}", [sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                                        "--name", f"bench-{self.port}-{i}"], env)
        wait_http(f"{self.base_url}/api/v1/health", START_TIMEOUT, self.children)
        if self.scenario.workers:
            wait_http(f"{self.base_url}/api/v1/health/ready", START_TIMEOUT, self.children)
        print(f"web: {self.base_url} ({self.options.web_workers} gunicorn workers, "
              f"{self.scenario.workers} RQ workers); logs in {_shown(OUT_DIR)}/", flush=True)

    @staticmethod
    def _origin(embedded: object | None) -> str:
        return f"embedded under {_shown(INSTANCE_DIR)}" if embedded else "from the environment"

    def _seed(self) -> None:
        seed = self.scenario.hook("seed")
        if seed is not None:
            with self.ctx.app().app_context(), commit_scope():
                seed(self.ctx)

    def _child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "LOCUST_SKIP_MONKEY_PATCH"}  # see bench/__init__.py
        env.update(CHILD_ENV, DATABASE_URL=self.ctx.database_url, REDIS_URL=self.ctx.redis_url,
                   INSTANCE_DIR=str(INSTANCE_DIR), WECHAT_API_BASE_URL=self.ctx.simulator_url,
                   WECOM_API_BASE_URL=self.ctx.simulator_url, **self.ctx.pay_settings)
        # Locust loads a scenario by file path; this lets it import bench.* and app.* helpers.
        env["PYTHONPATH"] = ":".join(p for p in (str(ROOT_DIR), os.environ.get("PYTHONPATH", "")) if p)
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = self.out(f"{name}.log")
        _fresh(log)
        self.children.append((name, spawn(argv, env=env, log_file=log, cwd=str(ROOT_DIR))))

    def _stop(self) -> None:
        """Children first, then the pool, then Redis and PostgreSQL (docs/architecture.md)."""
        for _name, proc in reversed(self.children):
            stop_process(proc, signal.SIGTERM, timeout=15)
        if self.ctx is not None:
            self.ctx.close()
        if self.redis_url:
            release_redis(self.redis_url)
        if self.database_url:
            drop_database(self.database_url)
        self.services.stop()

    def _check_children(self) -> None:
        for name, proc in self.children:
            if proc.poll() is not None:
                raise BenchError(f"{name} exited with {proc.returncode}; see {_shown(self.out(f'{name}.log'))}")

    # --- measure ------------------------------------------------------------------------------

    def _measure(self) -> Outcome:
        tally = _Tally()
        baseline = self._load(load_scenario(BASELINE).locustfile, "baseline", None, tally)
        phases, result = [baseline.total], baseline.total
        if baseline.total.requests == 0:
            tally.problem("the baseline made no request")
        if self.scenario.locustfile is not None:
            load = self._load(self.scenario.locustfile, "load", self.scenario.measure, tally)
            phases.append(load.total)
            if self.scenario.measure is not None:
                phases.append(load.measured)
            result = load.measured
            if result.requests == 0:
                tally.problem(f"the load made no measured request (MEASURE = {self.scenario.measure})")
        run = self.scenario.hook("run")
        if run is not None:
            result = self._run(run)
            phases.append(result)
            tally.failed("run", result.failures, "failures reported by run()")
        for problem in self._verify():
            tally.problem(problem)
        return Outcome(self.scenario.name, phases, result, baseline.total.rps, tally.errors, tally.notes)

    def _run(self, run: Callable[[Context], object]) -> PhaseResult:
        with self.ctx.app().app_context():
            figures = run(self.ctx)
        try:
            return report.from_run("run", dict(figures))
        except (TypeError, ValueError) as err:
            raise BenchError(f"scenario {self.scenario.name!r}: {err}") from err

    def _verify(self) -> list[str]:
        verify = self.scenario.hook("verify")
        if verify is None:
            return []
        with self.ctx.app().app_context():
            return [str(p) for p in verify(self.ctx)]

    def _load(self, locustfile: Path, label: str, measure: list[str] | None, tally: _Tally) -> LoadStats:
        """One locust run against the web, read back from the final statistics it leaves."""
        prefix = self._drive(locustfile, label)
        self._check_children()
        try:
            stats = report.read_load_stats(prefix, label, measure)
        except FileNotFoundError as err:
            raise BenchError(f"locust ({label}) left no final statistics ({_shown(err.filename)}); "
                             f"see {_shown(self.out(f'{label}.log'))}") from err
        failures, exceptions = (_shown(report.final_csv(prefix, kind)) for kind in ("failures", "exceptions"))
        tally.failed(label, stats.total.failures, f"failed requests, see {failures}")
        tally.failed(label, stats.exceptions, f"exceptions in the scenario's tasks, see {exceptions}")
        return stats

    def _drive(self, locustfile: Path, label: str) -> Path:
        """Run headless locust in its own process (the load generator must not share the runner's
        interpreter) and wait for it; returns its CSV prefix."""
        o, prefix, log = self.options, self.out(label), self.out(f"{label}.log")
        _fresh(log, *OUT_DIR.glob(f"{prefix.name}_*.csv"))
        print(f"{label}: {o.users} users for {o.duration} s ({_shown(locustfile)})", flush=True)
        argv = [sys.executable, "-m", "locust", "-f", f"{locustfile},{FINAL_STATS}", "--headless",
                "-u", str(o.users), "-r", f"{o.spawn_rate:g}", "-t", f"{o.duration}s", "--host", self.base_url,
                "--csv", str(prefix), "--only-summary", "--exit-code-on-error", "0"]
        proc = spawn(argv, env=self._child_env(), log_file=log, cwd=str(ROOT_DIR))
        limit = o.duration + LOCUST_GRACE
        try:
            code = proc.wait(timeout=limit)
        except TimeoutExpired as err:
            raise BenchError(f"locust ({label}) did not finish in {limit:.0f} s; see {_shown(log)}") from err
        finally:
            stop_process(proc)
        if code != 0:
            raise BenchError(f"locust ({label}) exited with {code}; see {_shown(log)}")
        return prefix


def render(outcome: Outcome, options: Options) -> str:
    header = (f"bench {outcome.scenario}: {options.users} users, spawn {options.spawn_rate:g}/s, "
              f"{options.duration} s per phase")
    lines = ["", header, report.format_table(outcome.phases)]
    lines += outcome.notes
    lines.append(report.format_result(outcome.scenario, outcome.result, outcome.baseline_rps, outcome.errors))
    return "\n".join(lines)


def _positive(cast: Callable[[str], float]) -> Callable[[str], float]:
    """An argparse type: the number, or a usage error (exit 2) when it is not above zero."""

    def parse(value: str) -> float:
        number = cast(value)
        if number <= 0:
            raise argparse.ArgumentTypeError(f"must be above zero, not {value}")
        return number

    parse.__name__ = cast.__name__  # argparse names the type in "invalid int value" messages
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Load-benchmark one scenario against the API under gunicorn; the last line is RESULT …",
        epilog="See bench/README.md.")
    parser.add_argument("scenario", nargs="?", help="a module of bench/scenarios (see --list)")
    parser.add_argument("--users", type=_positive(int), default=50, help="concurrent locust users (default 50)")
    parser.add_argument("--spawn-rate", type=_positive(float), default=None,
                        help="users started per second (default: all at once)")
    parser.add_argument("--duration", type=_positive(int), default=20, help="seconds per phase (default 20)")
    parser.add_argument("--web-workers", type=_positive(int), default=None,
                        help="gunicorn workers (default: WEB_CONCURRENCY, else 2)")
    parser.add_argument("--smoke", action="store_true",
                        help=f"tiny load for the test suite: {SMOKE_USERS} users, {SMOKE_DURATION} s (overrides both)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return parser


def _options(args: argparse.Namespace) -> Options:
    users, duration = (SMOKE_USERS, SMOKE_DURATION) if args.smoke else (args.users, args.duration)
    web_workers = args.web_workers or config_module.load_settings()["WEB_CONCURRENCY"]
    return Options(users=users, spawn_rate=args.spawn_rate or float(users), duration=duration, web_workers=web_workers,
                   smoke=args.smoke)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    known = scenarios.names()
    if args.list:
        for name in known:
            print(f"{name:<20} {scenario_description(name)}")
        return 0
    if args.scenario not in known:
        given = f"unknown scenario {args.scenario!r}" if args.scenario else "no scenario given"
        print(f"python -m bench: {given}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    options = _options(args)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the run's output is the table, not migration chatter
    # Ctrl-C and SIGTERM both unwind through the clean-up; SIGINT is set explicitly because a process
    # started with `&` (a Makefile recipe, a script) inherits it ignored (docs/architecture.md).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.default_int_handler)
    try:
        outcome = BenchRun(load_scenario(args.scenario), options).execute()
    except KeyboardInterrupt:
        print("python -m bench: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    except BenchError as err:
        print(f"python -m bench: {err}", file=sys.stderr)
        return 1
    print(render(outcome, options), flush=True)
    return 0 if outcome.errors == 0 else 1
