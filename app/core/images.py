"""Accepting photos from phones safely (docs/architecture.md).

A photo someone uploads is untrusted bytes. ``process_upload`` turns it into a clean JPEG or refuses it
with an ``AppError`` the client can show:

1. **Size** — more than ``max_bytes`` answers 413 before Pillow sees a byte.
2. **Content, not name** — the bytes are opened with Pillow restricted to the JPEG, PNG and WebP
   decoders; whatever else they are (GIF, BMP, TIFF, SVG, HTML, PDF, a text file renamed ``.jpg``, an
   HTML page behind a JPEG signature) answers 422 ``uploads.not_an_image``. The detected format is
   checked again after opening, so a decoder Pillow adds later cannot widen the set by accident.
3. **Decompression bombs, and what a phone photo needs** — the pixel count from the header is checked
   before any pixel is decoded: at most ``MAX_PIXELS`` (40 Mpx) for a JPEG, which is decoded at a reduced
   DCT scale (``draft``: a 40 Mpx JPEG decodes at half size, a quarter of the memory and the work), and at
   most ``MAX_FULL_DECODE_PIXELS`` (16 Mpx) for PNG and WebP, which can only be decoded whole: phone
   photos are JPEGs, and a phone's PNG is a screenshot of a few megapixels (a 40 Mpx RGBA PNG cost 1.8 s of
   a web worker and 160 MB). An explicit ``max_pixels`` applies to every format. Pillow's own guard
   (``Image.MAX_IMAGE_PIXELS``, about 89 Mpx) is a second line: its warning is turned into an error and
   both answer 422 ``uploads.image_too_large``. Our limits are lower than Pillow's, so Pillow's guard is
   never the only line.
4. **Integrity** — ``verify()`` (CRC and chunk structure for PNG), then the image is opened again and
   fully decoded; a file whose header was readable but whose data is truncated or damaged answers 422
   ``uploads.corrupt_image`` (an unreadable header is ``not_an_image``). Nothing here turns
   on ``ImageFile.LOAD_TRUNCATED_IMAGES``; it must stay off in this process.
5. **Re-encode** — the long side is reduced to ``max_side`` first (so everything after works on the stored
   size, not the camera's), then EXIF orientation is applied to the pixels, colours are converted to sRGB,
   transparency is flattened onto white and the pixels are copied into a brand-new image that is saved as
   a progressive JPEG (quality 85) with optimised Huffman tables — or, with ``fast=True``, as a baseline
   JPEG with the standard tables: the progressive scans and the optimisation pass cost three to ten times
   the CPU of the plain encode (about 100 ms on a 1 MB photo) for files 3–8 % smaller, a price a request
   the user waits for may not want to pay.

Because the stored file is produced from decoded pixels only, it never contains any of the uploaded
bytes: trailing data after the image (a ZIP or script appended to a JPEG: a polyglot), comments, XMP,
EXIF (including GPS position, camera make and serial numbers), MakerNotes and embedded thumbnails are all
gone. The new image is built by hand rather than saved from the decoded one because Pillow's JPEG writer
copies some of ``Image.info`` (the comment) into the output.

Colour: an embedded ICC profile (iPhones shoot in Display P3) is used to convert the pixels to sRGB, then
dropped; the output carries no profile, which every viewer treats as sRGB. An unreadable profile is
ignored (the pixels are kept as they are) rather than refusing the photo.

Animated PNG/WebP and multi-picture JPEGs (MPO, as some phones write) keep their first frame.

**Image slots.** Decoding and re-encoding a photo is a few hundred milliseconds of CPU; a burst of uploads
must not occupy every web worker (gunicorn's sync workers serve one request each: six uploads at once
stalled ``/health`` for 7 s). ``process_upload`` therefore holds one of the app's *image slots* while it
works: ``UPLOAD_IMAGE_SLOTS`` lock files under ``INSTANCE_DIR/locks``, taken with ``flock``, so the count
holds across the web processes of the machine (a per-process semaphore would bound nothing with sync
workers) and a killed process frees its slot. By default there is one slot fewer than ``WEB_CONCURRENCY``
(at least one): one web worker is always free of image work. An upload that finds no free slot within
``UPLOAD_IMAGE_WAIT_SECONDS`` answers 503 ``uploads.busy`` with ``Retry-After``. Outside an application
configured by ``app.config`` (scripts, tests of this module) there are no slots.

Thread note: the bomb warning is turned into an error with ``warnings.catch_warnings``, which changes the
process-wide filter list. Two threads interleaving can at worst leave the "error" filter for
``DecompressionBombWarning`` installed, which is the behaviour we want anyway.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import os
import struct
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, has_app_context
from PIL import Image, ImageCms, ImageFile, ImageOps

from app.core.errors import AppError, ValidationFailed

log = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_BYTES = 10 * MB
MAX_PIXELS = 40_000_000
MAX_FULL_DECODE_PIXELS = 16_000_000
MAX_SIDE = 2560
THUMB_SIDE = 480
QUALITY = 85
THUMB_QUALITY = 80
CONTENT_TYPE = "image/jpeg"

# Decoders Pillow may try (the format ids of its plugins). MPO is what the JPEG decoder reports for a JPEG
# carrying extra pictures (some phones' depth maps); it is a JPEG for our purpose.
_DECODERS = ("JPEG", "PNG", "WEBP")
_ALLOWED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
_DRAFTABLE = frozenset({"JPEG", "MPO"})

# What Pillow raises on bytes it recognised but cannot parse or decode.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class UploadTooLarge(AppError):
    """The upload has more bytes than allowed (413)."""

    status, error_code, message = 413, "uploads.too_large", "图片太大，单张不能超过 10 MB"


class NotAnImage(ValidationFailed):
    """The bytes are not a JPEG, PNG or WebP image, whatever the file was called."""

    error_code, message = "uploads.not_an_image", "只能上传图片（JPG、PNG、WebP）"


class ImageDimensionsTooLarge(ValidationFailed):
    """The header claims more pixels than we are willing to decode (a decompression bomb, or a huge scan)."""

    error_code, message = "uploads.image_too_large", "图片尺寸过大"


class CorruptImage(ValidationFailed):
    """The image was recognised but is truncated or damaged."""

    error_code, message = "uploads.corrupt_image", "图片已损坏，请重新拍摄或选择"


class ImageWorkBusy(AppError):
    """Every image slot stayed taken for ``UPLOAD_IMAGE_WAIT_SECONDS``: try again shortly (503)."""

    status, error_code, message = 503, "uploads.busy", "图片处理繁忙，请稍后重试"
    RETRY_AFTER = 2

    def __init__(self):
        super().__init__(headers={"Retry-After": str(self.RETRY_AFTER)})


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """A re-encoded, metadata-free JPEG ready to store."""

    data: bytes
    width: int
    height: int
    sha256: str
    content_type: str = CONTENT_TYPE


def preload() -> None:
    """Register Pillow's format plugins now (at the start of a process) rather than in the first upload:
    Pillow imports them on the first open — the common ones then, all of them the first time a WebP or a
    file that is no image arrives."""
    Image.init()


def process_upload(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int | None = None,
    max_side: int = MAX_SIDE,
    fast: bool = False,
) -> ProcessedImage:
    """Check an uploaded photo and return it as a clean JPEG whose long side is at most ``max_side``.

    ``max_pixels``: None = ``MAX_PIXELS`` for a JPEG, ``MAX_FULL_DECODE_PIXELS`` for PNG and WebP. In an
    application the work holds one of its image slots (503 ``uploads.busy`` when none frees up in time).
    The thumbnail is not made here: ``make_thumbnail`` makes it from the stored result, so a request
    pays for one encode and a background job for the other.
    """
    if len(data) > max_bytes:
        raise UploadTooLarge(message=f"图片太大，单张不能超过 {_megabytes(max_bytes)} MB")
    with _app_slot():
        image = _decode(data, max_pixels=max_pixels, max_side=max_side)
        output = _encode(image, QUALITY, fast=fast)
    return ProcessedImage(
        data=output,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(output).hexdigest(),
    )


def make_thumbnail(jpeg_bytes: bytes, side: int = THUMB_SIDE, *, max_pixels: int | None = None) -> bytes:
    """A JPEG whose long side is at most ``side`` (never enlarged).

    Meant for the JPEG ``process_upload`` produced, but it goes through the same checks, so a job handed
    an original upload by mistake is just as safe.
    """
    image = _decode(jpeg_bytes, max_pixels=max_pixels, max_side=side)
    return _encode(image, THUMB_QUALITY)


def _decode(data: bytes, *, max_pixels: int | None, max_side: int) -> Image.Image:
    """Checked, oriented, sRGB, RGB pixels with the long side at most ``max_side``."""
    if not data:
        raise NotAnImage()
    with _open(data, max_pixels=max_pixels) as probe:
        try:
            probe.verify()
        except _DECODE_ERRORS as exc:
            raise CorruptImage() from exc
    # verify() leaves the image unusable; decode from a fresh parse.
    with _open(data, max_pixels=max_pixels) as image:
        if image.format in _DRAFTABLE:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale while both sides stay >= max_side: practically
            # the same output after the resize below, a fraction of the memory for big photos.
            image.draft("RGB", (max_side, max_side))
        with _bomb_warnings_as_errors():
            try:
                image.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise ImageDimensionsTooLarge() from exc
            except _DECODE_ERRORS as exc:
                raise CorruptImage() from exc
        # Down to the stored size first: orientation, colour conversion and flattening then work on it.
        pixels = _resamplable(image)
        pixels.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        pixels = _orient(pixels)
    pixels = _to_srgb(pixels)
    return _to_rgb(pixels)


def _resamplable(image: Image.Image) -> Image.Image:
    """Pillow resizes palette and 1-bit images by nearest neighbour only: give them grey or colour levels
    first (16-bit grey is scaled to 8 bits here too). The EXIF block and the ICC profile stay in ``info``."""
    if image.mode in {"I;16", "I;16L", "I;16B", "I;16N", "I"}:
        # 16-bit greyscale PNG: scale to 8 bits instead of letting the conversion clip at 255.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "1":
        return image.convert("L")
    if image.mode in {"P", "PA"}:
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    return image


def _open(data: bytes, *, max_pixels: int | None) -> ImageFile.ImageFile:
    """Parse the header only, refusing anything but JPEG/PNG/WebP and anything over ``max_pixels`` (None:
    ``MAX_PIXELS`` for what ``draft`` can decode at a reduced scale, ``MAX_FULL_DECODE_PIXELS`` else)."""
    with _bomb_warnings_as_errors():
        try:
            image = Image.open(io.BytesIO(data), formats=_DECODERS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageDimensionsTooLarge() from exc
        except _DECODE_ERRORS as exc:
            # Includes UnidentifiedImageError. Bytes whose header cannot be parsed are not an image we
            # know, whatever their first bytes claim (an HTML page behind a JPEG signature lands here).
            raise NotAnImage() from exc
    if image.format not in _ALLOWED_FORMATS:
        image.close()
        raise NotAnImage()
    width, height = image.size
    if width < 1 or height < 1:
        image.close()
        raise CorruptImage()
    if max_pixels is None:
        max_pixels = MAX_PIXELS if image.format in _DRAFTABLE else MAX_FULL_DECODE_PIXELS
    if width * height > max_pixels:
        image.close()
        raise ImageDimensionsTooLarge()
    return image


class ImageSlots:
    """At most ``count`` images worked on at once by all the processes sharing ``directory``: one lock
    file per slot, held with ``flock`` (released by the kernel when a process dies)."""

    POLL_SECONDS = 0.05

    def __init__(self, directory: Path, count: int, wait_seconds: float):
        self.paths = [directory / f"image-slot-{n}.lock" for n in range(max(count, 1))]
        self.wait_seconds = wait_seconds

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold a free slot while the block runs; ``ImageWorkBusy`` when none frees up in time. A slot
        directory that cannot be used (a read-only disk) is logged and the work goes on without a slot."""
        try:
            fd = self._take()
        except OSError:
            log.warning("image slots unavailable; working without one", exc_info=True)
            yield
            return
        try:
            yield
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    def _take(self) -> int:
        deadline = time.monotonic() + self.wait_seconds
        self.paths[0].parent.mkdir(parents=True, exist_ok=True)
        while True:
            for path in self.paths:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                return fd
            if time.monotonic() >= deadline:
                raise ImageWorkBusy()
            time.sleep(self.POLL_SECONDS)


