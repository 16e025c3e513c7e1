"""`make run`'s supervisor, booted exactly as `make run` does it, on a fresh instance directory."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from app import config
from app.config import ROOT_DIR
from app.devrun import (
    GUNICORN_LIMITS,
    PAY_NOTIFY_PATH,
    ensure_secret_key,
    free_port,
    simulator_defaults,
    simulator_pay_defaults,
)
from app.wechat.paykeys import ensure_pay_keys


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def _boot(instance: Path, log: Path, ports: list[int] | None = None) -> tuple[subprocess.Popen, int]:
    """``make run`` in ``instance``; the API's port is returned, ``ports`` gets the API's and the simulator's."""
    port, sim_port, locker_port = free_port(), free_port(), free_port()
    if ports is not None:
        ports[:] = [port, sim_port, locker_port]
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "WECHAT_API_BASE_URL", "WECOM_API_BASE_URL", "APP_ENV"}
           and not k.startswith("WECHATPAY_")}
    env.update(INSTANCE_DIR=str(instance), PORT=str(port), SIMULATOR_PORT=str(sim_port), WEB_CONCURRENCY="1",
               LOCKER_SIMULATOR_PORT=str(locker_port))
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app.devrun", "run"], cwd=ROOT_DIR, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            status, body = _get(f"http://127.0.0.1:{port}/api/v1/health/ready")
            # ready, and the runner past its start-up (it has printed its banner): from here a child that
            # dies is started again, where during start-up it stops everything
            if status == 200 and "is running" in log.read_text(errors="replace"):
                assert body["status"] == "ok"
                return proc, port
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    proc.kill()
    pytest.fail("not ready within 120 s:\n" + log.read_text()[-3000:])


def _family(proc: subprocess.Popen) -> list[psutil.Process]:
    return psutil.Process(proc.pid).children(recursive=True)


def _all_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    _gone, alive = psutil.wait_procs(procs, timeout=timeout)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_simulator_mode_points_wechat_at_the_simulator_and_mirrors_consents():
    sim_url = "http://127.0.0.1:5001/"
    assert simulator_defaults(5001, {}) == {"WECHAT_API_BASE_URL": sim_url, "WECOM_API_BASE_URL": sim_url,
                                            "WECHAT_SIMULATOR_MIRROR_CONSENTS": "true"}
    explicit = {"WECHAT_API_BASE_URL": "http://elsewhere/", "WECHAT_SIMULATOR_MIRROR_CONSENTS": "false"}
    assert simulator_defaults(5001, explicit) == {"WECOM_API_BASE_URL": sim_url}  # the environment wins


def test_simulator_mode_pays_through_the_simulator_with_keys_kept_under_instance(tmp_path):
    keys = ensure_pay_keys(tmp_path / "wechatpay")
    settings = simulator_pay_defaults(5001, "http://127.0.0.1:5000", keys, {})
    assert settings["WECHATPAY_API_BASE_URL"] == "http://127.0.0.1:5001/"
    assert settings["WECHATPAY_NOTIFY_URL"] == "http://127.0.0.1:5000" + PAY_NOTIFY_PATH
    assert settings["WECHATPAY_MERCHANT_KEY_FILE"].startswith(str(tmp_path / "wechatpay"))
    assert ensure_pay_keys(tmp_path / "wechatpay") == keys  # kept across restarts: the simulator signs with them
    assert "WECHATPAY_NOTIFY_URL" not in simulator_pay_defaults(5001, "http://x", keys,
                                                                {"WECHATPAY_NOTIFY_URL": "https://mine/n"})


def test_make_run_signs_with_a_secret_of_its_own_kept_under_instance(tmp_path):
    first = ensure_secret_key(tmp_path, {})
    assert len(first) >= 32 and first != config.DEV_SECRET
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600  # readable by its owner only
    assert ensure_secret_key(tmp_path, {}) == first  # kept: tokens of the last run stay valid
    assert ensure_secret_key(tmp_path, {"SECRET_KEY": "from-the-environment"}) == "from-the-environment"


@pytest.mark.slow
def test_boot_ready_ctrl_c_restart_and_kill_9(tmp_path):
    root = Path(tempfile.mkdtemp(prefix="zhhq-boot-"))
    root.chmod(0o755)
    instance, log = root / "instance", tmp_path / "devrun.log"

    ports: list[int] = []
    proc, port = _boot(instance, log, ports)
    family = _family(proc)
    names = {p.name() for p in family}
    assert "postgres" in names and "redis-server" in names, names
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/docs", timeout=3) as resp:
        assert b"swagger-ui" in resp.read()
    pg_version = instance / "postgres" / "data" / "PG_VERSION"
    first_init = pg_version.stat().st_mtime
    secret = instance / "secret_key"
    assert secret.stat().st_mode & 0o777 == 0o600  # tokens are not signed with the public default
    first_secret = secret.read_text()
    # WeChat Pay is served by the simulator with the keys under instance/ (an unsigned call is refused as
    # WeChat would, not answered 501 "no merchant")
    status, body = _get(f"http://127.0.0.1:{ports[1]}/v3/pay/transactions/out-trade-no/FEE1?mchid=1900000109")
    assert (status, body.get("code")) == (401, "SIGN_ERROR"), body
    assert (instance / "wechatpay" / "apiclient_key.pem").stat().st_mode & 0o777 == 0o600
    # the locker simulator plays the demo bank's controller
    status, body = _get(f"http://127.0.0.1:{ports[2]}/__sim__/controllers/locker-dorm1")
    assert status == 200 and body["code"] == "locker-dorm1", body

    proc.send_signal(signal.SIGINT)  # Ctrl-C
    assert proc.wait(60) == 0, log.read_text()[-3000:]
    assert _all_gone(family, 10) == [], "processes left behind after Ctrl-C"
    assert "已停止" in log.read_text()

    # a second run reuses the data directory (no new initdb) ...
    proc, port = _boot(instance, log)
    assert pg_version.stat().st_mtime == first_init
    assert secret.read_text() == first_secret  # and the same secret: yesterday's logins stay valid
    family = _family(proc)
    # ... and even kill -9 of the supervisor leaves nothing running (parent-death signals)
    proc.kill()
    proc.wait(10)
    assert _all_gone(family, 40) == [], "processes left behind after kill -9"


