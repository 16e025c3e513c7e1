"""A stuck database makes requests and jobs fail fast instead of hanging: a statement waits at most
``DB_STATEMENT_TIMEOUT_MS`` (requests) or ``JOB_STATEMENT_TIMEOUT_MS`` (jobs), a connection attempt
at most ``DB_CONNECT_TIMEOUT`` seconds."""

from __future__ import annotations

import time

import pytest
from flask.views import MethodView
from rq.job import Job
from sqlalchemy import func, select, text

from app.core.audit import AuditEvent
from app.core.blueprint import Blueprint
from app.core.db import db
from app.core.jobs import enqueue
from app.core.redis import get_redis
from tests.conftest import probe_app
from tests.core import jobs_probe
from tests.frozen import FrozenLink, answered_within

pytestmark = pytest.mark.slow

blp = Blueprint("probe_db", __name__, url_prefix="/api/v1/probe-db")


@blp.route("/events")
class Events(MethodView):
    def get(self):
        return {"events": db.session.scalar(select(func.count()).select_from(AuditEvent))}


def _envelope_503(resp) -> None:
    body = resp.get_json()
    assert resp.status_code == 503, body
    assert body["error_code"] == "service_unavailable"
    assert body["message"] == "服务暂时不可用，请稍后再试"


@pytest.fixture
def locked_table(_app):
    """Another connection holds ``audit_events`` in ACCESS EXCLUSIVE mode until the test ends."""
    with _app.app_context():
        holder = db.engine.connect()
    taken = False

    def lock() -> None:
        nonlocal taken
        holder.execute(text("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE"))
        taken = True

    def release() -> None:
        nonlocal taken
        if taken:
            holder.rollback()
            taken = False

    yield lock, release
    release()
    holder.close()


def test_a_request_waiting_on_a_lock_answers_503_instead_of_hanging(app, service_urls, tmp_path, locked_table):
    lock, release = locked_table
    web = probe_app(service_urls, tmp_path, blp, DB_STATEMENT_TIMEOUT_MS=500, PROPAGATE_EXCEPTIONS=False)
    client = web.test_client()
    assert client.get("/api/v1/probe-db/events").get_json() == {"events": 0}
    lock()
    _envelope_503(answered_within(20, lambda: client.get("/api/v1/probe-db/events"), unstick=release))
    release()
    assert client.get("/api/v1/probe-db/events").status_code == 200  # the lock is gone: served again


def test_a_request_to_a_database_that_does_not_answer_gets_503(app, service_urls, tmp_path):
    """Frozen before the first connection: connecting gives up after DB_CONNECT_TIMEOUT."""
    link = FrozenLink(service_urls["DATABASE_URL"])
    try:
        web = probe_app(service_urls, tmp_path, blp, DATABASE_URL=link.url, DB_CONNECT_TIMEOUT=2,
                        PROPAGATE_EXCEPTIONS=False)
        client = web.test_client()
        link.freeze()
        _envelope_503(answered_within(20, lambda: client.get("/api/v1/probe-db/events"), unstick=link.close))
        link.thaw()
        assert client.get("/api/v1/probe-db/events").status_code == 200
    finally:
        link.close()


def test_a_job_waiting_on_a_lock_fails_instead_of_holding_its_worker(app, worker_process, locked_table):
    lock, release = locked_table
    worker_process("default", JOB_STATEMENT_TIMEOUT_MS=500)
    lock()
    job = enqueue(jobs_probe.record_event, 7, retry=None)
    deadline = time.monotonic() + 30
    while job.get_status(refresh=True) != "failed" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.get_status() == "failed", job.get_status()
    assert "statement timeout" in (Job.fetch(job.id, connection=get_redis()).latest_result().exc_string or "")
    release()
    # the worker was not held: the next job runs
    second = enqueue(jobs_probe.record_event, 8, retry=None)
    deadline = time.monotonic() + 30
    while second.get_status(refresh=True) != "finished" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert second.get_status() == "finished"
