"""JSON-line logs with a request id.

The id comes from ``X-Request-ID`` when a proxy set a sane one, otherwise it is generated; it is
returned in the response header, stored on ``g`` and in a context variable so that every log line
of the request carries it, and it travels into the jobs the request enqueues (``app.core.jobs``).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request
from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("app.access")


_base_factory = logging.getLogRecordFactory()


def _record_factory(*args, **kwargs) -> logging.LogRecord:
    """Every log record, from any logger or library, carries the current request id."""
    record = _base_factory(*args, **kwargs)
    record.request_id = request_id_var.get()
    return record


def configure_logging(level: str = "INFO") -> None:
    """Send JSON lines to stderr once per process (idempotent)."""
    root = logging.getLogger()
    if any(getattr(h, "_app_json", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._app_json = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(_record_factory)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    root.addHandler(handler)
    root.setLevel(level)
    # urllib3 logs whole URLs at DEBUG, and WeChat's login URL carries the app secret.
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def new_request_id() -> str:
    return uuid.uuid4().hex


def init_request_ids(app: Flask) -> None:
    @app.before_request
    def _assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _SANE_ID.match(incoming) else new_request_id()
        g.request_id = rid
        g.request_started = time.perf_counter()
        g.request_id_token = request_id_var.set(rid)

    @app.after_request
    def _log_request(response):
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
            started = g.get("request_started")
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                },
            )
        return response

    @app.teardown_request
    def _reset_request_id(exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
