"""Marshmallow conventions: unknown fields rejected, Chinese validation messages.

Validation messages reach people (the mini-program shows them next to the field), so marshmallow's
English defaults are replaced once, here, for every schema of the application.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import marshmallow as ma
from marshmallow import validate

_FIELD_MESSAGES = {
    ma.fields.Field: {"required": "必填", "null": "不能为空", "validator_failed": "格式不正确"},
    ma.fields.String: {"invalid": "应为文字"},
    ma.fields.Integer: {"invalid": "应为整数"},
    ma.fields.Number: {"invalid": "应为数字", "too_large": "数字太大"},
    ma.fields.Float: {"special": "应为有效数字"},
    ma.fields.Boolean: {"invalid": "应为是或否"},
    ma.fields.DateTime: {"invalid": "时间格式不正确", "invalid_awareness": "时间需带时区"},
    ma.fields.Date: {"invalid": "日期格式不正确"},
    ma.fields.List: {"invalid": "应为列表"},
    ma.fields.Dict: {"invalid": "应为对象"},
    ma.fields.Nested: {"type": "格式不正确"},
    ma.fields.Email: {"invalid": "邮箱格式不正确"},
}


def install_chinese_messages() -> None:
    """Idempotent. Runs when this module is imported — before any schema module builds its
    validators, which copy the message at construction time."""
    for field_class, messages in _FIELD_MESSAGES.items():
        field_class.default_error_messages = {**field_class.default_error_messages, **messages}
    validate.Length.message_min = "至少 {min} 个字"
    validate.Length.message_max = "最多 {max} 个字"
    validate.Length.message_all = "应为 {min} 到 {max} 个字"
    validate.Length.message_equal = "应为 {equal} 个字"
    # Range formats twice: first the operators, then the bounds (hence the double braces).
    validate.Range.message_min = "应{min_op} {{min}}"
    validate.Range.message_max = "应{max_op} {{max}}"
    validate.Range.message_all = "应{min_op} {{min}} 且{max_op} {{max}}"
    validate.Range.message_gte, validate.Range.message_gt = "不小于", "大于"
    validate.Range.message_lte, validate.Range.message_lt = "不大于", "小于"
    validate.OneOf.default_message = "应为以下之一：{choices}"
    validate.Regexp.default_message = "格式不正确"


install_chinese_messages()


_BIGINT = 2**63 - 1

MIN_YEAR, MAX_YEAR = 2000, 2100
"""Every date and time the API takes lies in these years: far dates (9999-12-31) overflow date arithmetic."""

CONTROL_CHARACTERS = "不能包含控制字符"
INVALID_CHARACTERS = "不能包含无效字符"
NOT_AN_INTEGER = "应为整数"

# C0 controls except tab, newline and carriage return; DEL; C1 controls; the bidi embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069) that make text display in another order than it is stored.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A lone surrogate (JSON's "\ud800" without its pair) is not a character: UTF-8 cannot encode it.
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNPRINTABLE = re.compile(f"{_CONTROL.pattern}|{_SURROGATE.pattern}")
_LINE_BREAK = re.compile("[\n\r\u2028\u2029]")


def text_problem(value: Any) -> str | None:
    """Why a submitted value (a string, or any string inside a JSON structure) cannot be taken, or None."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            return INVALID_CHARACTERS
        return CONTROL_CHARACTERS if _CONTROL.search(value) else None
    if isinstance(value, Mapping):
        return next(filter(None, (text_problem(k) or text_problem(v) for k, v in value.items())), None)
    if isinstance(value, list | tuple):
        return next(filter(None, map(text_problem, value)), None)
    return None


def _printable(key: Any) -> str:
    """An input key fit to be echoed in an error answer."""
    return _UNPRINTABLE.sub("", str(key))


