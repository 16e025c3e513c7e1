"""File storage (local disk for real, S3 through botocore's Stubber) and signed download tokens.

No database: a bare Flask app gives ``current_app`` its SECRET_KEY and INSTANCE_DIR.
"""

from __future__ import annotations

import io
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from botocore.response import StreamingBody
from botocore.stub import Stubber
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from app.config import ConfigError
from app.core import clock
from app.core.errors import NotFound
from app.core.storage import (
    InvalidKey,
    LinkExpired,
    LocalStorage,
    S3Storage,
    StorageNotFound,
    StorageUnavailable,
    build_storage,
    get_storage,
    new_key,
    sign_download,
    validate_key,
    verify_download,
)

SECRET = "storage-test-secret-0123456789abcdef"
KEY = "repairs/2026/11/0123456789abcdef0123456789abcdef.jpg"
T0 = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def flask_app(tmp_path):
    web = Flask(__name__)
    web.config.update(SECRET_KEY=SECRET, INSTANCE_DIR=str(tmp_path / "instance"))
    with web.app_context():
        yield web


@pytest.fixture
def local(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "uploads")


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --- keys ----------------------------------------------------------------------------------------------------

BAD_KEYS = [
    "",
    "../etc/passwd",
    "repairs/../../etc/passwd",
    "repairs/..",
    "..",
    "a..b.jpg",
    "/etc/passwd",
    "repairs\\..\\secret.jpg",
    "C:/Windows/win.ini",
    "repairs//x.jpg",
    "repairs/./x.jpg",
    "repairs/x.jpg/",
    ".hidden",
    "repairs/.x.jpg.abc.tmp",
    "repairs/x\x00.jpg",
    "repairs/x y.jpg",
    "repairs/照片.jpg",
    "a" * 513,
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_are_refused_by_every_operation(local, tmp_path, key):
    with pytest.raises(InvalidKey):
        validate_key(key)
    for operation in (
        lambda: local.put(key, b"x", "image/jpeg"),
        lambda: local.get(key),
        lambda: local.delete(key),
        lambda: local.exists(key),
        lambda: local.url(key),
        lambda: local.path_for(key),
    ):
        with pytest.raises(InvalidKey):
            operation()
    assert files_under(tmp_path) == []


def test_new_key_has_prefix_utc_month_and_random_name():
    # 20:00 UTC on 30 November is already 1 December in Shanghai: the folder follows UTC.
    with time_machine.travel(datetime(2026, 11, 30, 20, 0, tzinfo=UTC), tick=False):
        first, second = new_key("repairs"), new_key("repairs/", ext="png")
    prefix, year, month, name = first.split("/")
    assert (prefix, year, month) == ("repairs", "2026", "11")
    stem, ext = name.split(".")
    assert ext == "jpg" and len(stem) == 32 and int(stem, 16) >= 0
    assert second.startswith("repairs/2026/11/") and second.endswith(".png")
    assert first.rsplit(".", 1)[0] != second.rsplit(".", 1)[0]
    assert validate_key(first) == first


@pytest.mark.parametrize(("prefix", "ext"), [("../up", "jpg"), ("repairs", "../x"), ("repairs", "JPG"), ("", "jpg")])
def test_new_key_refuses_bad_parts(prefix, ext):
    with pytest.raises(InvalidKey):
        new_key(prefix, ext=ext)


# --- local disk ------------------------------------------------------------------------------------------------


def test_local_round_trip_with_modes(local, tmp_path):
    data = b"\xff\xd8\xff jpeg bytes"
    assert not local.exists(KEY)

    local.put(KEY, data, "image/jpeg")

    assert local.exists(KEY)
    assert local.get(KEY) == data
    assert local.url(KEY) is None
    path = tmp_path / "uploads" / "repairs" / "2026" / "11" / KEY.rsplit("/", 1)[1]
    assert local.path_for(KEY) == path
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    for directory in (path.parent, path.parent.parent, path.parent.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o750, directory

    local.delete(KEY)
    assert not local.exists(KEY)
    local.delete(KEY)  # deleting twice is harmless (clean-up jobs may run twice)


def test_local_modes_do_not_depend_on_the_umask(local):
    old = os.umask(0o077)
    try:
        local.put(KEY, b"x", "image/jpeg")
    finally:
        os.umask(old)
    path = local.path_for(KEY)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750


def test_local_missing_key_raises_storage_not_found(local):
    with pytest.raises(StorageNotFound) as caught:
        local.get(KEY)
    assert caught.value.status == 404
    assert caught.value.error_code == "not_found"
    local.put(KEY, b"x", "image/jpeg")
    with pytest.raises(StorageNotFound):
        local.get("repairs/2026")  # a directory is not a file
    assert not local.exists("repairs/2026")


def test_local_overwrite_is_atomic(local):
    local.put(KEY, b"version one", "image/jpeg")
    path = local.path_for(KEY)
    with open(path, "rb") as reader:  # a download in progress
        local.put(KEY, b"version two, longer", "image/jpeg")
        assert reader.read() == b"version one"  # it still sees the whole old file
    assert local.get(KEY) == b"version two, longer"
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind


def test_local_failed_write_keeps_the_old_file_and_leaves_no_temp(local, monkeypatch):
    local.put(KEY, b"good", "image/jpeg")

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        local.put(KEY, b"half-written", "image/jpeg")
    monkeypatch.undo()

    assert local.get(KEY) == b"good"
    assert os.listdir(local.path_for(KEY).parent) == [local.path_for(KEY).name]


# --- S3 through botocore's Stubber ----------------------------------------------------------------------------


@pytest.fixture
def s3() -> S3Storage:
    return S3Storage(
        "zhhq-photos",
        endpoint_url="http://minio.test:9000",
        region="us-east-1",
        access_key="AKTESTKEY",
        secret_key="sk-test-secret",
        prefix="/school-a/",
        addressing_style="path",
    )


def test_s3_put_get_exists_delete(s3):
    data = b"\xff\xd8\xff jpeg bytes"
    object_key = "school-a/" + KEY
    with Stubber(s3.client) as stub:
        stub.add_response(
            "put_object",
            {"ETag": '"abc"'},
            {"Bucket": "zhhq-photos", "Key": object_key, "Body": data, "ContentType": "image/jpeg"},
        )
        stub.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentLength": len(data)},
            {"Bucket": "zhhq-photos", "Key": object_key},
        )
        stub.add_response("head_object", {"ContentLength": len(data)}, {"Bucket": "zhhq-photos", "Key": object_key})
        stub.add_response("delete_object", {}, {"Bucket": "zhhq-photos", "Key": object_key})

        s3.put(KEY, data, "image/jpeg")
        assert s3.get(KEY) == data
        assert s3.exists(KEY)
        s3.delete(KEY)
        stub.assert_no_pending_responses()


def test_s3_missing_key(s3):
    with Stubber(s3.client) as stub:
        stub.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
        stub.add_client_error("head_object", service_error_code="404", http_status_code=404)
        with pytest.raises(StorageNotFound):
            s3.get(KEY)
        assert s3.exists(KEY) is False
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(("code", "status"), [("AccessDenied", 403), ("NoSuchBucket", 404), ("InternalError", 500)])
def test_s3_other_failures_are_storage_unavailable(s3, code, status):
    with Stubber(s3.client) as stub:
        stub.add_client_error("put_object", service_error_code=code, http_status_code=status)
        with pytest.raises(StorageUnavailable) as caught:
            s3.put(KEY, b"x", "image/jpeg")
    assert caught.value.status == 502
    assert caught.value.error_code == "storage.unavailable"


def test_s3_refuses_unsafe_keys_before_calling(s3):
    with Stubber(s3.client) as stub:  # no responses queued: any call would fail loudly
        for key in ("../other-school/x.jpg", "/abs.jpg"):
            with pytest.raises(InvalidKey):
                s3.get(key)
            with pytest.raises(InvalidKey):
                s3.url(key)
        stub.assert_no_pending_responses()


def test_s3_presigned_url_shape(s3):
    with time_machine.travel(T0, tick=False):
        url = s3.url(KEY, expires_in=300)
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert (parts.scheme, parts.netloc) == ("http", "minio.test:9000")
    assert parts.path == "/zhhq-photos/school-a/" + KEY
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"] == "AKTESTKEY/20261105/us-east-1/s3/aws4_request"
    assert query["X-Amz-Date"] == "20261105T120000Z"  # follows the (moved) clock
    assert query["X-Amz-Expires"] == "300"
    assert query["X-Amz-SignedHeaders"] == "host"
    assert len(query["X-Amz-Signature"]) == 64
    assert "sk-test-secret" not in url
    with pytest.raises(ValueError):
        s3.url(KEY, expires_in=8 * 24 * 3600)


def test_s3_virtual_host_style():
    virtual = S3Storage("zhhq-photos", endpoint_url="https://oss-cn-hangzhou.aliyuncs.com", region="cn-hangzhou",
                        access_key="AK", secret_key="SK", addressing_style="virtual")
    parts = urlsplit(virtual.url(KEY))
    assert parts.netloc == "zhhq-photos.oss-cn-hangzhou.aliyuncs.com"
    assert parts.path == "/" + KEY


# --- get_storage / settings ------------------------------------------------------------------------------------


def test_get_storage_defaults_to_local_under_instance_dir_and_is_cached(flask_app):
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    assert storage.root == Path(flask_app.config["INSTANCE_DIR"]) / "uploads"
    assert get_storage() is storage
    assert flask_app.extensions["storage"] is storage


def test_get_storage_local_root_setting(flask_app, tmp_path):
    flask_app.config["STORAGE_LOCAL_ROOT"] = str(tmp_path / "elsewhere")
    assert get_storage().root == tmp_path / "elsewhere"


def test_get_storage_s3(flask_app):
    flask_app.config.update(
        STORAGE_BACKEND="s3", S3_BUCKET="zhhq-photos", S3_ENDPOINT_URL="http://minio.test:9000",
        S3_REGION="us-east-1", S3_ACCESS_KEY="AK", S3_SECRET_KEY="SK", S3_PREFIX="school-a",
    )
    storage = get_storage()
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("zhhq-photos", "school-a/")
    assert storage.client.meta.endpoint_url == "http://minio.test:9000"
    assert "SK" not in repr(storage)


@pytest.mark.parametrize(
    "settings",
    [{"STORAGE_BACKEND": "s3"}, {"STORAGE_BACKEND": "ftp"}, {"STORAGE_BACKEND": "s3", "S3_BUCKET": "b",
                                                            "S3_ADDRESSING_STYLE": "sideways"}],
)
def test_build_storage_refuses_incomplete_settings(settings):
    with pytest.raises(ConfigError):
        build_storage({"INSTANCE_DIR": "/tmp/instance", **settings})


# --- signed download tokens ------------------------------------------------------------------------------------


def test_sign_and_verify_round_trip(flask_app):
    token = sign_download(KEY, audience="repairs.photo")
    assert verify_download(token, audience="repairs.photo") == KEY
    assert SECRET not in token


def test_wrong_audience_is_404(flask_app):
    token = sign_download(KEY, audience="repairs.photo")
    with pytest.raises(NotFound) as caught:
        verify_download(token, audience="payments.receipt")
    assert caught.value.status == 404
    assert caught.value.error_code == "not_found"


def flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1:]