def app_image_slots() -> ImageSlots | None:
    """The image slots of the current application (``UPLOAD_IMAGE_SLOTS``, ``UPLOAD_IMAGE_WAIT_SECONDS``);
    None outside an application or in one not configured by ``app.config`` (a bare Flask app in a test)."""
    if not has_app_context() or "UPLOAD_IMAGE_SLOTS" not in current_app.config:
        return None
    slots = current_app.extensions.get("image_slots")
    if slots is None:
        config = current_app.config
        count = config["UPLOAD_IMAGE_SLOTS"] or max(config["WEB_CONCURRENCY"] - 1, 1)
        slots = ImageSlots(Path(config["INSTANCE_DIR"]) / "locks", count, config["UPLOAD_IMAGE_WAIT_SECONDS"])
        current_app.extensions["image_slots"] = slots
    return slots


@contextmanager
def _app_slot() -> Iterator[None]:
    slots = app_image_slots()
    if slots is None:
        yield
        return
    with slots.hold():
        yield


@contextmanager
def _bomb_warnings_as_errors() -> Iterator[None]:
    """Pillow only warns between 1x and 2x ``MAX_IMAGE_PIXELS``; make that a refusal too."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _orient(image: Image.Image) -> Image.Image:
    """Turn the pixels the way the camera's EXIF orientation says; a malformed EXIF block means "as is"."""
    try:
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS + (KeyError, ZeroDivisionError):
        log.info("unreadable EXIF orientation ignored")
        return image.copy()


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels from their embedded ICC profile to sRGB, so dropping the profile keeps the colours."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in {"RGB", "RGBA", "CMYK"}:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image, source, _SRGB, outputMode="RGBA" if image.mode == "RGBA" else "RGB"
        )
    except (ImageCms.PyCMSError, *_DECODE_ERRORS):
        log.info("unusable ICC profile ignored")
        return image
    return image if converted is None else converted


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB, with transparency flattened onto white (a JPEG has no alpha; black would hide text)."""
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB") if image.mode != "RGB" else image


def _encode(image: Image.Image, quality: int, *, fast: bool = False) -> bytes:
    """Save the pixels, and only the pixels, as a progressive, optimised JPEG (``fast``: baseline, standard
    tables).

    Copying into a fresh ``Image.new`` drops ``Image.info`` (EXIF, XMP, ICC, comment, DPI), which
    Pillow's JPEG writer would otherwise partly carry over.
    """
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    buffer = io.BytesIO()
    clean.save(buffer, "JPEG", quality=quality, optimize=not fast, progressive=not fast)
    return buffer.getvalue()


def _megabytes(size: int) -> str:
    return f"{size / MB:g}"
