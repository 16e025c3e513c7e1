"""The error envelope.

Every error answers::

    {"code": 409, "status": "Conflict", "error_code": "repairs.invalid_transition",
     "message": "工单当前状态不允许此操作", "errors": {}}

Services raise ``AppError`` (or a subclass) with a stable ``error_code`` and a Chinese ``message``;
HTTP errors raised by Flask, webargs or Flask-Limiter get a default code and message by status.
A 500 never shows internals: the response carries the request id, the log carries the traceback.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Flask, g, jsonify, request
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    RequestHeaderFieldsTooLarge,
    RequestURITooLarge,
)

log = logging.getLogger(__name__)

DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式不正确"),
    401: ("auth.required", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "请求的内容不存在"),
    405: ("method_not_allowed", "不支持该请求方式"),
    409: ("conflict", "操作冲突，请刷新后重试"),
    413: ("payload_too_large", "上传的内容太大"),
    414: ("uri_too_long", "请求地址太长"),
    415: ("unsupported_media_type", "不支持的内容格式"),
    422: ("validation_error", "提交的信息有误，请检查后重试"),
    429: ("rate_limited", "操作太频繁，请稍后再试"),
    431: ("headers_too_large", "请求头太大"),
    500: ("internal_error", "服务器开小差了，请稍后再试"),
    502: ("upstream_error", "外部服务暂时不可用，请稍后再试"),
    503: ("service_unavailable", "服务暂时不可用，请稍后再试"),
}


class AppError(Exception):
    """A business error with a stable machine code and a Chinese message.

    ``keep_writes = True`` marks the rare error whose writes must survive the error answer (a
    reused refresh token revokes its session, then answers 401): the request still commits.
    """

    status: int = 400
    error_code: str = "bad_request"
    message: str = "请求无法处理"
    keep_writes: bool = False

    def __init__(
        self,
        error_code: str | None = None,
        message: str | None = None,
        *,
        status: int | None = None,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.error_code = error_code or self.error_code
        self.message = message or self.message
        self.status = status or self.status
        self.errors = errors or {}
        self.headers = headers or {}
        super().__init__(f"{self.error_code}: {self.message}")


class BadRequest(AppError):
    status, error_code, message = 400, "bad_request", DEFAULTS[400][1]


class Unauthorized(AppError):
    status, error_code, message = 401, "auth.required", DEFAULTS[401][1]


class Forbidden(AppError):
    status, error_code, message = 403, "forbidden", DEFAULTS[403][1]


class NotFound(AppError):
    status, error_code, message = 404, "not_found", DEFAULTS[404][1]


class Conflict(AppError):
    status, error_code, message = 409, "conflict", DEFAULTS[409][1]


class ValidationFailed(AppError):
    """A business-rule validation error on submitted fields (422 with per-field errors)."""

    status, error_code, message = 422, "validation_error", DEFAULTS[422][1]


class TooManyRequests(AppError):
    status, error_code, message = 429, "rate_limited", DEFAULTS[429][1]


class UpstreamError(AppError):
    status, error_code, message = 502, "upstream_error", DEFAULTS[502][1]


class ErrorSchema(ma.Schema):
    """The error envelope, for the OpenAPI document."""

    code = ma.fields.Integer(metadata={"description": "HTTP status code"})
    status = ma.fields.String(metadata={"description": "HTTP status name"})
    error_code = ma.fields.String(metadata={"description": "stable machine code, e.g. `repairs.invalid_transition`"})
    message = ma.fields.String(metadata={"description": "Chinese message to show to the user"})
    errors = ma.fields.Dict(metadata={"description": "per-field errors (422)"})
    request_id = ma.fields.String(metadata={"description": "request id, also in the logs"})


def envelope(status: int, error_code: str | None = None, message: str | None = None,
             errors: dict[str, Any] | None = None) -> dict[str, Any]:
    default_code, default_message = DEFAULTS.get(status, DEFAULTS[500] if status >= 500 else DEFAULTS[400])
    body = {
        "code": status,
        "status": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error",
        "error_code": error_code or default_code,
        "message": message or default_message,
        "errors": errors or {},
    }
    rid = g.get("request_id") if g else None
    if rid:
        body["request_id"] = rid
    return body


def _http_error_response(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages") or {}
    headers = dict(data.get("headers") or {})
    # Keep the headers the exception itself carries (Allow on 405, Retry-After on 429 ...).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            headers[name] = value
    if status >= 500:
        original = getattr(error, "original_exception", None)
        mapped = _map_database_error(original)
        if mapped is not None:
            return mapped
        # Flask has already logged the traceback ("Exception on …"), with the request id.
        return _respond(envelope(500), 500, headers)
    error_code = data.get("error_code")
    message = data.get("message") if error_code else None
    return _respond(envelope(status, error_code, message, errors), status, headers)


def _map_database_error(exc: BaseException | None):
    """Integrity errors at commit are a lost race (409); a value PostgreSQL cannot take (an id beyond
    bigint, a NUL character in text) is the client's input, 422; a database or a Redis that is down is a
    503 (what still works without Redis handles that itself: docs/architecture.md, "When Redis is down")."""
    if isinstance(exc, IntegrityError):
        log.warning("integrity error answered as 409", exc_info=exc)
        return _respond(envelope(409), 409, {})
    if isinstance(exc, DataError):
        log.warning("data error answered as 422", exc_info=exc)
        return _respond(envelope(422), 422, {})
    if isinstance(exc, OperationalError):
        log.error("database unavailable", exc_info=exc)
        return _respond(envelope(503), 503, {"Retry-After": "5"})
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        log.error("redis unavailable", exc_info=exc)
        return _respond(envelope(503), 503, {"Retry-After": "5"})
    return None


def _app_error_response(error: AppError):
    if error.keep_writes:
        g.keep_writes = True
    return _respond(envelope(error.status, error.error_code, error.message, error.errors), error.status, error.headers)


def _respond(body: dict[str, Any], status: int, headers: dict[str, str]):
    response = jsonify(body)
    response.status_code = status
    for name, value in headers.items():
        response.headers[name] = value
    return response


def _refuse_nul_in_path():
    """A NUL in a path parameter would reach PostgreSQL, which refuses it: answer 404 here."""
    if "\x00" in request.path:
        raise NotFound()


MAX_URL_BYTES = 8192
"""Longest request target (path and query string) served; 414 above it."""
MAX_HEADER_BYTES = 8192
MAX_HEADERS = 100
"""Longest header (name and value) and most headers served; 431 above them."""


def _refuse_oversized_request():
    """Limits the app keeps itself, so that the answer is the envelope: gunicorn's own (and nginx's)
    answer in HTML, so the runner gives gunicorn higher ones (``app.devrun.GUNICORN_LIMITS``)."""
    environ = request.environ
    target = environ.get("RAW_URI") or request.full_path
    if len(target.encode("latin-1", "replace")) > MAX_URL_BYTES:
        raise RequestURITooLarge()
    headers = [(k, v) for k, v in environ.items() if k.startswith("HTTP_") or k in {"CONTENT_TYPE", "CONTENT_LENGTH"}]
    if len(headers) > MAX_HEADERS or any(len(k) + len(str(v)) > MAX_HEADER_BYTES for k, v in headers):
        raise RequestHeaderFieldsTooLarge()


def register_error_handlers(app: Flask) -> None:
    app.before_request(_refuse_oversized_request)
    app.before_request(_refuse_nul_in_path)
    app.register_error_handler(HTTPException, _http_error_response)
    app.register_error_handler(AppError, _app_error_response)
    # Unhandled exceptions reach the InternalServerError handler with original_exception set.
    app.register_error_handler(InternalServerError, _http_error_response)