@pytest.mark.parametrize("where", ["payload", "signature", "garbage", "empty"])
def test_tampered_token_is_404(flask_app, where):
    token = sign_download(KEY, audience="repairs.photo")
    bad = {
        "payload": flip(token, 3),
        "signature": flip(token, len(token) - 3),
        "garbage": "not-a-token",
        "empty": "",
    }[where]
    with pytest.raises(NotFound) as caught:
        verify_download(bad, audience="repairs.photo")
    assert caught.value.error_code == "not_found"


def test_token_from_another_secret_is_404(flask_app):
    token = sign_download(KEY, audience="repairs.photo")
    flask_app.config["SECRET_KEY"] = "another-secret-0123456789abcdef012"
    with pytest.raises(NotFound):
        verify_download(token, audience="repairs.photo")


def test_token_expires_when_the_clock_moves(flask_app):
    with time_machine.travel(T0, tick=False):
        token = sign_download(KEY, expires_in=300, audience="repairs.photo")
        # The token is stamped with the application clock.
        serializer = URLSafeTimedSerializer(SECRET, salt="zhhq.download.repairs.photo")
        _, stamped = serializer.loads(token, return_timestamp=True)
        assert stamped == clock.now() == T0

    with time_machine.travel(T0 + timedelta(seconds=299), tick=False):
        assert verify_download(token, audience="repairs.photo") == KEY

    with time_machine.travel(T0 + timedelta(seconds=301), tick=False):
        with pytest.raises(LinkExpired) as caught:
            verify_download(token, audience="repairs.photo")
    assert caught.value.status == 403
    assert caught.value.error_code == "uploads.link_expired"
    assert caught.value.message == "链接已过期，请刷新后重试"


def test_expired_and_tampered_is_still_404(flask_app):
    with time_machine.travel(T0, tick=False):
        token = sign_download(KEY, expires_in=60, audience="repairs.photo")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        with pytest.raises(NotFound) as caught:
            verify_download(flip(token, len(token) - 3), audience="repairs.photo")
    assert not isinstance(caught.value, LinkExpired)


def test_sign_refuses_bad_input(flask_app):
    with pytest.raises(InvalidKey):
        sign_download("../secret.jpg", audience="repairs.photo")
    with pytest.raises(ValueError):
        sign_download(KEY, audience="")
    with pytest.raises(ValueError):
        sign_download(KEY, expires_in=0, audience="repairs.photo")
