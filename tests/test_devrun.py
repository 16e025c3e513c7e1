"""`make run`'s supervisor, booted exactly as `make run` does it, on a fresh instance directory."""

from __future__ import annotations

import json
import os
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

from app.config import ROOT_DIR
from app.devrun import free_port, simulator_defaults


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def _boot(instance: Path, log: Path) -> tuple[subprocess.Popen, int]:
    port, sim_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "WECHAT_API_BASE_URL", "WECOM_API_BASE_URL", "APP_ENV"}}
    env.update(INSTANCE_DIR=str(instance), PORT=str(port), SIMULATOR_PORT=str(sim_port), WEB_CONCURRENCY="1")
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app.devrun", "run"], cwd=ROOT_DIR, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            status, body = _get(f"http://127.0.0.1:{port}/api/v1/health/ready")
            if status == 200:
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


@pytest.mark.slow
def test_boot_ready_ctrl_c_restart_and_kill_9(tmp_path):
    root = Path(tempfile.mkdtemp(prefix="zhhq-boot-"))
    root.chmod(0o755)
    instance, log = root / "instance", tmp_path / "devrun.log"

    proc, port = _boot(instance, log)
    family = _family(proc)
    names = {p.name() for p in family}
    assert "postgres" in names and "redis-server" in names, names
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/docs", timeout=3) as resp:
        assert b"swagger-ui" in resp.read()
    pg_version = instance / "postgres" / "data" / "PG_VERSION"
    first_init = pg_version.stat().st_mtime

    proc.send_signal(signal.SIGINT)  # Ctrl-C
    assert proc.wait(60) == 0, log.read_text()[-3000:]
    assert _all_gone(family, 10) == [], "processes left behind after Ctrl-C"
    assert "已停止" in log.read_text()

    # a second run reuses the data directory (no new initdb) ...
    proc, port = _boot(instance, log)
    assert pg_version.stat().st_mtime == first_init
    family = _family(proc)
    # ... and even kill -9 of the supervisor leaves nothing running (parent-death signals)
    proc.kill()
    proc.wait(10)
    assert _all_gone(family, 40) == [], "processes left behind after kill -9"
