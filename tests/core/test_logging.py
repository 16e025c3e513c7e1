"""Request ids: echoed, generated when missing or unsafe, present in JSON log lines."""

from __future__ import annotations

import io
import json
import logging

from app.core.logging import configure_logging, request_id_var


def test_request_id_generated_and_returned(client):
    resp = client.get("/api/v1/health")
    rid = resp.headers["X-Request-ID"]
    assert len(rid) == 32
    assert client.get("/api/v1/health").headers["X-Request-ID"] != rid


def test_sane_incoming_request_id_is_kept(client):
    resp = client.get("/api/v1/health", headers={"X-Request-ID": "nginx-1234-abcd"})
    assert resp.headers["X-Request-ID"] == "nginx-1234-abcd"


def test_unsafe_incoming_request_id_is_replaced(client):
    resp = client.get("/api/v1/health", headers={"X-Request-ID": "bad id; with spaces!"})
    assert resp.headers["X-Request-ID"] != "bad id; with spaces!"
    assert len(resp.headers["X-Request-ID"]) == 32


def test_json_log_line_carries_request_id():
    configure_logging("INFO")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_app_json", False))
    stream = io.StringIO()
    old = handler.setStream(stream)
    token = request_id_var.set("rid-for-log-test")
    try:
        logging.getLogger("app.test").warning("报修已提交", extra={"repair_id": 5})
    finally:
        request_id_var.reset(token)
        handler.setStream(old)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["request_id"] == "rid-for-log-test"
    assert line["message"] == "报修已提交"
    assert line["level"] == "WARNING" and line["repair_id"] == 5 and "time" in line
