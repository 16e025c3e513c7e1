"""Photos: uploading, attaching to a repair, who may see them, signed links, thumbnails.

* **Photos are uploaded first** (``upload_photo``: an unattached photo owned by the uploader), then
  referenced by id in the report or the completion — a phone uploads each photo as it is picked, with
  progress, and the report itself stays a small JSON request. Upload checks and re-encoding happen in
  the request (``app.core.images``: the reporter learns at once that a file is not a photo); the
  thumbnail is made by a job. Unclaimed uploads are deleted by the sweep after a day.
* **Photos are served two ways.** ``GET /repairs/photos/{id}`` checks access for API clients with a
  bearer token. The mini-program's ``<image>`` cannot send headers, so details carry short-lived signed
  URLs (``REPAIRS_PHOTO_URL_TTL``) minted only for people allowed to see the photo: presigned S3 URLs
  when the storage is a bucket, else ``/repairs/photo-files/<token>`` served by the API. Who may see
  photos: the uploader, the reporter, the assigned worker, dispatchers and admins — not a linked
  reporter or a pool worker who has not taken the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from app.core import audit, clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import Conflict, ValidationFailed
from app.core.images import make_thumbnail as _thumbnail_bytes
from app.core.images import process_upload
from app.core.jobs import enqueue_after_commit
from app.core.storage import get_storage, new_key, signed_url, verify_download
from app.repairs.models import Repair, RepairPhoto
from app.repairs.service.access import PHOTO_ROLES, roles_on, visible
from app.repairs.service.errors import PhotoNotFound, invalid
from app.repairs.service.lifecycle import ENTITY, OPEN
from app.repairs.states import ASSIGNEE, MAX_PHOTOS, REPORTER, Status

PHOTO_AUDIENCE = "repairs.photo"
THUMBNAIL_JOB = "app.repairs.jobs.make_thumbnail"
"""By dotted path: ``app.repairs.jobs`` imports this package."""


def upload_photo(*, actor: Actor, data: bytes) -> dict[str, Any]:
    """Check and re-encode an uploaded photo (no EXIF, no trailing bytes), store it, and make it the
    uploader's unattached photo; the thumbnail follows from a job."""
    return photo_dict(_store_photo(actor, data))


def photo_dict(photo: RepairPhoto) -> dict[str, Any]:
    url, thumb_url = photo_urls(photo)
    return {"id": photo.id, "kind": photo.kind, "url": url, "thumb_url": thumb_url, "width": photo.width,
            "height": photo.height}


def _store_photo(actor: Actor, data: bytes) -> RepairPhoto:
    # fast: a baseline JPEG with standard tables. The progressive, optimised encode costs the reporter's
    # request ~100 ms more on a 1 MB photo for a file a few per cent smaller and a progressive display the
    # mini-program's <image> does not do; the thumbnails lists show are made by the job, the slow way.
    image = process_upload(data, fast=True)
    key = new_key("repairs")
    get_storage().put(key, image.data, image.content_type)
    photo = RepairPhoto(owner_id=actor.user_id, key=key, width=image.width, height=image.height,
                        size_bytes=len(image.data), sha256=image.sha256, created_at=clock.now())
    db.session.add(photo)
    db.session.flush()
    enqueue_after_commit(THUMBNAIL_JOB, photo.id)
    return photo


def add_photo(*, actor: Actor, repair_id: int, data: bytes) -> dict[str, Any]:
    """Upload a photo straight onto an existing repair: the reporter adds to the report while it is
    open, the assigned worker adds after-photos while working."""
    repair, roles = visible(actor, repair_id)
    if ASSIGNEE in roles and repair.status in (Status.IN_PROGRESS, Status.ON_HOLD):
        kind = "after"
    elif REPORTER in roles and repair.status in OPEN:
        kind = "report"
    else:
        raise Conflict("repairs.photos_closed", "当前状态不能再添加照片")
    if photo_count(repair.id, kind) >= MAX_PHOTOS:
        raise ValidationFailed("repairs.too_many_photos", f"最多 {MAX_PHOTOS} 张照片")
    photo = _store_photo(actor, data)
    photo.repair_id, photo.kind = repair.id, kind
    db.session.flush()
    audit.record(ENTITY, repair.id, "add_photos", actor_id=actor.user_id, data={"photos": [photo.id], "kind": kind})
    return photo_dict(photo)