def _child(proc: subprocess.Popen, marker: str) -> psutil.Process | None:
    """The runner's direct child whose command line has ``marker`` (``worker``, ``gunicorn``, …)."""
    for child in psutil.Process(proc.pid).children():
        try:
            if marker in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                return child
        except psutil.NoSuchProcess:
            pass
    return None


def _eventually(what: str, check, seconds: float, proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the runner stopped ({what}):\n" + log.read_text()[-3000:]
        result = check()
        if result:
            return result
        time.sleep(0.3)
    pytest.fail(f"{what}: not within {seconds:.0f} s\n" + log.read_text()[-3000:])


def _ready(port: int) -> bool:
    try:
        return _get(f"http://127.0.0.1:{port}/api/v1/health/ready")[0] == 200
    except (OSError, ValueError):
        return False


@pytest.mark.slow
def test_a_crashed_child_is_started_again_and_only_lost_services_stop_everything(tmp_path):
    """kill -9 of the worker, the web server or the simulator: the runner starts it again (and says so);
    kill -9 of the embedded Redis: started again too, twice; the third time it gives up and stops
    everything cleanly, with exit code 1."""
    root = Path(tempfile.mkdtemp(prefix="zhhq-crash-"))
    root.chmod(0o755)
    instance, log = root / "instance", tmp_path / "devrun.log"
    proc, port = _boot(instance, log)
    try:
        for marker in ("flask --app wsgi worker", "gunicorn", "app.wechat.simulator"):
            victim = _child(proc, marker)
            assert victim is not None, marker
            victim.kill()
            _eventually(f"{marker} is started again", lambda m=marker, v=victim: (c := _child(proc, m)) is not None
                        and c.pid != v.pid, 60, proc, log)
        _eventually("ready again", lambda: _ready(port), 90, proc, log)
        console = log.read_text()
        assert "后台任务进程（worker）意外退出（代码 -9），1 秒后重启（第 1 次）" in console
        assert "Web 服务（gunicorn）已重新启动。" in console and "微信模拟器已重新启动。" in console
        assert "意外退出" in (instance / "logs" / "devrun.log").read_text()

        family = _family(proc)
        for attempt in range(3):
            redis = _eventually("Redis runs", lambda: _child(proc, "redis-server"), 60, proc, log)
            redis.kill()
            if attempt == 0:  # once: everything comes back, the worker reconnects
                _eventually("Redis is started again", lambda r=redis: (c := _child(proc, "redis-server"))
                            and c.pid != r.pid, 60, proc, log)
                _eventually("ready again after Redis came back", lambda: _ready(port), 90, proc, log)
            elif attempt == 1:
                _eventually("Redis is started again", lambda r=redis: (c := _child(proc, "redis-server"))
                            and c.pid != r.pid, 60, proc, log)
        assert proc.wait(90) == 1, log.read_text()[-3000:]
        assert "Redis 无法保持运行" in log.read_text()
        assert "已停止" in log.read_text()
        assert _all_gone(family, 30) == [], "processes left behind after giving up"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        shutil.rmtree(root, ignore_errors=True)


def _raw_get(port: int, target: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize(("target", "headers", "status"), [
    ("/api/v1/health?q=" + "x" * 20_000, {}, 414),
    ("/api/v1/health", {"X-Big": "y" * 20_000}, 431),
    ("/api/v1/health", {f"X-Many-{i}": "1" for i in range(150)}, 431),
])
def test_gunicorn_leaves_over_long_requests_to_the_app_s_envelope(service_urls, tmp_path, target, headers, status):
    """gunicorn answers an over-long request line or header itself, in HTML; with the runner's limits
    (the bench's and production's too) the app answers, in the JSON error envelope."""
    port = free_port()
    env = {**os.environ, **service_urls, "APP_ENV": "test", "LOG_LEVEL": "WARNING", "INSTANCE_DIR": str(tmp_path)}
    with open(tmp_path / "web.log", "ab") as out:
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
                                "--workers", "1", "--no-control-socket", *GUNICORN_LIMITS],
                               cwd=ROOT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert web.poll() is None, (tmp_path / "web.log").read_text()[-3000:]
            try:
                _raw_get(port, "/api/v1/health", {})
                break
            except OSError:
                time.sleep(0.2)
        code, content_type, body = _raw_get(port, target, headers)
        assert (code, content_type) == (status, "application/json"), body[:300]
        assert json.loads(body)["code"] == status
    finally:
        web.terminate()
        web.wait(20)
