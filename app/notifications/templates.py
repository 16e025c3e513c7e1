"""Subscribe-message templates: which template each event uses and how its fields are filled.

Domains register a ``TemplateSpec`` per event (``register``). The template *ids* are settings
(``WECHAT_TEMPLATE_IDS``, chosen in the mini-program console); in simulator mode an event without an
id uses ``sim-<event>`` so the whole flow can be tried offline. ``render`` shapes values to WeChat's
field rules by key prefix (``thing`` ≤ 20 characters, ``phrase`` ≤ 5 Chinese characters,
``character_string`` ≤ 32 ASCII, ``time`` like ``2026年11月21日 14:30`` …): a value WeChat would
refuse (errcode 47003) is a message lost, so we shorten rather than fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app

from app.core import clock


@dataclass(frozen=True)
class TemplateSpec:
    event: str
    title: str  # what the user is asked to accept, e.g. "报修进度通知"
    page: str  # mini-program page opened from the message; ``{key}`` placeholders come from data
    fields: Mapping[str, str]  # WeChat key (thing1, time2 …) -> data key


_REGISTRY: dict[str, TemplateSpec] = {}


def register(spec: TemplateSpec) -> TemplateSpec:
    _REGISTRY[spec.event] = spec
    return spec


def spec_for(event: str) -> TemplateSpec | None:
    return _REGISTRY.get(event)


def all_specs() -> list[TemplateSpec]:
    return sorted(_REGISTRY.values(), key=lambda s: s.event)


def template_id_for(event: str) -> str | None:
    configured = current_app.config.get("WECHAT_TEMPLATE_IDS") or ""
    ids = json.loads(configured) if configured else {}
    if event in ids:
        return ids[event] or None
    if current_app.config.get("WECHAT_SIMULATOR") and event in _REGISTRY:
        return f"sim-{event}"
    return None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _format_time(value: Any, fmt: str) -> str:
    if value is None or value == "":
        value = clock.now()  # a time field WeChat cannot do without: "now" beats a lost message
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return clock.to_local(value).strftime(fmt).replace("年0", "年").replace("月0", "月")
    return str(value)


_CJK_ONLY = re.compile(r"[^\u4e00-\u9fff]")


def format_value(key: str, value: Any) -> str:
    kind = re.sub(r"\d+$", "", key)
    if kind == "time":
        return _format_time(value, "%Y年%m月%d日 %H:%M")
    if kind == "date":
        return _format_time(value, "%Y年%m月%d日")
    text = " ".join(str(value if value is not None else "").split()) or "-"
    if kind == "thing":
        return _cut(text, 20)
    if kind == "phrase":
        return (_CJK_ONLY.sub("", text) or "通知")[:5]
    if kind == "character_string":
        return (re.sub(r"[^!-~]", "", text) or "-")[:32]
    if kind == "name":
        return _cut(re.sub(r"\d", "", text) or "-", 10)
    if kind == "number":
        return re.sub(r"[^\d.+-]", "", text)[:32] or "0"
    if kind == "short_thing":
        return _cut(text, 5)
    return _cut(text, 20)


def render(spec: TemplateSpec, data: Mapping[str, Any]) -> tuple[dict[str, str], str]:
    """The subscribe message's ``data`` and ``page`` for one notification."""
    values = {key: format_value(key, data.get(source)) for key, source in spec.fields.items()}
    page = spec.page.format_map(_Default(data))
    return values, page


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return ""
