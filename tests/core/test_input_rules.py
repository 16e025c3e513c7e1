"""The input rules every schema and every JSON body follow (core.schemas, core.request_guards,
core.ratelimit), on their own; tests/test_hostile_input.py sends the same inputs to the real endpoints."""

from __future__ import annotations

import json

import marshmallow as ma
import pytest
from flask import Flask
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from app.core.ratelimit import storable
from app.core.request_guards import MAX_JSON_DEPTH, json_too_deep
from app.core.schemas import Line, Schema

# --- nesting ------------------------------------------------------------------------------------------------


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@pytest.mark.parametrize("text", [
    "{}", "[]", "1", '"[[[["', '{"a": [1, {"b": []}]}',
    "[" * 32 + "]" * 32,
    "[" * 31 + "{}" + "]" * 31,
    '{"a": "' + "[" * 100 + '", "b": "\\"{{{{"}',
    "[" + ",".join(["[[]]"] * 1000) + "]",
    json.dumps([[[{"x": [[["]]]]]]]"]]]}]]]),
])
def test_within_the_bound_is_not_too_deep(text):
    assert _depth(json.loads(text)) <= MAX_JSON_DEPTH
    assert not json_too_deep(text.encode())


@pytest.mark.parametrize("text", [
    "[" * 33 + "]" * 33,
    "[" * 32 + "{}" + "]" * 32,
    '{"a": ' + "[" * 40 + "]" * 40 + "}",
    "[" + ",".join(["[]"] * 500) + "," + "[" * 33 + "]" * 33 + "]",
])
def test_beyond_the_bound_is_too_deep(text):
    assert _depth(json.loads(text)) > MAX_JSON_DEPTH
    assert json_too_deep(text.encode())


@pytest.mark.parametrize("text", ["[" * 100_000, "[" * 20 + "]" * 100_000 + "[" * 40, '["' + "[" * 50])
def test_unbalanced_text_that_opens_many_levels_is_too_deep(text):
    assert json_too_deep(text.encode())


@pytest.mark.parametrize("text", ["[[1]", "]]]]", "[1]]", '{"a": [}'])
def test_shallow_malformed_text_is_left_to_the_parser(text):
    assert not json_too_deep(text.encode())


# --- strings ------------------------------------------------------------------------------------------------


class Inner(Schema):
    count = ma.fields.Integer()
    note = ma.fields.String()


class Probe(Schema):
    title = Line()
    body = ma.fields.String()
    count = ma.fields.Integer(allow_none=True)
    ids = ma.fields.List(ma.fields.Integer())
    pair = ma.fields.Tuple((ma.fields.Integer(), ma.fields.String()))
    scores = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    inner = ma.fields.Nested(Inner)
    extra = ma.fields.Dict()
    day = ma.fields.Date()
    days = ma.fields.List(ma.fields.Date())
    at = ma.fields.DateTime(data_key="when")
    ratio = ma.fields.Float()


def _errors(data) -> dict:
    with pytest.raises(ma.ValidationError) as caught:
        Probe().load(data)
    return caught.value.messages


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x80", "\x85",
                                  "\x9f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
                                  "\u2068", "\u2069"])
def test_control_and_bidi_characters_are_refused_everywhere(char):
    assert _errors({"body": f"a{char}b"}) == {"body": ["不能包含控制字符"]}
    assert _errors({"extra": {"k": [f"a{char}"]}}) == {"extra": ["不能包含控制字符"]}
    assert _errors({"extra": {f"k{char}": 1}}) == {"extra": ["不能包含控制字符"]}
    assert _errors({f"x{char}": 1}) == {"x": ["不能包含控制字符"]}  # the key echoed without it
    assert _errors({"inner": {"note": char}}) == {"inner": ["不能包含控制字符"]}


@pytest.mark.parametrize("char", ["\ud800", "\udbff", "\udc00", "\udfff"])
def test_lone_surrogates_are_refused_everywhere(char):
    assert _errors({"body": f"a{char}"}) == {"body": ["不能包含无效字符"]}
    assert _errors({"extra": {"k": {"k": char}}}) == {"extra": ["不能包含无效字符"]}
    query = MultiDictProxy(MultiDict({"body": char}), Probe())
    assert _errors(query) == {"body": ["不能包含无效字符"]}


