"""``flask seed-demo``: demo data for the embedded default, idempotent.

Each domain contributes a ``seed_demo()`` in its service, listed here in dependency order. Running
the command twice leaves the same data as running it once.
"""

from __future__ import annotations

from collections.abc import Callable

from app.meetings import seed as meetings_seed
from app.places import service as places_service
from app.repairs import service as repairs_service
from app.users import service as users_service

SEEDERS: list[tuple[str, Callable[[], object]]] = [
    ("users", users_service.seed_demo),
    ("places", places_service.seed_demo),
    ("meetings", meetings_seed.seed_demo),
    ("repairs", repairs_service.seed_demo),
]


def seed_demo() -> list[str]:
    done = []
    for name, fn in SEEDERS:
        fn()
        done.append(name)
    return done