def photo_count(repair_id: int, kind: str) -> int:
    return db.session.scalar(select(func.count()).select_from(RepairPhoto).where(
        RepairPhoto.repair_id == repair_id, RepairPhoto.kind == kind)) or 0


def claim_photos(actor: Actor, photo_ids: list[int], repair: Repair, kind: str, *,
                 room: int | None = None) -> list[int]:
    """Attach the actor's unattached photos to ``repair``; unknown, foreign or used ids are a 422."""
    ids = list(dict.fromkeys(photo_ids))
    if not ids:
        return []
    if len(ids) > MAX_PHOTOS:
        raise invalid("photo_ids", f"最多 {MAX_PHOTOS} 张照片", "repairs.too_many_photos")
    mine = set(db.session.scalars(select(RepairPhoto.id).where(
        RepairPhoto.id.in_(ids), RepairPhoto.owner_id == actor.user_id, RepairPhoto.repair_id.is_(None))))
    if mine != set(ids):
        raise invalid("photo_ids", "照片不存在或已使用，请重新上传", "repairs.invalid_photos")
    if room is not None:
        ids = ids[:max(room, 0)]
    if ids:
        db.session.execute(update(RepairPhoto).where(RepairPhoto.id.in_(ids), RepairPhoto.repair_id.is_(None))
                           .values(repair_id=repair.id, kind=kind))
        db.session.expire(repair, ["photos"])
    return ids


@dataclass(frozen=True)
class PhotoFile:
    """What the API streams or redirects to."""

    key: str
    url: str | None  # a presigned URL when the storage gives one


def photo_file(*, actor: Actor, photo_id: int, thumb: bool = False) -> PhotoFile:
    photo = db.session.get(RepairPhoto, photo_id)
    if photo is None or not _may_see_photo(actor, photo):
        raise PhotoNotFound()
    key = photo.thumb_key if thumb and photo.thumb_key else photo.key
    return PhotoFile(key, get_storage().url(key, expires_in=photo_url_ttl()))


def signed_photo_file(*, token: str) -> PhotoFile:
    """The key a signed photo URL grants (forged: 404; expired: 403 ``uploads.link_expired``)."""
    return PhotoFile(verify_download(token, audience=PHOTO_AUDIENCE), None)


def _may_see_photo(actor: Actor, photo: RepairPhoto) -> bool:
    if photo.owner_id == actor.user_id:
        return True
    if photo.repair_id is None:
        return False
    repair = db.session.get(Repair, photo.repair_id)
    return bool(roles_on(actor, repair) & PHOTO_ROLES)


def photo_url_ttl() -> int:
    return int(current_app.config.get("REPAIRS_PHOTO_URL_TTL", 600))


def photo_urls(photo: RepairPhoto) -> tuple[str, str]:
    """Short-lived URLs of the photo and its thumbnail (the photo itself until the thumbnail exists)."""
    return _signed_url(photo.key), _signed_url(photo.thumb_key or photo.key)


def _signed_url(key: str) -> str:
    return signed_url(key, ttl=photo_url_ttl(), audience=PHOTO_AUDIENCE, route="/api/v1/repairs/photo-files")


def make_thumbnail(photo_id: int) -> bool:
    """Job body: make the thumbnail once (a second run, or a deleted photo, does nothing)."""
    photo = db.session.get(RepairPhoto, photo_id)
    if photo is None or photo.thumb_key:
        return False
    storage = get_storage()
    thumb = _thumbnail_bytes(storage.get(photo.key))
    key = photo.key.removesuffix(".jpg") + "-thumb.jpg"
    storage.put(key, thumb, "image/jpeg")
    done = db.session.execute(update(RepairPhoto).where(RepairPhoto.id == photo.id, RepairPhoto.thumb_key.is_(None))
                              .values(thumb_key=key)).rowcount
    return bool(done)


def delete_unattached(before: datetime, limit: int) -> int:
    photos = db.session.scalars(select(RepairPhoto).where(RepairPhoto.repair_id.is_(None),
                                                          RepairPhoto.created_at < before).limit(limit)).all()
    storage = get_storage()
    for photo in photos:
        storage.delete(photo.key)
        if photo.thumb_key:
            storage.delete(photo.thumb_key)
        db.session.delete(photo)
    db.session.flush()
    return len(photos)