def test_tabs_newlines_and_ordinary_unicode_are_text():
    text = "第一行\n\t第二行\r\n👍 שָׁלוֹם \u200d\u200f"
    assert Probe().load({"body": text, "title": "标题\t👍"}) == {"body": text, "title": "标题\t👍"}


@pytest.mark.parametrize("title", ["a\nb", "a\rb", "a\u2028b", "a\u2029b"])
def test_a_line_has_no_line_breaks(title):
    assert _errors({"title": title}) == {"title": ["不能换行"]}


def test_a_query_string_is_checked_too():
    query = MultiDictProxy(MultiDict({"body": "a\x07"}), Probe())
    assert _errors(query) == {"body": ["不能包含控制字符"]}


# --- integers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1.5, 1.0, -0.0, "12", "1e3", True, False, [1], {"a": 1}])
def test_a_json_integer_field_takes_json_integers_only(value):
    assert _errors({"count": value}) == {"count": ["应为整数"]}


def test_integers_inside_lists_tuples_dicts_and_nested_objects():
    assert _errors({"ids": [1, 2.0, 3, "4"]}) == {"ids": {1: ["应为整数"], 3: ["应为整数"]}}
    assert _errors({"pair": [1.5, "x"]}) == {"pair": {0: ["应为整数"]}}
    assert _errors({"scores": {"a": 1, "b": 2.5}}) == {"scores": {"b": {"value": ["应为整数"]}}}
    assert _errors({"inner": {"count": 7.9}}) == {"inner": {"count": ["应为整数"]}}


def test_integers_and_the_rest_load_as_before():
    loaded = Probe().load({"count": None, "ids": [1, 2], "pair": [3, "x"], "scores": {"a": 4},
                           "inner": {"count": 5}, "ratio": 1, "extra": {"n": 1.5}})
    assert loaded["ids"] == [1, 2] and loaded["pair"] == (3, "x") and loaded["inner"] == {"count": 5}
    assert loaded["ratio"] == 1.0 and loaded["extra"] == {"n": 1.5}  # only Integer fields are strict


def test_a_query_string_integer_is_read_from_its_digits():
    schema = Probe()
    assert schema.load(MultiDictProxy(MultiDict({"count": "12"}), schema)) == {"count": 12}
    assert _errors(MultiDictProxy(MultiDict({"count": "1.9"}), schema)) == {"count": ["应为整数"]}
    assert _errors(MultiDictProxy(MultiDict([("ids", "1"), ("ids", "2.5")]), schema)) == {"ids": {1: ["应为整数"]}}


# --- dates --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "field"), [
    ({"day": "9999-12-31"}, "day"),
    ({"day": "1999-12-31"}, "day"),
    ({"day": "2101-01-01"}, "day"),
    ({"when": "9999-12-31T23:59:59+14:00"}, "when"),
    ({"when": "0001-01-01T00:00:00"}, "when"),
])
def test_dates_outside_2000_to_2100_are_refused(data, field):
    assert _errors(data) == {field: ["日期应在 2000 年到 2100 年之间"]}


def test_dates_in_lists_too_and_the_bounds_are_inclusive():
    assert _errors({"days": ["2026-01-01", "9999-01-01"]}) == {"days": {1: ["日期应在 2000 年到 2100 年之间"]}}
    loaded = Probe().load({"day": "2000-01-01", "days": ["2100-12-31"], "when": "2100-12-31T23:59:59+08:00"})
    assert loaded["day"].year == 2000 and loaded["days"][0].year == 2100


def test_the_date_rule_is_added_once_per_field():
    a, b = Probe(), Probe()
    assert len(a.fields["day"].validators) == len(b.fields["day"].validators) == 1
    assert Probe._declared_fields["day"].validators == []


# --- rate-limit keys ----------------------------------------------------------------------------------------


def test_a_rate_limit_key_redis_cannot_store_is_escaped_and_a_failing_one_counts_per_address():
    app = Flask(__name__)

    def broken() -> str:
        raise KeyError("code")

    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        assert storable(lambda: "login-code:\ud800x")() == "login-code:\\ud800x"
        assert storable(lambda: "user:7")() == "user:7"
        assert storable(broken)() == "ip:10.1.2.3"
