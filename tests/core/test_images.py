"""Photo uploads: real images built with Pillow, real decoding, no database."""

from __future__ import annotations

import hashlib
import io
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from flask import Flask, request
from PIL import ExifTags, Image, ImageCms, ImageDraw

from app.core.errors import register_error_handlers
from app.core.images import (
    MAX_FULL_DECODE_PIXELS,
    MAX_PIXELS,
    CorruptImage,
    ImageDimensionsTooLarge,
    ImageSlots,
    ImageWorkBusy,
    NotAnImage,
    ProcessedImage,
    UploadTooLarge,
    make_thumbnail,
    process_upload,
)

MAKE = "SpyCam Industries"
MODEL = "Tracker 9000"

# --- building test images ---------------------------------------------------------------------------------


def photo(size: tuple[int, int] = (800, 600), mode: str = "RGB") -> Image.Image:
    """A picture with edges and colours (compresses like a photo, not like a flat fill)."""
    image = Image.new("RGB", size, (40, 120, 200))
    draw = ImageDraw.Draw(image)
    width, height = size
    for i in range(0, width, max(width // 16, 1)):
        draw.rectangle([i, 0, i + max(width // 32, 1), height], fill=(200, (i * 7) % 256, 60))
    draw.ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4], fill=(250, 250, 250))
    return image.convert(mode) if mode != "RGB" else image


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    exif[ExifTags.Base.Model] = MODEL
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 27.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 23.0, 30.0)
    return exif


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int, *, bit_depth: int = 8, color_type: int = 2) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` and that carries no pixel data at all."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def png_bomb(side: int = 30000) -> bytes:
    """A valid 1-bit PNG of side x side black pixels: about 100 KB that would decode to ~900 Mpx.

    Written by hand (streaming the zlib data) because asking Pillow to build it would allocate it.
    """
    row = b"\x00" + b"\x00" * ((side + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    rows_per_chunk = 1000
    parts = []
    for start in range(0, side, rows_per_chunk):
        parts.append(compressor.compress(row * min(rows_per_chunk, side - start)))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", b"".join(parts))
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is patched to claim other dimensions."""
    data = bytearray(encode(photo((64, 48)), "JPEG", quality=80))
    sof = data.index(b"\xff\xc0")
    # marker (2) + segment length (2) + precision (1), then height and width
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


# --- metadata and orientation -----------------------------------------------------------------------------


@pytest.mark.parametrize("with_icc", [False, True], ids=["no-icc", "srgb-icc"])
def test_gps_exif_xmp_comment_and_icc_are_stripped(with_icc):
    icc = {"icc_profile": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()} if with_icc else {}
    original = encode(
        photo(),
        "JPEG",
        quality=90,
        exif=gps_exif(),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp-location</x:xmpmeta>',
        comment=b"<script>alert(1)</script>",
        **icc,
    )
    # The input really carries all of it.
    source = Image.open(io.BytesIO(original))
    assert source.getexif()[ExifTags.Base.Make] == MAKE
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert {"xmp", "comment"} | set(icc) <= set(source.info)

    result = process_upload(original)

    cleaned = opened(result.data)
    assert cleaned.format == "JPEG"
    assert dict(cleaned.getexif()) == {}
    assert cleaned.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(cleaned.info)
    for marker in (MAKE.encode(), MODEL.encode(), b"Exif\x00\x00", b"secret-xmp-location", b"<script>"):
        assert marker not in result.data


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_exif_is_stripped_from_png_and_webp(fmt):
    original = encode(photo(), fmt, exif=gps_exif())
    assert Image.open(io.BytesIO(original)).getexif()[ExifTags.Base.Make] == MAKE

    result = process_upload(original)

    assert dict(opened(result.data).getexif()) == {}
    assert MAKE.encode() not in result.data


def test_orientation_6_rotates_the_pixels():
    # Stored landscape, left half red and right half blue; orientation 6 means "turn 90° clockwise".
    image = Image.new("RGB", (400, 200), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 200, 200))
    original = encode(image, "JPEG", quality=95, exif=gps_exif(orientation=6))

    result = process_upload(original)

    upright = opened(result.data)
    assert (result.width, result.height) == upright.size == (200, 400)
    assert ExifTags.Base.Orientation not in upright.getexif()
    # After the clockwise turn the old left (red) is on top, the old right (blue) below.
    assert close_to(upright.getpixel((100, 50)), (255, 0, 0))
    assert close_to(upright.getpixel((100, 350)), (0, 0, 255))


def display_p3_profile() -> bytes:
    """Pillow's sRGB profile with its primaries replaced by Display P3's (D50-adapted, as in Apple's
    profile): a wide-gamut profile like the one iPhone photos carry, built without shipping a file."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    primaries = {
        b"rXYZ": (0.5151, 0.2412, -0.0011),
        b"gXYZ": (0.2920, 0.6922, 0.0419),
        b"bXYZ": (0.1571, 0.0666, 0.7841),
    }
    data[84:100] = bytes(16)  # profile id (an MD5 of the content): "not computed"
    (count,) = struct.unpack_from(">I", data, 128)
    for index in range(count):
        signature, offset, _size = struct.unpack_from(">4sII", data, 132 + 12 * index)
        if signature in primaries:
            assert data[offset:offset + 4] == b"XYZ "
            struct.pack_into(">3i", data, offset + 8, *(round(v * 65536) for v in primaries[signature]))
    return bytes(data)


def test_wide_gamut_profile_converts_colours_to_srgb_then_is_dropped():
    colour = (200, 100, 50)
    profile = display_p3_profile()
    image = Image.new("RGB", (64, 64), colour)
    expected = ImageCms.profileToProfile(
        image, ImageCms.ImageCmsProfile(io.BytesIO(profile)), ImageCms.createProfile("sRGB")
    ).getpixel((0, 0))
    assert max(abs(a - b) for a, b in zip(expected, colour, strict=True)) >= 10  # P3 really differs

    untagged = opened(process_upload(encode(image, "PNG")).data)
    tagged = opened(process_upload(encode(image, "PNG", icc_profile=profile)).data)

    assert "icc_profile" not in tagged.info
    assert close_to(untagged.getpixel((32, 32)), colour, 3)
    assert close_to(tagged.getpixel((32, 32)), expected, 3)


def test_broken_icc_profile_is_ignored_not_fatal():
    original = encode(photo(), "JPEG", icc_profile=b"this is not an icc profile" * 10)
    result = process_upload(original)
    assert "icc_profile" not in opened(result.data).info


# --- what is refused ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"just some notes, saved as photo.jpg\n" * 10, id="text"),
        pytest.param(b"", id="empty"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", id="svg"),
        pytest.param(b"<!DOCTYPE html><html><script>alert(1)</script></html>", id="html"),
        pytest.param(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", id="pdf"),
        pytest.param(b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>", id="html-behind-jpeg-magic"),
        pytest.param(b"\x89PNG\r\n\x1a\n<?php system($_GET['c']); ?>", id="php-behind-png-magic"),
    ],
)
def test_non_images_are_refused(payload):
    with pytest.raises(NotAnImage) as caught:
        process_upload(payload)
    assert caught.value.status == 422
    assert caught.value.error_code == "uploads.not_an_image"
    assert caught.value.message == "只能上传图片（JPG、PNG、WebP）"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO", "PPM"])
def test_real_images_in_other_formats_are_refused(fmt):
    data = encode(photo((64, 48)), fmt)
    assert Image.open(io.BytesIO(data)).format == fmt  # Pillow could decode it; we do not want it

    with pytest.raises(NotAnImage) as caught:
        process_upload(data)
    assert caught.value.error_code == "uploads.not_an_image"


def test_30_mb_body_is_413():
    with pytest.raises(UploadTooLarge) as caught:
        process_upload(b"\xff\xd8\xff" + b"\x00" * (30 * 1024 * 1024))
    assert caught.value.status == 413
    assert caught.value.error_code == "uploads.too_large"
    assert caught.value.message == "图片太大，单张不能超过 10 MB"


def test_size_limit_message_follows_the_limit():
    with pytest.raises(UploadTooLarge) as caught:
        process_upload(b"x" * (5 * 1024 * 1024 + 1), max_bytes=5 * 1024 * 1024)
    assert caught.value.message == "图片太大，单张不能超过 5 MB"


def test_png_bomb_is_refused_from_its_header():
    bomb = png_bomb(30000)
    assert len(bomb) < 200 * 1024  # ~900 million pixels in a small file

    with pytest.raises(ImageDimensionsTooLarge) as caught:
        process_upload(bomb)
    assert caught.value.status == 422
    assert caught.value.error_code == "uploads.image_too_large"
    assert caught.value.message == "图片尺寸过大"


@pytest.mark.parametrize(
    "data",
    [
        # over 2x Image.MAX_IMAGE_PIXELS: Pillow raises DecompressionBombError
        pytest.param(jpeg_claiming(65000, 65000), id="jpeg-4-gigapixel-header"),
        # between 1x and 2x Image.MAX_IMAGE_PIXELS: Pillow only warns; we refuse
        pytest.param(png_header_only(10000, 10000), id="png-100-mpx-pillow-warns"),
        # under Pillow's limit (89 Mpx) but over ours (40 Mpx): only our own check stands
        pytest.param(png_header_only(7000, 6000), id="png-42-mpx-below-pillow-limit"),
        pytest.param(jpeg_claiming(8000, 6000), id="jpeg-48-mpx-below-pillow-limit"),
    ],
)
def test_too_many_pixels_are_refused_before_decoding(data):
    # None of these carries the pixel data it claims: reaching the decoder would answer corrupt_image.
    assert Image.MAX_IMAGE_PIXELS == 89_478_485
    with pytest.raises(ImageDimensionsTooLarge) as caught:
        process_upload(data)
    assert caught.value.error_code == "uploads.image_too_large"


def test_pillow_bomb_warning_is_a_refusal_even_with_a_higher_limit_of_ours():
    # 100 Mpx is inside our raised limit but over Image.MAX_IMAGE_PIXELS, where Pillow only warns. The
    # header-only PNG would otherwise reach the decoder and answer corrupt_image.
    with pytest.raises(ImageDimensionsTooLarge):
        process_upload(png_header_only(10000, 10000), max_pixels=150_000_000)
    with pytest.raises(CorruptImage):
        process_upload(png_header_only(8000, 8000), max_pixels=150_000_000)


def test_pixel_limit_is_a_parameter():
    data = encode(photo((1200, 1000)))
    with pytest.raises(ImageDimensionsTooLarge):
        process_upload(data, max_pixels=1_000_000)
    assert process_upload(data, max_pixels=1_200_000).width == 1200


def test_truncated_jpeg_is_corrupt():
    data = encode(photo((1600, 1200)), "JPEG", quality=90)
    with pytest.raises(CorruptImage) as caught:
        process_upload(data[: len(data) // 2])
    assert caught.value.status == 422
    assert caught.value.error_code == "uploads.corrupt_image"
    assert caught.value.message == "图片已损坏，请重新拍摄或选择"


def test_truncated_png_is_corrupt():
    data = encode(photo((800, 600)), "PNG")
    with pytest.raises(CorruptImage):
        process_upload(data[: len(data) // 2])


def test_png_with_a_damaged_chunk_is_corrupt():
    data = bytearray(encode(photo((200, 100)), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # flips bits inside the compressed pixels: the CRC no longer matches
    with pytest.raises(CorruptImage):
        process_upload(bytes(data))


def test_trailing_payload_after_a_real_jpeg_is_not_stored():
    # A JPEG/ZIP/PHP polyglot: valid image first, anything after. Re-encoding leaves none of it.
    payload = b"PK\x03\x04<?php system($_GET['c']); ?>" + b"\x00" * 64
    result = process_upload(encode(photo()) + payload)
    assert b"<?php" not in result.data
    assert b"PK\x03\x04" not in result.data
    assert result.data.endswith(b"\xff\xd9")


# --- what comes out ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "expected"), [((4000, 3000), (2560, 1920)), ((3000, 4000), (1920, 2560))])
def test_big_photo_is_downsized_to_2560_on_the_long_side(size, expected):
    result = process_upload(encode(photo(size), "JPEG", quality=90))
    assert (result.width, result.height) == expected
    assert opened(result.data).size == expected


def test_small_photo_is_not_enlarged():
    result = process_upload(encode(photo((640, 480))))
    assert (result.width, result.height) == (640, 480)


def test_result_fields_describe_the_output():
    result = process_upload(encode(photo((1024, 768)), "PNG"))
    assert isinstance(result, ProcessedImage)
    assert result.content_type == "image/jpeg"
    assert result.sha256 == hashlib.sha256(result.data).hexdigest()
    assert opened(result.data).size == (result.width, result.height) == (1024, 768)


def transparent_png() -> bytes:
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle([0, 0, 49, 99], fill=(255, 0, 0, 255))
    return encode(image, "PNG")


def palette_png_with_transparency() -> bytes:
    image = Image.new("P", (100, 100), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    ImageDraw.Draw(image).rectangle([0, 0, 49, 99], fill=1)
    return encode(image, "PNG", transparency=0)


def cmyk_jpeg() -> bytes:
    return encode(photo((300, 200), "CMYK"), "JPEG")


def gray16_png() -> bytes:
    return encode(Image.new("I;16", (120, 80), 40000), "PNG")


def mpo_photo() -> bytes:
    data = encode(photo((320, 240)), "MPO", save_all=True, append_images=[photo((160, 120))])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    return data


def animated_webp() -> bytes:
    frames = [Image.new("RGB", (90, 60), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    return encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)


@pytest.mark.parametrize(
    ("data", "size", "sample"),
    [
        pytest.param(encode(photo((300, 200)), "PNG"), (300, 200), None, id="png-rgb"),
        pytest.param(encode(photo((300, 200)), "WEBP", quality=90), (300, 200), None, id="webp"),
        pytest.param(transparent_png(), (100, 100), ((75, 50), (255, 255, 255)), id="png-alpha-on-white"),
        pytest.param(palette_png_with_transparency(), (100, 100), ((75, 50), (255, 255, 255)), id="png-palette"),
        pytest.param(encode(photo((300, 200), "L")), (300, 200), None, id="jpeg-grey"),
        pytest.param(cmyk_jpeg(), (300, 200), None, id="jpeg-cmyk"),
        pytest.param(gray16_png(), (120, 80), ((60, 40), (156, 156, 156)), id="png-16-bit-grey"),
        pytest.param(mpo_photo(), (320, 240), None, id="mpo-multi-picture-jpeg"),
        pytest.param(animated_webp(), (90, 60), ((45, 30), (255, 0, 0)), id="webp-animated-first-frame"),
    ],
)
def test_output_is_always_an_rgb_jpeg(data, size, sample):
    result = process_upload(data)
    image = opened(result.data)
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert image.size == size
    assert result.data.startswith(b"\xff\xd8\xff")
    if sample is not None:
        where, colour = sample
        assert close_to(image.getpixel(where), colour, 12)


def test_output_is_progressive_jpeg():
    result = process_upload(encode(photo((1000, 800))))
    assert opened(result.data).info.get("progressive") == 1


def test_fast_encoding_is_a_baseline_jpeg_just_as_clean():
    original = encode(photo(), "JPEG", exif=gps_exif(), comment=b"hello")
    result = process_upload(original, fast=True)
    image = opened(result.data)
    assert image.format == "JPEG" and "progressive" not in image.info
    assert not image.getexif() and "comment" not in image.info and image.size == (800, 600)


# --- thumbnails ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "expected"), [((4000, 3000), (480, 360)), ((1080, 1920), (270, 480))])
def test_thumbnail_long_side_is_480(size, expected):
    stored = process_upload(encode(photo(size), "JPEG", quality=90, exif=gps_exif()))
    thumb = opened(make_thumbnail(stored.data))
    assert thumb.format == "JPEG"
    assert thumb.size == expected
    assert dict(thumb.getexif()) == {}


def test_thumbnail_of_a_small_image_is_not_enlarged_and_side_is_a_parameter():
    stored = process_upload(encode(photo((300, 200))))
    assert opened(make_thumbnail(stored.data)).size == (300, 200)
    assert opened(make_thumbnail(stored.data, side=150)).size == (150, 100)


def test_thumbnail_refuses_what_uploads_refuse():
    with pytest.raises(NotAnImage):
        make_thumbnail(encode(photo((64, 48)), "GIF"))
    with pytest.raises(ImageDimensionsTooLarge):
        make_thumbnail(png_bomb(30000))


# --- through the error envelope ----------------------------------------------------------------------------


@pytest.fixture
def upload_app():
    web = Flask(__name__)
    register_error_handlers(web)

    @web.post("/upload")
    def upload():
        result = process_upload(request.get_data())
        return {"width": result.width, "height": result.height}

    return web


@pytest.mark.parametrize(
    ("body", "status", "error_code"),
    [
        (b"x" * (10 * 1024 * 1024 + 1), 413, "uploads.too_large"),
        (b"hello", 422, "uploads.not_an_image"),
        (png_header_only(10000, 10000), 422, "uploads.image_too_large"),
    ],
)
def test_refusals_answer_the_error_envelope(upload_app, body, status, error_code):
    response = upload_app.test_client().post("/upload", data=body, content_type="image/jpeg")
    assert response.status_code == status
    answer = response.get_json()
    assert answer["code"] == status
    assert answer["error_code"] == error_code
    assert answer["message"] in {"图片太大，单张不能超过 10 MB", "只能上传图片（JPG、PNG、WebP）", "图片尺寸过大"}


def test_accepted_upload_through_a_view(upload_app):
    response = upload_app.test_client().post("/upload", data=encode(photo((3000, 2000))))
    assert response.status_code == 200
    assert response.get_json() == {"width": 2560, "height": 1707}


# --- what a phone photo needs: pixels and image slots -------------------------------------------------------


def flat(size: tuple[int, int], fmt: str, **params) -> bytes:
    """A real image of ``size`` that encodes quickly (one colour)."""
    return encode(Image.new("RGB", size, (90, 140, 200)), fmt, **params)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_which_decode_whole_are_bounded_tighter_than_jpeg(fmt):
    over = (4100, 4000)  # 16.4 Mpx: more than a phone screenshot, less than MAX_PIXELS
    assert MAX_FULL_DECODE_PIXELS < over[0] * over[1] < MAX_PIXELS
    with pytest.raises(ImageDimensionsTooLarge):
        process_upload(flat(over, fmt, **({"quality": 10} if fmt == "WEBP" else {})))
    assert process_upload(flat(over, "JPEG")).width == 2560  # a JPEG of the same size: drafted, taken
    assert process_upload(flat((2000, 8000), fmt)).height == 2560  # a long screenshot within the bound


def test_a_40_mpx_jpeg_is_taken_and_stored_at_2560():
    data = flat((7300, 5470), "JPEG", quality=80)
    assert Image.open(io.BytesIO(data)).size == (7300, 5470)
    result = process_upload(data)
    assert (result.width, result.height) == opened(result.data).size == (2560, 1918)


def test_an_explicit_pixel_limit_applies_to_every_format():
    assert process_upload(flat((4100, 4000), "PNG"), max_pixels=20_000_000).width == 2560


def _hold_in_another_process(path: Path) -> subprocess.Popen:
    """A separate process holding the lock of ``path`` the way ImageSlots takes one, until it is killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time\n"
                               f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
                               "fcntl.flock(fd, fcntl.LOCK_EX)\n"
                               "print('held', flush=True)\n"
                               "time.sleep(120)\n"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_image_slots_count_across_processes_and_a_dead_holder_frees_its_slot(tmp_path):
    slots = ImageSlots(tmp_path / "locks", 1, wait_seconds=0.2)
    (tmp_path / "locks").mkdir()
    holder = _hold_in_another_process(slots.paths[0])
    try:
        started = time.monotonic()
        with pytest.raises(ImageWorkBusy) as caught, slots.hold():
            pass
        assert time.monotonic() - started >= 0.2  # it waited for a slot, then gave up
        assert caught.value.status == 503 and caught.value.error_code == "uploads.busy"
        assert int(caught.value.headers["Retry-After"]) > 0
    finally:
        holder.kill()
        holder.wait(10)
    with slots.hold():  # the kernel released the dead process's lock
        pass


def test_image_slots_admit_as_many_as_there_are(tmp_path):
    slots = ImageSlots(tmp_path / "locks", 2, wait_seconds=0)
    with slots.hold(), slots.hold():
        with pytest.raises(ImageWorkBusy), slots.hold():
            pass
    with slots.hold(), slots.hold():  # both released
        pass


def test_a_waiting_upload_takes_the_slot_as_soon_as_it_is_free(tmp_path):
    slots = ImageSlots(tmp_path / "locks", 1, wait_seconds=5)
    released = threading.Event()

    def hold_briefly():
        with slots.hold():
            released.wait(5)

    first = threading.Thread(target=hold_briefly)
    first.start()
    time.sleep(0.1)
    threading.Timer(0.3, released.set).start()
    started = time.monotonic()
    with slots.hold():
        waited = time.monotonic() - started
    first.join(5)
    assert 0.1 < waited < 5
