"""Demo places for ``flask seed-demo``: two campuses with buildings, floors and rooms."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core.db import db
from app.places.models import Place
from app.places.states import PlaceKind

DEMO_TREE = {
    ("E", "东校区"): {
        ("E-ADM", "行政楼"): {"floors": 3, "rooms": 4},
        ("E-TA", "教学楼A"): {"floors": 4, "rooms": 6},
        ("E-DORM1", "学生宿舍1号楼"): {"floors": 3, "rooms": 5},
        ("E-CAN", "第一食堂"): {"floors": 2, "rooms": 2},
    },
    ("W", "西校区"): {
        ("W-TB", "教学楼B"): {"floors": 3, "rooms": 4},
        ("W-GYM", "体育馆"): {"floors": 1, "rooms": 3},
    },
}


def seed_demo() -> None:
    """Two campuses with buildings, floors and rooms; places that exist already are kept."""
    ids = dict(db.session.execute(select(Place.code, Place.id)).all())

    def ensure(code: str, name: str, kind: PlaceKind, parent_id: int | None, order: int) -> int:
        if code not in ids:
            ids[code] = db.session.execute(
                insert(Place).values(code=code, name=name, kind=str(kind), parent_id=parent_id, sort_order=order)
                .returning(Place.id)).scalar_one()
        return ids[code]

    for c, ((ccode, cname), buildings) in enumerate(DEMO_TREE.items()):
        campus = ensure(ccode, cname, PlaceKind.CAMPUS, None, c)
        for b, ((bcode, bname), shape) in enumerate(buildings.items()):
            building = ensure(bcode, bname, PlaceKind.BUILDING, campus, b)
            for floor_no in range(1, shape["floors"] + 1):
                floor = ensure(f"{bcode}-{floor_no}F", f"{floor_no}F", PlaceKind.FLOOR, building, floor_no)
                for room_no in range(1, shape["rooms"] + 1):
                    room = f"{floor_no}{room_no:02d}"
                    ensure(f"{bcode}-{room}", room, PlaceKind.ROOM, floor, room_no)
