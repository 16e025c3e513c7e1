"""Place kinds and how they nest (pure data)."""

from __future__ import annotations

from enum import StrEnum


class PlaceKind(StrEnum):
    CAMPUS = "campus"
    BUILDING = "building"
    FLOOR = "floor"
    ROOM = "room"


PARENT_KIND = {
    PlaceKind.CAMPUS: None,
    PlaceKind.BUILDING: PlaceKind.CAMPUS,
    PlaceKind.FLOOR: PlaceKind.BUILDING,
    PlaceKind.ROOM: PlaceKind.FLOOR,
}
KIND_LABELS = {PlaceKind.CAMPUS: "校区", PlaceKind.BUILDING: "楼栋", PlaceKind.FLOOR: "楼层", PlaceKind.ROOM: "房间"}
CODE_PATTERN = r"^[A-Za-z0-9-]{1,24}$"
IMPORT_COLUMNS = {"编码": "code", "名称": "name", "类型": "kind", "上级编码": "parent_code"}
QR_PAGE = "pages/index/index"
"""The mini-program page a place's code opens; it reads the scene ``p=<code>``."""
