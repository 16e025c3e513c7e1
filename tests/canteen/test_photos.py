"""Dish photos through the API, with real image files: staff upload, replace and remove a dish's photo;
the dish and menu answers carry signed URLs of the photo and of its thumbnail (made by a real worker);
bad files are refused with nothing stored; two uploads at once leave one photo and no stray file. Also
editing a dish."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from app.canteen import jobs
from app.canteen.models import Dish
from app.core.audit import AuditEvent
from app.core.db import db
from app.core.images import ImageSlots
from tests.conftest import drain
from tests.repairs.conftest import jpeg, upload
from tests.support import race
from tests.support import stored_files as files


def png(size=(120, 90), *, noise: bool = False) -> bytes:
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else \
        Image.new("RGBA", size, (20, 160, 60, 128))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def photo_url(dish_id: int) -> str:
    return f"/api/v1/canteen/dishes/{dish_id}/photo"


def dish(dish_id: int) -> Dish:
    db.session.rollback()
    return db.session.get(Dish, dish_id)


def _image(client, url: str) -> Image.Image:
    resp = client.get(url)
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg", url
    return Image.open(io.BytesIO(resp.data))


def test_staff_upload_a_photo_the_dish_and_the_menu_show_it_and_a_thumbnail_follows(
        app, kitchen, cook, teacher, client, storage):
    menu = kitchen.menu()
    dish_id = kitchen.dishes["红烧肉"]
    resp = upload(cook, jpeg((1200, 900), gps=True), url=photo_url(dish_id))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["id"] == dish_id and body["photo_url"].startswith("/api/v1/canteen/dish-photos/")
    assert body["thumb_url"] == body["photo_url"]  # until the worker made the thumbnail
    photo = _image(client, body["photo_url"])  # no login: the signature is the permission
    assert photo.size == (1200, 900) and not photo.getexif()  # re-encoded: the GPS position is gone

    drain(app, queues=("default",))  # a real worker makes the thumbnail
    assert jobs.make_dish_thumbnail(dish_id, dish(dish_id).photo_key) is False  # run again: nothing more
    dishes = {d["name"]: d for d in teacher.get(f"/api/v1/canteen/canteens/{kitchen.canteen_id}/dishes").get_json()}
    assert dishes["青菜"]["photo_url"] is None and dishes["青菜"]["thumb_url"] is None
    thumb_url = dishes["红烧肉"]["thumb_url"]
    assert thumb_url and thumb_url != dishes["红烧肉"]["photo_url"]
    assert max(_image(client, thumb_url).size) == 480
    day = menu["view"].day.isoformat()
    menus = teacher.get(f"/api/v1/canteen/menus?date={day}&canteen_id={kitchen.canteen_id}").get_json()
    items = {i["name"]: i for i in menus[0]["items"]}
    assert items["红烧肉"]["thumb_url"] and max(_image(client, items["红烧肉"]["thumb_url"]).size) == 480
    assert items["牛肉面"]["thumb_url"] is None
    assert len(files(storage)) == 2  # the photo and its thumbnail


def test_a_png_replaces_the_photo_and_the_old_files_go(app, kitchen, cook, client, storage):
    dish_id = kitchen.dishes["青菜"]
    first = upload(cook, jpeg(), url=photo_url(dish_id)).get_json()
    drain(app, queues=("default",))
    old = (dish(dish_id).photo_key, dish(dish_id).photo_thumb_key)
    assert all(old) and len(files(storage)) == 2

    resp = upload(cook, png(), filename="screenshot.png", url=photo_url(dish_id))
    assert resp.status_code == 200, resp.get_json()
    assert _image(client, resp.get_json()["photo_url"]).size == (120, 90)  # a JPEG now, flattened on white
    assert dish(dish_id).photo_key not in old
    assert files(storage) == [dish(dish_id).photo_key]  # the old photo and thumbnail are deleted
    assert client.get(first["photo_url"]).status_code == 404  # its link leads nowhere any more


@pytest.mark.parametrize(("data", "status", "code"), [
    pytest.param(lambda: png((2000, 1800), noise=True), 413, "uploads.too_large", id="more-than-10-MB"),
    pytest.param(lambda: png((5000, 4000)), 422, "uploads.image_too_large", id="20-Mpx-png"),
    pytest.param(lambda: b"%PDF-1.4 not a photo at all", 422, "uploads.not_an_image", id="not-an-image"),
    pytest.param(lambda: b"GIF89a" + bytes(64), 422, "uploads.not_an_image", id="gif"),
])
def test_bad_files_are_refused_and_nothing_is_stored(kitchen, cook, storage, data, status, code):
    dish_id = kitchen.dishes["牛肉面"]
    payload = data()
    resp = upload(cook, payload, url=photo_url(dish_id))
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()["error_code"] == code and resp.get_json()["message"]
    assert dish(dish_id).photo_key is None and files(storage) == []


def test_a_bad_file_keeps_the_photo_the_dish_had(kitchen, cook, storage):
    dish_id = kitchen.dishes["牛肉面"]
    upload(cook, jpeg(), url=photo_url(dish_id))
    before = files(storage)
    resp = upload(cook, b"<html>not a photo</html>", filename="photo.jpg", url=photo_url(dish_id))
    assert resp.status_code == 422 and resp.get_json()["message"] == "只能上传图片（JPG、PNG、WebP）"
    assert files(storage) == before == [dish(dish_id).photo_key]


def test_only_canteen_staff_change_photos(kitchen, cook, teacher, student, login, storage):
    dish_id = kitchen.dishes["红烧肉"]
    for session in (teacher, student):
        resp = upload(session, jpeg(), url=photo_url(dish_id))
        assert resp.status_code == 403 and resp.get_json()["error_code"] == "canteen.forbidden"
        assert session.delete(photo_url(dish_id)).status_code == 403
    assert files(storage) == [] and dish(dish_id).photo_key is None
    missing = upload(cook, jpeg(), url=photo_url(999999))
    assert missing.status_code == 404 and missing.get_json()["error_code"] == "canteen.dish_not_found"
    assert upload(login("admin"), jpeg(), url=photo_url(dish_id)).status_code == 200
    assert len(files(storage)) == 1


def test_removing_the_photo_deletes_its_files(app, kitchen, cook, client, storage):
    dish_id = kitchen.dishes["红烧肉"]
    url = upload(cook, jpeg(), url=photo_url(dish_id)).get_json()["photo_url"]
    drain(app, queues=("default",))
    resp = cook.delete(photo_url(dish_id))
    assert resp.status_code == 200 and resp.get_json()["photo_url"] is None
    assert files(storage) == [] and dish(dish_id).photo_key is None
    assert client.get(url).status_code == 404
    assert cook.delete(photo_url(dish_id)).status_code == 200  # again: nothing to remove, no error


def test_two_uploads_at_once_leave_one_photo_and_no_stray_file(app, kitchen, cook, login, storage, monkeypatch):
    # two image slots: both photos are re-encoded and stored at the same time, then race for the dish's row
    monkeypatch.setitem(app.extensions, "image_slots", ImageSlots(Path(app.config["INSTANCE_DIR"]) / "locks", 2, 10))
    dish_id = kitchen.dishes["红烧肉"]
    other = login("canteen")
    db.session.remove()
    answers = race([lambda: upload(cook, jpeg((800, 600), noise=True), url=photo_url(dish_id)),
                    lambda: upload(other, png((640, 480), noise=True), url=photo_url(dish_id))])
    assert [a.status_code for a in answers] == [200, 200], [a.get_json() for a in answers]
    standing = dish(dish_id).photo_key
    assert standing and files(storage) == [standing]  # the loser's file is gone
    first, second = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "canteen_dish", AuditEvent.action == "set_photo").order_by(AuditEvent.id)).all()
    assert second.before["photo"] == first.after["photo"] and second.after["photo"] == standing  # one after the other
    drain(app, queues=("default",))  # the loser's thumbnail job finds its photo replaced: no thumbnail
    assert files(storage) == sorted([standing, dish(dish_id).photo_thumb_key])


def test_photo_links_expire(kitchen, cook, client, clock, storage):
    url = upload(cook, jpeg(), url=photo_url(kitchen.dishes["青菜"])).get_json()["photo_url"]
    assert client.get(url).status_code == 200
    assert client.get(url[:-3] + "abc").status_code == 404
    clock.shift(minutes=61)
    expired = client.get(url)
    assert expired.status_code == 403 and expired.get_json()["error_code"] == "uploads.link_expired"


def test_staff_edit_a_dish(kitchen, cook, teacher):
    dish_id = kitchen.dishes["青菜"]
    resp = cook.put(f"/api/v1/canteen/dishes/{dish_id}",
                      json={"name": "清炒时蔬", "price_fen": 450, "tags": ["素食"], "allergens": []})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["name"], body["price_fen"], body["tags"]) == ("清炒时蔬", 450, ["素食"])
    assert cook.put(f"/api/v1/canteen/dishes/{dish_id}", json={"price_fen": 4.5}).status_code == 422
    assert cook.put(f"/api/v1/canteen/dishes/{dish_id}", json={"window_id": 999999}).status_code == 422
    refused = teacher.put(f"/api/v1/canteen/dishes/{dish_id}", json={"name": "偷改"})
    assert refused.status_code == 403 and refused.get_json()["error_code"] == "canteen.forbidden"
    assert dish(dish_id).name == "清炒时蔬" and dish(dish_id).price_fen == 450
    assert cook.put("/api/v1/canteen/dishes/999999", json={"name": "无"}).status_code == 404
