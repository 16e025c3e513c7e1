"""Notifications reacting to other domains' signals: what a domain below this one (``users``, which
cannot call ``notify``) has to tell people. ``create_app`` calls ``connect()``; importing this module
connects nothing (blinker connections are global, and connecting the same receiver again is harmless).

Guardian requests (``app.users.service.guardians``): the student and the class teacher are told of a
new request, the parent of the decision or the expiry (not of a withdrawal: they made it).
"""

from __future__ import annotations

from typing import Any

from app.core import clock
from app.notifications import service, templates
from app.notifications.templates import TemplateSpec
from app.users import events as users_events
from app.users.states import GUARDIAN_REQUEST_DAYS

GUARDIAN_REQUESTS_LINK = "/packageGuardians/pages/requests/requests"
ME_LINK = "/pages/me/me"

GUARDIAN_REQUESTED = templates.register(TemplateSpec(
    event="users.guardian_requested", title="家长绑定申请", page="packageGuardians/pages/requests/requests",
    fields={"thing1": "student_name", "thing2": "requester", "time3": "at"}))
GUARDIAN_DECIDED = templates.register(TemplateSpec(
    event="users.guardian_decided", title="家长绑定结果", page="pages/me/me",
    fields={"thing1": "student_name", "phrase2": "state", "time3": "at"}))

_OUTCOMES = {
    "approved": ("已通过", "确认通过，你现在可以代孩子办理后勤事务"),
    "rejected": ("未通过", "孩子或班主任没有通过申请，如有疑问请联系班主任"),
    "expired": ("已过期", f"{GUARDIAN_REQUEST_DAYS} 天内没有人确认，如需绑定请重新申请，或用登记的家长手机号验证"),
}


def connect() -> None:
    users_events.guardian_requested.connect(_guardian_requested)
    users_events.guardian_request_closed.connect(_guardian_request_closed)


def _guardian_requested(request_id: int, *, decider_ids: list[int], student_name: str, requester: str,
                        relation: str | None, **_kw: Any) -> None:
    who = f"{requester}（{relation}）" if relation else requester
    service.notify_many(
        user_ids=decider_ids, event=GUARDIAN_REQUESTED.event, title=f"家长绑定申请：{student_name}",
        body=f"{who}申请绑定为{student_name}的家长，请确认是否本人家长",
        data={"request_id": request_id, "student_name": student_name, "requester": who,
              "at": clock.now().isoformat()},
        link=GUARDIAN_REQUESTS_LINK, idempotency_key=f"users.guardian_requested:{request_id}")


def _guardian_request_closed(request_id: int, *, requester_id: int, status: str, student_name: str,
                             **_kw: Any) -> None:
    if status not in _OUTCOMES:
        return
    state, body = _OUTCOMES[status]
    service.notify(
        user_id=requester_id, event=GUARDIAN_DECIDED.event, title=f"家长绑定{state}：{student_name}", body=body,
        data={"request_id": request_id, "student_name": student_name, "state": state,
              "at": clock.now().isoformat()},
        link=ME_LINK, idempotency_key=f"users.guardian_decided:{request_id}:{status}")
