"""Liveness and readiness, against the real services and a real worker process."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.core.db import db
from tests.conftest import probe_app, spawn_flask
from tests.frozen import FrozenLink, answered_within


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
        assert resp.json["checks"]["worker"]["detail"] == "1 个后台任务进程在线，1 个负责定时调度"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)
    # a worker that stopped cleanly unregisters: readiness notices at once
    assert client.get("/api/v1/health/ready").status_code == 503


def _database_check(web) -> dict:
    resp = web.test_client().get("/api/v1/health/ready")
    return resp.json["checks"]["database"]


@pytest.mark.slow
def test_ready_answers_at_once_while_postgresql_does_not_answer(service_urls, tmp_path, redis_conn):
    """PostgreSQL frozen (its processes stopped, a network that drops packets): readiness says so
    within its deadline instead of hanging until the database comes back, both on the pooled
    connection and on a new one; once the database answers again, so does readiness."""
    link = FrozenLink(service_urls["DATABASE_URL"])
    try:
        web = probe_app(service_urls, tmp_path, DATABASE_URL=link.url, DB_CONNECT_TIMEOUT=2)
        assert _database_check(web)["ok"]  # a connection waits in the pool now
        link.freeze()
        for _ in range(2):  # the pooled connection, then a new one
            check = answered_within(15, lambda: _database_check(web), unstick=link.thaw)
            assert not check["ok"]
            assert check["detail"] in {"数据库无响应（2 秒内没有回答）", "数据库无法连接"}
        link.thaw()
        assert _database_check(web)["ok"]
    finally:
        link.close()


def _own_backend(web) -> psutil.Process:
    """The server process behind the probe app's one pooled connection, when the suite's PostgreSQL
    runs on this machine (it is signalled, so it must be ours: a backend of this database)."""
    with web.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        db.session.commit()
        db.session.remove()
    database = make_url(web.config["DATABASE_URL"]).database
    try:
        backend = psutil.Process(pid)
        title = " ".join(backend.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pytest.fail("this test stops a backend of the suite's PostgreSQL, which must run on this machine "
                    "(it does in CI); never skipped", pytrace=False)
    assert "postgres" in backend.name() and database in title, title  # never signal anything else
    return backend


@pytest.mark.slow
def test_ready_answers_while_its_own_database_backend_is_stopped(service_urls, tmp_path, redis_conn):
    """SIGSTOP of the server process of readiness's own pooled connection: the server cannot cancel
    a statement there, so the deadline is kept by the application."""
    web = probe_app(service_urls, tmp_path, DB_POOL_SIZE=1)
    assert _database_check(web)["ok"]
    backend = _own_backend(web)
    backend.suspend()
    try:
        check = answered_within(15, lambda: _database_check(web), unstick=backend.resume)
    finally:
        backend.resume()
    assert (check["ok"], check["detail"]) == (False, "数据库无响应（2 秒内没有回答）")
    assert _database_check(web)["ok"]  # the stopped connection was dropped; a fresh one answers
