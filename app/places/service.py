"""Places: browsing the tree, resolving codes from QR scans, printable codes, imports."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core import audit
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.core.errors import NotFound
from app.core.pagination import PageParams, paginate
from app.core.sheets import ImportResult, RowErrors, duplicates, read_rows
from app.places.models import Place
from app.places.states import CODE_PATTERN, IMPORT_COLUMNS, KIND_LABELS, PARENT_KIND, QR_PAGE, PlaceKind
from app.wechat import codes

_LABEL_TO_KIND = {label: kind for kind, label in KIND_LABELS.items()}
MAX_IMPORT_ROWS = 10_000
MAX_IMPORT_BYTES = 5 * 1024 * 1024


class PlaceNotFound(NotFound):
    error_code = "places.not_found"
    message = "未找到该地点"


@dataclass
class PlaceView:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: list[dict]
    full_name: str


def _path(place: Place) -> list[Place]:
    chain = [place]
    while chain[-1].parent_id is not None and len(chain) < 8:
        chain.append(db.session.get(Place, chain[-1].parent_id))
    return list(reversed(chain))


def view(place: Place) -> PlaceView:
    chain = _path(place)
    return PlaceView(
        id=place.id, code=place.code, name=place.name, kind=place.kind, parent_id=place.parent_id,
        path=[{"id": p.id, "code": p.code, "name": p.name, "kind": p.kind} for p in chain],
        full_name=" › ".join(p.name for p in chain),
    )


def get_place(place_id: int) -> Place:
    place = db.session.get(Place, place_id)
    if place is None:
        raise PlaceNotFound()
    return place


def get_by_code(code: str) -> Place:
    place = db.session.scalar(select(Place).where(Place.code == code.strip()))
    if place is None:
        raise PlaceNotFound()
    return place


def list_places(*, params: PageParams, parent_id: int | None = None, kind: str | None = None,
                q: str | None = None) -> list[Place]:
    """Children of ``parent_id`` (campuses when none), or a search by name/code across the tree."""
    stmt = select(Place).order_by(Place.sort_order, Place.code)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(Place.name.ilike(like) | Place.code.ilike(like))
    elif parent_id is not None:
        stmt = stmt.where(Place.parent_id == parent_id)
    elif kind is None:
        stmt = stmt.where(Place.parent_id.is_(None))
    if kind:
        stmt = stmt.where(Place.kind == kind)
    return paginate(stmt, params)


def qr_image(*, actor: Actor, place_id: int, prefer: str = "wechat") -> codes.Image:
    """A printable code that opens the mini-program on this place (``app.wechat.codes``)."""
    require_roles(actor, "admin", "dispatcher")
    place = get_place(place_id)
    return codes.printable(scene=place.scene, page=QR_PAGE, fallback_path=f"place?code={place.code}", prefer=prefer)


def _kind_of(text: str) -> PlaceKind | None:
    """校区/楼栋/楼层/房间, or the English key."""
    if text in _LABEL_TO_KIND:
        return _LABEL_TO_KIND[text]
    return PlaceKind(text) if text in {k.value for k in PlaceKind} else None


def import_places(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportResult:
    """Create or update places from .xlsx (编码, 名称, 类型, 上级编码); parents may be earlier rows
    or existing places. All rows or none."""
    require_roles(actor, "admin")
    rows = read_rows(data, IMPORT_COLUMNS, max_rows=MAX_IMPORT_ROWS, max_bytes=MAX_IMPORT_BYTES)
    errors = RowErrors()
    duplicates(rows, "code", errors, "编码", "编码重复")
    existing = {p.code: p for p in db.session.scalars(select(Place))}
    kinds: dict[str, PlaceKind] = {code: PlaceKind(p.kind) for code, p in existing.items()}
    for number, r in rows:
        kind = _kind_of(r["kind"])
        if not r["code"] or not re.match(CODE_PATTERN, r["code"]):
            errors.add(number, "编码", "编码应为 1–24 位字母、数字或“-”")
        if not r["name"]:
            errors.add(number, "名称", "缺少名称")
        if kind is None:
            errors.add(number, "类型", "类型应为 校区、楼栋、楼层 或 房间")
            continue
        expected = PARENT_KIND[kind]
        parent_kind = kinds.get(r["parent_code"]) if r["parent_code"] else None
        if expected is None and r["parent_code"]:
            errors.add(number, "上级编码", "校区不能有上级")
        elif expected is not None and parent_kind is None:
            errors.add(number, "上级编码", f"未知上级编码“{r['parent_code']}”" if r["parent_code"] else "缺少上级编码")
        elif expected is not None and parent_kind != expected:
            errors.add(number, "上级编码", f"{KIND_LABELS[kind]}的上级应为{KIND_LABELS[expected]}")
        if r["code"]:
            kinds[r["code"]] = kind
    errors.raise_if_any("places.import_invalid", f"表格有 {len(errors.errors)} 处错误，未导入任何数据")
    updated = sum(1 for _n, r in rows if r["code"] in existing)
    result = ImportResult(created=len(rows) - updated, updated=updated, dry_run=dry_run)
    if dry_run:
        return result
    ids = {code: p.id for code, p in existing.items()}
    for order, (_n, r) in enumerate(rows):  # parents come first in a valid file
        kind = _kind_of(r["kind"])
        values = {"code": r["code"], "name": r["name"], "kind": str(kind), "sort_order": order,
                  "parent_id": ids.get(r["parent_code"]) if r["parent_code"] else None}
        stmt = insert(Place).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=["code"], set_={k: stmt.excluded[k] for k in values})
        ids[r["code"]] = db.session.execute(stmt.returning(Place.id)).scalar_one()
    audit.record("place_import", 0, "import", actor_id=actor.user_id,
                 after={"created": result.created, "updated": result.updated})
    return result

