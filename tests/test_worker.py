"""The worker process: its heartbeat re-arms periodic jobs, and a stop request is never swallowed."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from rq import Worker
from rq.exceptions import StopRequested

from app import worker as worker_module
from app.config import ConfigError, check_production, load_settings
from app.core.redis import get_redis
from app.worker import build_worker
from tests.conftest import stop_worker


def test_a_redis_hiccup_while_arming_is_logged_and_the_worker_goes_on(app, monkeypatch, caplog):
    def hiccup():
        raise ConnectionError("redis went away for a moment")

    monkeypatch.setattr(worker_module, "arm_periodic_jobs", hiccup)
    w = build_worker(app, ["default"])
    with app.app_context(), caplog.at_level(logging.ERROR):
        w.heartbeat()  # no exception
    assert any("heartbeat upkeep failed" in r.getMessage() for r in caplog.records)


def test_a_stop_request_during_the_heartbeat_is_not_swallowed(app, monkeypatch):
    """RQ turns SIGTERM into StopRequested wherever the worker is; swallowing it in the heartbeat
    kept a worker alive long after it was told to stop."""
    def stop():
        raise StopRequested()

    monkeypatch.setattr(worker_module, "arm_periodic_jobs", stop)
    w = build_worker(app, ["default"])
    with app.app_context(), pytest.raises(StopRequested):
        w.heartbeat()


def _listening() -> bool:
    """Registered and waiting for jobs (RQ installs its signal handlers before it says "idle")."""
    return any(w.get_state() == "idle" for w in Worker.all(connection=get_redis()))


def _niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_sigterm_stops_an_idle_worker_promptly_and_it_ran_at_a_lower_cpu_priority(worker_process):
    proc = worker_process("default", WORKER_NICE=7)
    deadline = time.monotonic() + 30
    while not _listening() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _listening(), "the worker did not start"
    assert _niceness(proc.pid) - os.nice(0) == 7  # jobs yield the CPU to the web's requests
    assert stop_worker(proc, 15) == 0


def test_worker_nice_outside_0_to_19_is_refused():
    with pytest.raises(ConfigError, match="WORKER_NICE"):
        check_production(load_settings(environ={"WORKER_NICE": "20"}))
