"""schemathesis over the whole OpenAPI document: no input makes the API answer 5xx, and every
answer matches the schema it documents (docs/architecture.md). Requests are made as the demo admin, who
may call every endpoint, against the seeded demo school. (schemathesis's pytest plugin does not
run under pytest 9, so the operations are driven with hypothesis directly.) Hand-made hostile inputs
(deep nesting, lone surrogates, control and bidi characters, far dates, non-integers for integers) go to
every operation as well: never a 5xx, and never taken."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

pytestmark = pytest.mark.slow

EXAMPLES = 25


def test_no_server_error_and_schema_conformance(app, demo, login):
    headers = login("admin").headers
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:
        _exercise(app, operation, headers)


def _exercise(app, operation, headers) -> None:
    # readiness answers 503 by design while no worker runs (documented); everything else never 5xx
    checks = ((response_schema_conformance,) if operation.path == "/api/v1/health/ready"
              else (not_a_server_error, response_schema_conformance))

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def exercise(case):
        with app.app_context():  # a fresh context (and DB session) per request, as in production
            response = case.call(headers=headers)
        case.validate_response(response, checks=checks)

    exercise()


# --- hand-made hostile inputs, sent to every operation --------------------------------------------------------
#
# Hypothesis draws text without lone surrogates, JSON without deep nesting, dates in a narrow window and
# integers for integer fields: what an outside probe sent instead is sent here, one hostile value per request,
# to every JSON body property (and one level into nested objects and lists) and every query parameter.
# Nothing may answer 5xx, and no hostile value may be taken (a 2xx would mean it was stored or truncated).

DEEP = "[" * 5000 + "]" * 5000
HOSTILE_TEXT = ["\ud800", "a\udc00b", "\ud83d", "a\u202eb", "a\u2066b", "a\x07b", "\x1b[31m", "a\x85b", "a\x7fb"]
HOSTILE_INTEGERS = [1.9, 1799.0, -0.5, 1e300, "1", True, 2**70]
HOSTILE = {
    "integer": HOSTILE_INTEGERS,
    "date": ["9999-12-31", "0001-01-01", "2101-01-01"],
    "date-time": ["9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00", "1999-12-31T23:00:00+00:00"],
}
HOSTILE_QUERY = {
    "integer": ["1.9", "1e3", "1799.0"],
    "date": ["9999-12-31", "0001-01-01"],
    "string": ["a\x07b", "a\u202eb", "\x1b"],
}


def test_hostile_inputs_on_every_operation(app, demo, login, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # a crash is a 500 to report, as in production
    admin = login("admin")
    spec = admin.client.get("/api/openapi.json").get_json()
    sent, problems = 0, []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            params = item.get("parameters", []) + operation.get("parameters", [])
            url = _url(path, params)
            body_schema = (operation.get("requestBody", {}).get("content", {})
                           .get("application/json", {}).get("schema"))
            for what, request in _hostile_requests(spec, body_schema, params):
                with app.app_context():
                    response = admin.client.open(url, method=method.upper(), headers=admin.headers, **request)
                problem = _problem(response)
                if problem:
                    problems.append(f"{method.upper()} {path} {what}: {problem}")
                sent += 1
    assert sent > 1000
    assert not problems, f"{len(problems)} of {sent}:\n" + "\n".join(problems[:40])


def _problem(response) -> str | None:
    """What is wrong with the answer to a hostile request: a 5xx, a value taken, or no error envelope."""
    body = response.get_json(silent=True)
    if response.status_code >= 500:
        return f"{response.status_code} {response.get_data(as_text=True)[:120]}"
    if response.status_code < 400:
        return f"{response.status_code}: taken"
    if not (isinstance(body, dict) and body.get("error_code")):
        return f"{response.status_code} without the error envelope"
    return None


def _url(path: str, params: list[dict]) -> str:
    for param in params:
        if param["in"] == "path":
            schema = param.get("schema", {})
            value = schema.get("enum", [None])[0] or (1 if schema.get("type") == "integer" else "x")
            path = path.replace("{" + param["name"] + "}", str(value))
    return path


def _resolve(spec: dict, schema: dict | None) -> dict:
    schema = schema or {}
    if "$ref" in schema:
        return _resolve(spec, spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    if "anyOf" in schema:  # marshmallow's nullable Nested: the object, or null
        return _resolve(spec, schema["anyOf"][0])
    return schema


def _kind(schema: dict) -> str:
    return schema.get("format") if schema.get("format") in HOSTILE else schema.get("type", "")


def _plain(spec: dict, schema: dict, depth: int = 0):
    """An unremarkable value of ``schema``: what fills the other required properties."""
    schema = _resolve(spec, schema)
    kind = _kind(schema)
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" and depth < 3:
        return {name: _plain(spec, prop, depth + 1) for name, prop in schema.get("properties", {}).items()
                if name in schema.get("required", [])}
    return {"integer": 1, "number": 1.5, "boolean": False, "array": [], "object": {}, "date": "2026-10-15",
            "date-time": "2026-10-15T10:00:00+08:00"}.get(kind, "x")


def _hostile_values(spec: dict, schema: dict, depth: int = 0):
    """(where, value) pairs: hostile values of ``schema``, and within its properties or items."""
    schema = _resolve(spec, schema)
    kind = _kind(schema)
    for value in HOSTILE.get(kind, []):
        yield "", value
    if kind == "string":
        for value in HOSTILE_TEXT:
            yield "", value
    if depth >= 2:
        return
    if kind == "array":
        for where, value in _hostile_values(spec, schema.get("items", {}), depth + 1):
            yield f"[0]{where}", [value]
    if kind == "object":
        plain = _plain(spec, schema, depth)
        for name, prop in schema.get("properties", {}).items():
            if prop.get("readOnly"):
                continue
            for where, value in _hostile_values(spec, prop, depth + 1):
                yield f".{name}{where}", {**plain, name: value}
        if schema.get("additionalProperties") not in (None, False):
            for text in HOSTILE_TEXT[:3]:
                yield ".<key>", {**plain, text: "x"}


def _hostile_requests(spec: dict, body_schema: dict | None, params: list[dict]):
    if body_schema is not None:
        yield "deep body", {"data": DEEP, "content_type": "application/json"}
        for where, body in _hostile_values(spec, body_schema):
            # json.dumps escapes a lone surrogate as "\ud800", as a client's JSON library would
            yield f"body{where}={body!r:.60}", {"data": json.dumps(body), "content_type": "application/json"}
    for param in params:
        if param["in"] != "query":
            continue
        kind = _kind(param.get("schema", {}))
        for value in HOSTILE_QUERY.get(kind, []):
            yield f"?{param['name']}={value!r}", {"query_string": {param["name"]: value}}
