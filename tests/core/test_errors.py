"""The error envelope: every status a client can meet, with error_code and a Chinese message."""

from __future__ import annotations

import marshmallow as ma
import pytest
from flask.views import MethodView
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import text

from app.core.audit import AuditEvent
from app.core.blueprint import Blueprint
from app.core.db import db
from app.core.errors import AppError, Conflict, Forbidden, Unauthorized
from app.core.jobs import enqueue_after_commit, get_queue
from app.extensions import limiter
from tests.conftest import probe_app, truncate_all
from tests.core import jobs_probe

blp = Blueprint("probe", __name__, url_prefix="/api/v1/probe")


class ThingSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=10))
    count = ma.fields.Integer(load_default=1)


@blp.route("/things")
class Things(MethodView):
    @blp.arguments(ThingSchema)
    @blp.response(201, ThingSchema)
    def post(self, data):
        db.session.add(AuditEvent(entity_type="thing", entity_id=data["count"], action="create"))
        return data


@blp.route("/raise/<kind>")
class Raise(MethodView):
    def get(self, kind):
        if kind == "unauthorized":
            raise Unauthorized()
        if kind == "forbidden":
            raise Forbidden("probe.forbidden", "只有管理员可以查看")
        if kind == "conflict":
            raise Conflict("probe.conflict", "已经处理过了")
        if kind == "custom":
            raise AppError("probe.custom", "自定义错误", status=400, errors={"x": ["坏"]})
        if kind == "crash":
            raise RuntimeError("database password is hunter2")
        if kind == "redis-down":
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        if kind == "out-of-range":
            db.session.execute(text("SELECT 99999999999999999999::bigint"))
        if kind in ("read-then-conflict", "write-then-conflict", "enqueue-then-conflict", "read-then-rollback"):
            for _ in range(8):  # psycopg prepares a statement from its sixth run on
                db.session.execute(text("SELECT 'probe-marker' AS marker")).all()
            if kind == "write-then-conflict":
                db.session.execute(text("INSERT INTO audit_events (entity_type, entity_id, action, created_at) "
                                        "VALUES ('probe', 1, 'write', now())"))
            if kind == "enqueue-then-conflict":
                enqueue_after_commit(jobs_probe.record_event, 9)
            if kind == "read-then-rollback":  # psycopg's own rollback: the control
                db.session.rollback()
                return {"ok": True}
            raise Conflict("probe.conflict", "已经处理过了")
        if kind == "prepared":
            return {"prepared": db.session.execute(text(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%probe-marker%'")).scalar_one()}
        if kind == "integrity":
            db.session.execute(text("INSERT INTO audit_events (id, entity_type, entity_id, action, created_at) "
                                    "VALUES (1, 'a', 1, 'a', now()), (1, 'a', 1, 'a', now())"))
        return {"ok": True}


@blp.route("/limited")
class Limited(MethodView):
    decorators = [limiter.limit("2/minute")]

    def get(self):
        return {"ok": True}


@pytest.fixture
def probe(_app, service_urls, redis_conn, tmp_path):
    app = probe_app(service_urls, tmp_path, blp, MAX_UPLOAD_MB=1, PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        truncate_all()
    return app.test_client()


def _assert_envelope(resp, status, error_code):
    body = resp.get_json()
    assert resp.status_code == status, body
    assert body["code"] == status
    assert body["error_code"] == error_code
    assert isinstance(body["message"], str) and body["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), "message must be Chinese"
    assert body["request_id"] == resp.headers["X-Request-ID"]
    return body


def test_unknown_route_is_404_envelope(probe):
    _assert_envelope(probe.get("/api/v1/nothing-here"), 404, "not_found")


def test_405_lists_allowed_methods(probe):
    resp = probe.delete("/api/v1/probe/things")
    _assert_envelope(resp, 405, "method_not_allowed")
    assert set(resp.headers["Allow"].split(", ")) >= {"POST", "OPTIONS"}


def test_422_has_per_field_errors_and_rejects_unknown_fields(probe):
    resp = probe.post("/api/v1/probe/things", json={"name": "", "colour": "red"})
    body = _assert_envelope(resp, 422, "validation_error")
    assert "name" in body["errors"]["json"]
    assert "colour" in body["errors"]["json"]


def test_422_nothing_written(probe, _app):
    probe.post("/api/v1/probe/things", json={"count": "many"})
    with _app.app_context():
        assert db.session.query(AuditEvent).count() == 0


def test_success_commits_once(probe, _app):
    resp = probe.post("/api/v1/probe/things", json={"name": "灯", "count": 3})
    assert resp.status_code == 201
    with _app.app_context():
        assert [e.entity_id for e in db.session.query(AuditEvent)] == [3]


def test_malformed_json_is_400(probe):
    resp = probe.post("/api/v1/probe/things", data="{not json", content_type="application/json")
    assert resp.status_code in (400, 422)
    assert resp.get_json()["error_code"] in ("bad_request", "validation_error")


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("unauthorized", 401, "auth.required"),
        ("forbidden", 403, "probe.forbidden"),
        ("conflict", 409, "probe.conflict"),
        ("custom", 400, "probe.custom"),
    ],
)
def test_app_errors(probe, kind, status, code):
    _assert_envelope(probe.get(f"/api/v1/probe/raise/{kind}"), status, code)


def test_413_when_body_too_large(probe):
    resp = probe.post("/api/v1/probe/things", data=b"x" * (1024 * 1024 + 10), content_type="application/json")
    _assert_envelope(resp, 413, "payload_too_large")


def test_429_after_limit_with_retry_after(probe):
    assert probe.get("/api/v1/probe/limited").status_code == 200
    assert probe.get("/api/v1/probe/limited").status_code == 200
    resp = probe.get("/api/v1/probe/limited")
    _assert_envelope(resp, 429, "rate_limited")
    assert int(resp.headers["Retry-After"]) > 0


def test_500_does_not_leak_internals(probe, caplog):
    resp = probe.get("/api/v1/probe/raise/crash")
    body = _assert_envelope(resp, 500, "internal_error")
    assert "hunter2" not in resp.get_data(as_text=True)
    assert "Traceback" not in resp.get_data(as_text=True)
    # the log has the traceback, tagged with the same request id
    logged = [r for r in caplog.records if r.exc_info and "hunter2" in str(r.exc_info[1])]
    assert logged and logged[0].request_id == body["request_id"]


def test_redis_unreachable_is_503_with_retry_after(probe):
    resp = probe.get("/api/v1/probe/raise/redis-down")
    _assert_envelope(resp, 503, "service_unavailable")
    assert int(resp.headers["Retry-After"]) > 0
    assert "6379" not in resp.get_data(as_text=True)


def test_a_value_postgres_cannot_take_is_422(probe):
    _assert_envelope(probe.get("/api/v1/probe/raise/out-of-range"), 422, "validation_error")


def test_integrity_error_is_409_and_rolled_back(probe, _app):
    _assert_envelope(probe.get("/api/v1/probe/raise/integrity"), 409, "conflict")
    with _app.app_context():
        assert db.session.query(AuditEvent).count() == 0


@pytest.mark.parametrize("kind", ["read-then-conflict", "write-then-conflict"])
def test_a_refusal_keeps_the_prepared_statements(probe, _app, kind):
    """A 4xx ends its transaction with a ROLLBACK psycopg does not see: the connection keeps its prepared
    statements (psycopg's own rollback discards them all, the control)."""
    _assert_envelope(probe.get(f"/api/v1/probe/raise/{kind}"), 409, "probe.conflict")
    assert probe.get("/api/v1/probe/raise/prepared").get_json() == {"prepared": 1}
    assert probe.get("/api/v1/probe/raise/read-then-rollback").get_json() == {"ok": True}
    assert probe.get("/api/v1/probe/raise/prepared").get_json() == {"prepared": 0}


def test_a_refusal_after_a_write_is_rolled_back(probe, _app):
    _assert_envelope(probe.get("/api/v1/probe/raise/write-then-conflict"), 409, "probe.conflict")
    with _app.app_context():
        assert db.session.query(AuditEvent).count() == 0
    assert probe.get("/api/v1/probe/raise/prepared").get_json() == {"prepared": 1}


def test_a_refusal_that_wrote_nothing_drops_the_jobs_it_asked_for(probe, _app):
    _assert_envelope(probe.get("/api/v1/probe/raise/enqueue-then-conflict"), 409, "probe.conflict")
    with _app.app_context():
        assert get_queue("default").count == 0
    assert probe.get("/api/v1/probe/raise/prepared").get_json() == {"prepared": 1}


def test_an_over_long_url_is_414_envelope(probe):
    resp = probe.get("/api/v1/probe/raise/none?q=" + "x" * 9000)
    body = _assert_envelope(resp, 414, "uri_too_long")
    assert body["message"] == "请求地址太长"


@pytest.mark.parametrize("headers", [{"X-Big": "y" * 9000}, {f"X-Many-{i}": "1" for i in range(120)}])
def test_an_over_long_header_or_too_many_are_431_envelope(probe, headers):
    body = _assert_envelope(probe.get("/api/v1/probe/raise/none", headers=headers), 431, "headers_too_large")
    assert body["message"] == "请求头太大"


def test_a_long_but_acceptable_url_is_served(probe):
    assert probe.get("/api/v1/probe/raise/none?q=" + "x" * 6000).status_code == 200
