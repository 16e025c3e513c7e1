"""Places: the tree, codes from QR scans, printable codes through the simulator, imports."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from sqlalchemy import select

from app.core.db import db
from app.places.models import Place
from app.seed import seed_demo
from tests.support import xlsx


def test_campuses_then_children(login):
    teacher = login("teacher")
    campuses = teacher.get("/api/v1/places").json
    assert [c["name"] for c in campuses] == ["东校区", "西校区"]
    assert campuses[0]["kind_label"] == "校区"
    buildings = teacher.get(f"/api/v1/places?parent_id={campuses[0]['id']}").json
    assert [b["code"] for b in buildings] == ["E-ADM", "E-TA", "E-DORM1", "E-CAN"]


def test_search_and_pagination(login):
    resp = login("teacher").get("/api/v1/places?q=E-ADM-3&page_size=3")
    assert resp.status_code == 200 and len(resp.json) == 3
    assert json.loads(resp.headers["X-Pagination"])["total"] == 5  # the floor and its four rooms


def test_room_by_code_has_full_path(login):
    resp = login("student").get("/api/v1/places/by-code/E-ADM-301")
    assert resp.status_code == 200
    assert resp.json["full_name"] == "东校区 › 行政楼 › 3F › 301"
    assert [p["kind"] for p in resp.json["path"]] == ["campus", "building", "floor", "room"]


def test_unknown_code_is_404(login):
    resp = login("teacher").get("/api/v1/places/by-code/NOPE-1")
    assert resp.status_code == 404 and resp.json["error_code"] == "places.not_found"
    assert login("teacher").get("/api/v1/places/999999").status_code == 404


def test_places_need_a_bound_user(client, demo):
    assert client.get("/api/v1/places").status_code == 401


def _room_id(code: str = "E-ADM-301") -> int:
    return db.session.scalar(select(Place.id).where(Place.code == code))


def test_admin_prints_a_mini_program_code(login, sim):
    resp = login("admin").get(f"/api/v1/places/{_room_id()}/qrcode")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
    assert resp.headers["X-Code-Source"] == "wechat"
    assert Image.open(io.BytesIO(resp.data)).format == "PNG"
    assert sim.calls().get("/wxa/getwxacodeunlimit") == 1


def test_qr_falls_back_to_plain_code_when_wechat_fails(login, sim):
    sim.inject_fault("/wxa/getwxacodeunlimit", errcode=45009, errmsg="reach max api daily quota limit")
    resp = login("admin").get(f"/api/v1/places/{_room_id()}/qrcode")
    assert resp.status_code == 200 and resp.headers["X-Code-Source"] == "qr"
    image = Image.open(io.BytesIO(resp.data))
    assert image.size[0] > 100


def test_plain_qr_on_request(login, sim):
    resp = login("dispatcher").get(f"/api/v1/places/{_room_id()}/qrcode?source=qr")
    assert resp.headers["X-Code-Source"] == "qr"
    assert sim.calls().get("/wxa/getwxacodeunlimit") is None


def test_qr_is_for_admins_and_dispatchers(login):
    resp = login("teacher").get(f"/api/v1/places/{_room_id()}/qrcode")
    assert resp.status_code == 403


HEADER = ["编码", "名称", "类型", "上级编码"]


def test_import_places_with_parents_in_the_file(login):
    sheet = xlsx([HEADER, ["N", "北校区", "校区", None], ["N-LAB", "实验楼", "楼栋", "N"],
                    ["N-LAB-1F", "1F", "楼层", "N-LAB"], ["N-LAB-101", "101 化学实验室", "房间", "N-LAB-1F"]])
    resp = login("admin").post("/api/v1/admin/places/import", data={"file": (sheet, "p.xlsx")})
    assert resp.status_code == 200, resp.json
    assert resp.json["created"] == 4
    room = login("teacher").get("/api/v1/places/by-code/N-LAB-101").json
    assert room["full_name"] == "北校区 › 实验楼 › 1F › 101 化学实验室"


def test_import_places_rejects_bad_tree_and_writes_nothing(login):
    before = db.session.query(Place).count()
    sheet = xlsx([HEADER, ["N", "北校区", "校区", "E"], ["N-X", "X楼", "楼栋", "MISSING"],
                    ["N-Y", "Y", "房间", "E"], ["bad code!", "Z", "宇宙", None]])
    resp = login("admin").post("/api/v1/admin/places/import", data={"file": (sheet, "p.xlsx")})
    assert resp.status_code == 422 and resp.json["error_code"] == "places.import_invalid"
    rows = {(e["row"], e["column"]) for e in resp.json["errors"]["rows"]}
    assert rows == {(2, "上级编码"), (3, "上级编码"), (4, "上级编码"), (5, "编码"), (5, "类型")}
    assert db.session.query(Place).count() == before


@pytest.mark.parametrize("role", ["teacher", "worker"])
def test_import_places_is_admin_only(login, role):
    resp = login(role).post("/api/v1/admin/places/import", data={"file": (xlsx([HEADER]), "p.xlsx")})
    assert resp.status_code == 403


def test_seed_demo_is_idempotent(app, demo):
    count = db.session.query(Place).count()
    seed_demo()
    db.session.commit()
    assert db.session.query(Place).count() == count


def test_a_nul_in_a_query_string_is_a_422_not_a_database_error(login):
    resp = login("admin").get("/api/v1/places?q=%00&kind=building")
    assert resp.status_code == 422
    assert resp.json["errors"]["query"]["q"] == ["不能包含控制字符"]
