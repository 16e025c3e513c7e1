"""Dish photos (canteen staff): upload, replace, remove; the thumbnail the menu list shows; the URLs.

* **Upload** (``set_dish_photo``) goes through ``app.core.images`` exactly as a repair photo does (JPEG,
  PNG or WebP, the size and pixel limits, the image slots, the same error codes) and is stored as a
  clean JPEG under a fresh key; the thumbnail follows from a job (``make_dish_thumbnail``). Until it
  exists the thumbnail URL is the photo's.
* **One photo stands.** The dish row is locked (``FOR UPDATE``) only to swap the keys, after the slow
  re-encoding: two uploads for one dish at once both store their file, the second to take the lock
  replaces the first, and the files the dish no longer names are deleted once the swap commits
  (``app.core.storage.delete_after_commit``); a failed request deletes the file it stored. A thumbnail
  job that finds the photo replaced meanwhile throws its thumbnail away. No file is left behind.
* **Who sees them**: whoever may read menus (everyone logged in). Dish and menu answers carry signed
  URLs (``CANTEEN_PHOTO_URL_TTL``, an hour by default): presigned URLs when the storage is a bucket,
  else ``/api/v1/canteen/dish-photos/<token>`` served by the API without a login — the mini-program's
  ``<image>`` cannot send a token, and a dish's photo is no secret, but the files stay off any
  public folder and a link stops working when it expires, as a repair photo's does.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from app.canteen.models import Dish
from app.canteen.service.access import require_staff
from app.canteen.service.errors import DishNotFound
from app.core import audit
from app.core.auth import Actor
from app.core.db import db
from app.core.images import make_thumbnail, process_upload
from app.core.jobs import enqueue_after_commit
from app.core.storage import (
    StorageNotFound,
    delete_after_commit,
    get_storage,
    new_key,
    put_in_transaction,
    signed_url,
    verify_download,
)

PHOTO_AUDIENCE = "canteen.dish_photo"
PHOTO_ROUTE = "/api/v1/canteen/dish-photos"
KEY_PREFIX = "canteen/dishes"
THUMBNAIL_JOB = "app.canteen.jobs.make_dish_thumbnail"
"""By dotted path: ``app.canteen.jobs`` imports this package."""
ENTITY = "canteen_dish"


@dataclass(frozen=True)
class PhotoUrls:
    url: str | None
    thumb_url: str | None


NO_PHOTO = PhotoUrls(None, None)


def photo_url_ttl() -> int:
    return int(current_app.config.get("CANTEEN_PHOTO_URL_TTL", 3600))


def photo_urls(photo_key: str | None, thumb_key: str | None) -> PhotoUrls:
    """Signed URLs of a dish's photo and thumbnail (the photo itself until the thumbnail exists)."""
    if not photo_key:
        return NO_PHOTO
    ttl = photo_url_ttl()
    url = signed_url(photo_key, ttl=ttl, audience=PHOTO_AUDIENCE, route=PHOTO_ROUTE)
    thumb = signed_url(thumb_key, ttl=ttl, audience=PHOTO_AUDIENCE, route=PHOTO_ROUTE) if thumb_key else url
    return PhotoUrls(url, thumb)


def signed_photo(*, token: str) -> str:
    """The key a signed dish photo URL grants (forged: 404; expired: 403 ``uploads.link_expired``)."""
    return verify_download(token, audience=PHOTO_AUDIENCE)


def _locked_dish(dish_id: int) -> Dish:
    dish = db.session.scalars(select(Dish).where(Dish.id == dish_id).with_for_update()
                              .execution_options(populate_existing=True)).first()
    if dish is None:
        raise DishNotFound()
    return dish


def set_dish_photo(*, actor: Actor, dish_id: int, data: bytes) -> Dish:
    """Check and re-encode the photo (no EXIF, no trailing bytes), store it and make it the dish's, in
    place of the one it had (whose files go once this commits); the thumbnail follows from a job."""
    require_staff(actor)
    if db.session.get(Dish, dish_id) is None:
        raise DishNotFound()  # before the work of decoding
    image = process_upload(data, fast=True)
    key = new_key(KEY_PREFIX)
    put_in_transaction(key, image.data, image.content_type)
    dish = _locked_dish(dish_id)  # held from here to the commit: a concurrent upload waits, then replaces
    replaced = dish.photo_key
    delete_after_commit(dish.photo_key, dish.photo_thumb_key)
    dish.photo_key, dish.photo_thumb_key = key, None
    db.session.flush()
    enqueue_after_commit(THUMBNAIL_JOB, dish.id, key)
    audit.record(ENTITY, dish.id, "set_photo", actor_id=actor.user_id,
                 before={"photo": replaced}, after={"photo": key, "width": image.width, "height": image.height})
    return dish


def remove_dish_photo(*, actor: Actor, dish_id: int) -> Dish:
    """Take the dish's photo away (its files go once this commits); a dish without one: nothing changes."""
    require_staff(actor)
    dish = _locked_dish(dish_id)
    if dish.photo_key is None:
        return dish
    delete_after_commit(dish.photo_key, dish.photo_thumb_key)
    audit.record(ENTITY, dish.id, "remove_photo", actor_id=actor.user_id, before={"photo": dish.photo_key})
    dish.photo_key, dish.photo_thumb_key = None, None
    db.session.flush()
    return dish


def make_dish_thumbnail(dish_id: int, key: str) -> bool:
    """Job body: the thumbnail of the photo ``key`` while it is still the dish's, once. A photo replaced or
    removed meanwhile gets none (a thumbnail made in the meantime is deleted again)."""
    dish = db.session.get(Dish, dish_id)
    if dish is None or dish.photo_key != key or dish.photo_thumb_key:
        return False
    storage = get_storage()
    try:
        original = storage.get(key)
    except StorageNotFound:
        return False  # replaced and deleted since
    thumb_key = key.removesuffix(".jpg") + "-thumb.jpg"
    put_in_transaction(thumb_key, make_thumbnail(original), "image/jpeg")
    done = db.session.execute(update(Dish).where(Dish.id == dish_id, Dish.photo_key == key,
                                                 Dish.photo_thumb_key.is_(None))
                              .values(photo_thumb_key=thumb_key)).rowcount
    if not done:
        storage.delete(thumb_key)
    return bool(done)