def _too_big(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -_BIGINT <= value <= _BIGINT
    if isinstance(value, dict):
        return any(_too_big(v) for v in value.values())
    if isinstance(value, list | tuple | set):
        return any(_too_big(v) for v in value)
    return False


def _integer_errors(field: ma.fields.Field, value: Any) -> Any:
    """Where a JSON value is not a JSON integer although ``field`` (or the field inside it) is an Integer.

    Only JSON objects are checked this way: a query string or a form is text, whose integers marshmallow
    reads from their digits as always (``"1.9"`` stays refused there)."""
    if isinstance(field, ma.fields.Integer):
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return None
        return [NOT_AN_INTEGER]
    if isinstance(field, ma.fields.List) and isinstance(value, list):
        found = {i: e for i, item in enumerate(value) if (e := _integer_errors(field.inner, item))}
        return found or None
    if isinstance(field, ma.fields.Tuple) and isinstance(value, list):
        found = {i: e for i, (inner, item) in enumerate(zip(field.tuple_fields, value, strict=False))
                 if (e := _integer_errors(inner, item))}
        return found or None
    if isinstance(field, ma.fields.Mapping) and field.value_field is not None and isinstance(value, dict):
        found = {_printable(k): {"value": e} for k, item in value.items()
                 if (e := _integer_errors(field.value_field, item))}
        return found or None
    return None  # Nested: the nested schema checks its own fields


def _sane_year(value: date) -> None:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ma.ValidationError(f"日期应在 {MIN_YEAR} 年到 {MAX_YEAR} 年之间")


def _add_date_bounds(field: ma.fields.Field) -> None:
    """Every Date and DateTime (also inside a List, Tuple or Dict) keeps to ``MIN_YEAR``-``MAX_YEAR``."""
    if isinstance(field, ma.fields.Date | ma.fields.DateTime):
        if _sane_year not in field.validators:
            # a new list: a bound field is a shallow copy of the declared one, sharing its validators
            field.validators = [*field.validators, _sane_year]
    elif isinstance(field, ma.fields.List):
        _add_date_bounds(field.inner)
    elif isinstance(field, ma.fields.Tuple):
        for inner in field.tuple_fields:
            _add_date_bounds(inner)
    elif isinstance(field, ma.fields.Mapping) and field.value_field is not None:
        _add_date_bounds(field.value_field)


class Line(ma.fields.String):
    """One line of text — a title, a name: besides what every string refuses, no line breaks."""

    default_error_messages = {"line_break": "不能换行"}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if _LINE_BREAK.search(text):
            raise self.make_error("line_break")
        return text


class Schema(ma.Schema):
    """The base of every request and response schema. On top of marshmallow, for what it loads:

    * unknown fields are refused;
    * no string anywhere (also in keys, lists and nested objects) holds a control character, a bidi
      override or a lone surrogate (``text_problem``);
    * in a JSON object an Integer field takes JSON integers only: ``1799.9``, ``1799.0``, ``"1799"`` and
      ``true`` are refused, never truncated or converted (also inside a List, Tuple or Dict);
    * every integer fits a PostgreSQL BIGINT;
    * every Date and DateTime lies between ``MIN_YEAR`` and ``MAX_YEAR``.
    """

    class Meta:
        unknown = ma.RAISE

    error_messages = {"unknown": "不允许的字段", "type": "格式不正确，应为对象"}

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        _add_date_bounds(field_obj)

    @ma.pre_load
    def _refuse_bad_input(self, data, **kwargs):
        """PostgreSQL text cannot hold NUL nor a lone surrogate, and no person's text holds a control or a
        bidi override character: refuse them here (422). Query strings arrive as a mapping that is not a
        dict: every mapping is checked; integers are checked in JSON objects (``dict``) only."""
        if not isinstance(data, Mapping):
            return data
        errors: dict[str, Any] = {}
        for key, value in data.items():
            problem = text_problem(key) or text_problem(value)
            if problem:
                errors[_printable(key)] = [problem]
        if isinstance(data, dict):
            for name, field in self.load_fields.items():
                key = field.data_key if field.data_key is not None else name
                if key in data and key not in errors and (found := _integer_errors(field, data[key])):
                    errors[key] = found
        if errors:
            raise ma.ValidationError(errors)
        return data

    @ma.post_load
    def _refuse_huge_integers(self, data, **kwargs):
        """Every integer we store or look up is a PostgreSQL BIGINT: a larger one is a 422 here,
        not a database error later."""
        if isinstance(data, dict):
            bad = {k: ["数字超出范围"] for k, v in data.items() if _too_big(v)}
            if bad:
                raise ma.ValidationError(bad)
        return data


class ImportQuerySchema(Schema):
    dry_run = ma.fields.Boolean(load_default=False, metadata={"description": "validate only, write nothing"})


class ImportFileSchema(Schema):
    file = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                                  "description": ".xlsx file, first sheet, header row first"})


class ImportResultSchema(Schema):
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    dry_run = ma.fields.Boolean()
