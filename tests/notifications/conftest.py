from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.db import db
from app.notifications import templates
from app.notifications.service import add_grants
from app.notifications.templates import TemplateSpec
from app.users.models import User

PING = TemplateSpec(event="test.ping", title="测试通知", page="pages/index/index?id={ref}",
                    fields={"thing1": "title", "time2": "at", "phrase3": "state"})
TEMPLATE_ID = "sim-test.ping"
NOTICE_TEMPLATE_ID = "sim-notifications.notice"  # a real event: worker processes know it too


@pytest.fixture
def ping(app):
    """A registered event with a subscribe-message template (the simulator's default id)."""
    templates.register(PING)
    yield PING
    templates._REGISTRY.pop(PING.event, None)


@pytest.fixture
def teacher_id(demo) -> int:
    return db.session.scalar(select(User.id).where(User.openid == "demo-openid-teacher"))


@pytest.fixture
def consent(sim, teacher_id):
    """Give the demo teacher ``n`` consents, both in our DB and at (simulated) WeChat."""
    def grant(n: int = 1, template_id: str = TEMPLATE_ID) -> None:
        add_grants(teacher_id, template_id, n)
        db.session.commit()
        sim.grant_subscription("demo-openid-teacher", template_id, n)

    return grant
