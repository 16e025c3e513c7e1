"""``flask seed-demo``: demo data for the embedded default, idempotent.

Each domain contributes a ``seed_demo()`` in its ``seed.py``, listed here in dependency order. Running
the command twice leaves the same data as running it once.
"""

from __future__ import annotations

from collections.abc import Callable

from app.canteen import seed as canteen_seed
from app.fees import seed as fees_seed
from app.lockers import seed as lockers_seed
from app.meetings import seed as meetings_seed
from app.places import seed as places_seed
from app.repairs import seed as repairs_seed
from app.users import seed as users_seed

SEEDERS: list[tuple[str, Callable[[], object]]] = [
    ("users", users_seed.seed_demo),
    ("places", places_seed.seed_demo),
    ("meetings", meetings_seed.seed_demo),
    ("repairs", repairs_seed.seed_demo),
    ("fees", fees_seed.seed_demo),
    ("canteen", canteen_seed.seed_demo),
    ("lockers", lockers_seed.seed_demo),
]


def seed_demo() -> list[str]:
    done = []
    for name, fn in SEEDERS:
        fn()
        done.append(name)
    return done
