"""Marshmallow conventions: unknown fields rejected, Chinese validation messages.

Validation messages reach people (the mini-program shows them next to the field), so marshmallow's
English defaults are replaced once, here, for every schema of the application.
"""

from __future__ import annotations

from collections.abc import Mapping

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


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Schema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    error_messages = {"unknown": "不允许的字段", "type": "格式不正确，应为对象"}

    @ma.pre_load
    def _refuse_nul(self, data, **kwargs):
        """PostgreSQL text cannot hold NUL: refuse it here (422) rather than fail in the database.
        (Query strings arrive as a mapping that is not a dict: check every mapping.)"""
        if isinstance(data, Mapping):
            bad = {str(k).replace("\x00", ""): ["不能包含控制字符"]
                   for k, v in data.items() if _has_nul(k) or _has_nul(v)}
            if bad:
                raise ma.ValidationError(bad)
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
