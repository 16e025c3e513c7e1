"""Fixtures of the users tests: fresh WeChat users, parents asking for a child."""

from __future__ import annotations

import pytest


@pytest.fixture
def newcomer(login, sim):
    """A fresh WeChat user, not yet bound; ``newcomer()`` makes another one."""
    counter = iter(range(1000))

    def make():
        code = sim.register_login_code(openid=f"o-newcomer-{next(counter)}")["code"]
        return login(code=code)

    return make


def parent_bind(session, number: str, name: str, **extra):
    """A parent's ``POST /me/bind`` for the child ``number`` / ``name``."""
    return session.post("/api/v1/me/bind", json={"kind": "parent", "student_number": number, "student_name": name,
                                                 **extra})
