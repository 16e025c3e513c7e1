"""``python -m app.wechat.simulator`` serves the simulator alone."""

from __future__ import annotations

import subprocess
import sys
import time

import requests

from app.config import ROOT_DIR


def test_runner_serves_the_simulator(closed_port_url):
    port = closed_port_url.rsplit(":", 1)[1].rstrip("/")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.wechat.simulator", "--host", "127.0.0.1", "--port", port],
        cwd=ROOT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                health = requests.get(f"{closed_port_url}__sim__/health", timeout=1).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the simulator did not come up"
                time.sleep(0.1)
        assert health == {"status": "ok", "app_id": "wx0000000000sim00", "corp_id": None}
    finally:
        proc.terminate()
        proc.wait(timeout=5)
