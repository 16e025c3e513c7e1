"""Liveness and readiness, against the real services and a real worker process."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.conftest import probe_app, spawn_flask


def test_liveness_touches_nothing(service_urls, tmp_path):
    # even with the database and Redis unreachable, liveness answers
    dead = probe_app(service_urls, tmp_path, DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/x",
                     REDIS_URL="redis://127.0.0.1:1/0")
    resp = dead.test_client().get("/api/v1/health")
    assert resp.status_code == 200 and resp.json == {"status": "ok"}


def test_ready_reports_each_dependency_when_all_down(service_urls, tmp_path):
    dead = probe_app(service_urls, tmp_path, DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/x",
                     REDIS_URL="redis://127.0.0.1:1/0")
    resp = dead.test_client().get("/api/v1/health/ready")
    assert resp.status_code == 503
    checks = resp.json["checks"]
    assert resp.json["status"] == "degraded"
    assert {k: v["ok"] for k, v in checks.items()} == {"database": False, "redis": False, "worker": False}
    assert checks["database"]["detail"] == "数据库无法连接"


def test_ready_without_worker_is_degraded(client):
    resp = client.get("/api/v1/health/ready")
    assert resp.status_code == 503
    checks = resp.json["checks"]
    assert checks["database"]["ok"] and checks["redis"]["ok"]
    assert not checks["worker"]["ok"]
    assert checks["worker"]["detail"] == "没有正在运行的后台任务进程"


@pytest.mark.slow
def test_ready_with_a_real_worker_process(client, service_urls):
    env = {**os.environ, **service_urls, "APP_ENV": "test", "LOG_LEVEL": "WARNING"}
    worker = spawn_flask("worker", env=env)
    try:
        deadline = time.monotonic() + 30
        resp = client.get("/api/v1/health/ready")
        while resp.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            resp = client.get("/api/v1/health/ready")
        assert resp.status_code == 200, resp.json
        assert resp.json["status"] == "ok"
        assert resp.json["checks"]["worker"]["detail"] == "1 个后台任务进程在线"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)
    # a worker that stopped cleanly unregisters: readiness notices at once
    assert client.get("/api/v1/health/ready").status_code == 503
