"""Checks on a request body before anything parses it.

**Nesting.** Python's JSON parser, marshmallow and our own checks recurse once per level of nesting: a
body of 100 000 ``[`` makes the parser raise RecursionError (a 500), and a few hundred levels are enough
to make later recursion expensive. No request of this API nests deeper than a handful of levels, so a JSON
body nested deeper than ``MAX_JSON_DEPTH`` answers 400 ``request.too_deep`` before it is parsed — the
check counts brackets outside strings, in C-speed passes over the bytes (and not at all when the body
holds too few brackets to be that deep). It runs before the views' rate-limit key functions, which may
read the body too.

**Size.** No JSON request of this API comes near ``MAX_JSON_BYTES`` (the biggest, a meeting's audience of
5 000 user ids, is about 40 KB), while parsing costs about a second per megabyte of small arrays: a larger
JSON body is a 413 before it is read. (``MAX_UPLOAD_MB`` bounds the files of multipart uploads.)
"""

from __future__ import annotations

import re

from flask import Flask, request

from app.core.errors import AppError, BadRequest

MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 1024 * 1024

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


class JsonTooDeep(BadRequest):
    error_code = "request.too_deep"
    message = "提交的内容嵌套层数过多"


class JsonTooLarge(AppError):
    status, error_code, message = 413, "payload_too_large", "提交的内容太大"


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``body`` nests arrays and objects more than ``limit`` deep.

    Malformed text that is not deep (unbalanced brackets) is left to the parser to refuse; malformed
    text that opens more than ``limit`` brackets is deep."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(_SQUARE, _NOT_A_BRACKET)
    # Each pass removes the innermost pairs, so at least one level: after `limit` passes a balanced text no
    # deeper than `limit` is gone.
    for levels in range(limit + 1):
        if not brackets:
            return False
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):  # unbalanced: what is left opens at most this many more levels
            return levels + brackets.count(b"[") > limit
        brackets = shorter
    return True


def _check_json_body() -> None:
    if not request.is_json:
        return
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise JsonTooLarge()
    body = request.get_data(cache=True)  # chunked: read up to MAX_CONTENT_LENGTH
    if len(body) > MAX_JSON_BYTES:
        raise JsonTooLarge()
    if json_too_deep(body):
        raise JsonTooDeep()


def init_request_guards(app: Flask) -> None:
    app.before_request(_check_json_body)
