"""Checks on a request body before anything parses it.

**Nesting.** Python's JSON parser, marshmallow and our own checks recurse once per level of nesting: a
body of 100 000 ``[`` makes the parser raise RecursionError (a 500), and a few hundred levels are enough
to make later recursion expensive. No request of this API nests deeper than a handful of levels, so a JSON
body nested deeper than ``MAX_JSON_DEPTH`` answers 400 ``request.too_deep`` before it is parsed — the
check counts brackets outside strings, in C-speed passes over the bytes (and not at all when the body
holds too few brackets to be that deep). It runs before the views' rate-limit key functions, which may
read the body too.
"""

from __future__ import annotations

import re

from flask import Flask, request

from app.core.errors import BadRequest

MAX_JSON_DEPTH = 32

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(rb"[^\[\]{}]+")
_SQUARE = bytes.maketrans(b"{}", b"[]")


class JsonTooDeep(BadRequest):
    error_code = "request.too_deep"
    message = "提交的内容嵌套层数过多"


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``body`` nests arrays and objects more than ``limit`` deep.

    Malformed text that is not deep (unbalanced brackets) is left to the parser to refuse; malformed
    text that opens more than ``limit`` brackets is deep."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _NOT_A_BRACKET.sub(b"", _JSON_STRING.sub(b"", body)).translate(_SQUARE)
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


def _refuse_deep_json() -> None:
    if request.is_json and json_too_deep(request.get_data(cache=True)):
        raise JsonTooDeep()


def init_request_guards(app: Flask) -> None:
    app.before_request(_refuse_deep_json)
