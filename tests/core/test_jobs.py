"""enqueue_after_commit and the job wrapper, with a real RQ worker (in-process, burst mode)."""

from __future__ import annotations

import logging

from flask.views import MethodView
from rq import Queue
from sqlalchemy import select

from app.core import audit
from app.core.audit import AuditEvent
from app.core.blueprint import Blueprint
from app.core.db import db
from app.core.jobs import enqueue_after_commit, recruit
from app.core.redis import get_redis
from app.worker import run_worker
from tests.conftest import probe_app
from tests.core import jobs_probe


def _queued(name: str = "default") -> int:
    return Queue(name, connection=get_redis()).count


def test_job_enqueued_only_after_commit(app):
    audit.record("thing", 1, "create", actor_id=None)
    enqueue_after_commit(jobs_probe.record_event, 1)
    db.session.flush()
    assert _queued() == 0  # nothing leaves before the commit
    db.session.commit()
    assert _queued() == 1


def test_rollback_discards_job(app):
    enqueue_after_commit(jobs_probe.record_event, 1)
    db.session.rollback()
    db.session.commit()
    assert _queued() == 0


def test_nested_savepoint_rollback_keeps_outer_jobs(app):
    enqueue_after_commit(jobs_probe.record_event, 1)
    with db.session.begin_nested() as sp:
        sp.rollback()
    db.session.commit()
    assert _queued() == 1


def test_worker_runs_job_and_commits(app):
    enqueue_after_commit(jobs_probe.record_event, 42)
    db.session.commit()
    run_worker(app, ["default"], burst=True)
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "job_probe")).all()
    assert [(e.entity_id, e.action) for e in events] == [(42, "ran")]


def test_failing_job_rolls_back_its_writes(app):
    enqueue_after_commit(jobs_probe.fail_after_write, 5, retry=None)
    db.session.commit()
    run_worker(app, ["default"], burst=True)
    assert db.session.scalars(select(AuditEvent)).all() == []
    assert Queue("default", connection=get_redis()).failed_job_registry.count == 1


def test_redis_down_at_commit_keeps_the_business_write(service_urls, _app, caplog, tmp_path):
    broken = probe_app(service_urls, tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    with broken.app_context():
        audit.record("thing", 9, "create", actor_id=None)
        enqueue_after_commit(jobs_probe.record_event, 9)
        with caplog.at_level(logging.ERROR):
            db.session.commit()  # must not raise
        assert any("enqueue after commit failed" in r.getMessage() for r in caplog.records)
        assert db.session.scalar(select(AuditEvent.entity_id).where(AuditEvent.entity_type == "thing")) == 9
        db.session.remove()


def test_recruit_keeps_one_helper_waiting_at_most(app):
    assert recruit(jobs_probe.record_event, 1, queue="default") is True
    assert recruit(jobs_probe.record_event, 1, queue="default") is False  # one already waits
    assert _queued() == 1
    run_worker(app, ["default"], burst=True)  # a worker took it: the next backlog may recruit again
    assert recruit(jobs_probe.record_event, 1, queue="default") is True


def test_recruit_without_redis_works_alone(service_urls, _app, tmp_path, caplog):
    broken = probe_app(service_urls, tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    with broken.app_context(), caplog.at_level(logging.WARNING):
        assert recruit(jobs_probe.record_event, 1, queue="default") is False  # no exception
    assert any("could not recruit" in r.getMessage() for r in caplog.records)


blp = Blueprint("jobprobe", __name__, url_prefix="/api/v1/jobprobe")


@blp.route("")
class Enqueue(MethodView):
    def post(self):
        enqueue_after_commit(jobs_probe.record_event, 77)
        return {"ok": True}


def test_request_id_travels_into_the_job(service_urls, app, tmp_path):
    web = probe_app(service_urls, tmp_path, blp)
    resp = web.test_client().post("/api/v1/jobprobe", headers={"X-Request-ID": "req-abcdef123456"})
    assert resp.status_code == 200
    run_worker(app, ["default"], burst=True)
    db.session.expire_all()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "job_probe"))
    assert event.request_id == "req-abcdef123456"
