"""Where uploaded files live, and how a client is allowed to fetch one (docs/architecture.md).

Files are addressed by a *key* such as ``repairs/2026/11/3f2a….jpg``: made by ``new_key`` from a random
UUID, never from a user's file name, and checked by every backend (no ``..``, no absolute path, no
backslash, no hidden segment), so a key can never reach outside the storage.

Two backends implement ``Storage``:

* ``LocalStorage`` keeps files under ``STORAGE_LOCAL_ROOT`` (default ``<INSTANCE_DIR>/uploads``), which
  is not a static folder: a file is only ever served by a view that checked access, or through a signed
  download token (``sign_download``/``verify_download``). It has no direct URL.
* ``S3Storage`` talks to any S3-compatible service (AWS, MinIO, Tencent COS, Aliyun OSS) with boto3 and
  gives short-lived presigned URLs, so big downloads need not pass through the API.

``get_storage()`` builds the configured backend once per app.

A file that stands for a row (a dish's photo) follows the row's transaction: ``put_in_transaction`` stores
it and deletes it again when the transaction rolls back, ``delete_after_commit`` deletes the file a row
no longer names once the change is committed (never before: a rollback keeps the old file named). So
neither a failed request nor a replaced photo leaves a file behind. ``signed_url`` and ``send_stored``
are the serving side a domain's photos share (a presigned URL when the storage gives one, else a signed
route of the API that streams the file).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, Response, current_app, redirect, send_file
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.config import ConfigError
from app.core import clock
from app.core.db import db
from app.core.errors import Forbidden, NotFound, UpstreamError

log = logging.getLogger(__name__)

DIR_MODE = 0o750
FILE_MODE = 0o640
MAX_KEY_LENGTH = 512
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # the longest an S3 SigV4 presigned URL may live

# Segments start with a letter or digit (so no ".", "..", hidden or temp files) and hold only URL-safe
# characters; segments are joined by single forward slashes.
_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_EXT_RE = re.compile(r"[a-z0-9]{1,10}")
_MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "404"})


class StorageNotFound(NotFound):
    """No file under that key (answers the usual 404 when it reaches a view)."""


class StorageUnavailable(UpstreamError):
    """The object store failed or could not be reached."""

    error_code, message = "storage.unavailable", "文件服务暂时不可用，请稍后再试"


class LinkExpired(Forbidden):
    """A signed download link that was genuine but is too old."""

    error_code, message = "uploads.link_expired", "链接已过期，请刷新后重试"


class InvalidKey(ValueError):
    """A key that could escape the storage root or is otherwise malformed: a bug in the caller, since keys
    come from ``new_key`` and never from a request."""


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key, else raise ``InvalidKey``."""
    if (
        not isinstance(key, str)
        or len(key) > MAX_KEY_LENGTH
        or ".." in key
        or not _KEY_RE.fullmatch(key)
    ):
        raise InvalidKey(f"invalid storage key: {key!r}")
    return key


def new_key(prefix: str, ext: str = "jpg") -> str:
    """A fresh, unguessable key: ``<prefix>/<yyyy>/<mm>/<uuid4 hex>.<ext>`` with the month in UTC.

    The month folders keep directory listings small and make age-based clean-up and backups easy.
    """
    prefix = prefix.strip("/")
    validate_key(prefix)
    if not _EXT_RE.fullmatch(ext):
        raise InvalidKey(f"invalid file extension: {ext!r}")
    now = clock.now()
    return f"{prefix}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{ext}"


class Storage(ABC):
    """Where files live. Keys are checked by ``validate_key``; ``delete`` of a missing key is not an error
    (jobs that clean up may run twice)."""

    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing what was there; readers never see a partial file."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The file's bytes; ``StorageNotFound`` when there is none."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the file if it exists."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a file is stored under ``key``."""

    @abstractmethod
    def url(self, key: str, *, expires_in: int = 300) -> str | None:
        """A direct, short-lived URL for the file, or None when the backend cannot give one (then the API
        serves the file itself, behind an access check or a signed token)."""


class LocalStorage(Storage):
    """Files on the local disk under ``root``: directories 0750, files 0640, written atomically.

    ``content_type`` is not kept: the key's extension says it, and the serving view sets the header.
    """

    def __init__(self, root: Path | str):
        self.root = Path(os.path.normpath(Path(root).absolute()))

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        """The file's path, for a view that streams it with ``send_file`` after its access check."""
        path = self.root.joinpath(*validate_key(key).split("/"))
        # Belt and braces: the key check already makes this impossible.
        if os.path.commonpath([self.root, os.path.normpath(path)]) != str(self.root):
            raise InvalidKey(f"invalid storage key: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path_for(key)
        self._make_dirs(path.parent)
        # The temporary name starts with "." so it can never be a valid key, and lives in the same
        # directory so os.replace is an atomic rename on the same file system.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
                os.fchmod(tmp.fileno(), FILE_MODE)
            os.replace(tmp_name, path)
        except BaseException:
            try:
                os.unlink(tmp_name)
            except FileNotFoundError:
                pass
            raise
        self._fsync_dir(path.parent)

    def get(self, key: str) -> bytes:
        try:
            return self.path_for(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise StorageNotFound() from exc

    def delete(self, key: str) -> None:
        try:
            self.path_for(key).unlink()
        except (FileNotFoundError, NotADirectoryError):
            pass

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def url(self, key: str, *, expires_in: int = 300) -> str | None:
        validate_key(key)
        return None

    def _make_dirs(self, directory: Path) -> None:
        """Create missing directories with exactly 0750 (mkdir's mode is filtered by the umask)."""
        missing: list[Path] = []
        current = directory
        while not current.exists():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            try:
                path.mkdir(mode=DIR_MODE)
            except FileExistsError:
                continue  # another process created it meanwhile
            os.chmod(path, DIR_MODE)

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        """Make the rename itself durable (a crash right after put() keeps the new file)."""
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class S3Storage(Storage):
    """An S3-compatible bucket (AWS S3, MinIO, Tencent COS, Aliyun OSS), objects under ``prefix``.

    Checksums are only sent when the API requires them: since botocore 1.36 the default adds CRC32
    headers that several S3-compatible services reject. ``addressing_style``: ``"auto"`` lets botocore
    choose (path style with a custom ``endpoint_url``, which suits MinIO); Aliyun OSS needs ``"virtual"``
    and Tencent COS prefers it. Credentials left empty fall back to boto3's usual chain (environment,
    instance role).
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        prefix: str = "",
        addressing_style: str = "auto",
    ):
        if not bucket:
            raise ConfigError("S3Storage needs a bucket name")
        if addressing_style not in {"auto", "path", "virtual"}:
            raise ConfigError(f"S3 addressing style must be auto, path or virtual, not {addressing_style!r}")
        self.bucket = bucket
        prefix = prefix.strip("/")
        self.prefix = f"{validate_key(prefix)}/" if prefix else ""
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": addressing_style},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def object_key(self, key: str) -> str:
        """The key inside the bucket."""
        return self.prefix + validate_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._call(
            "put_object", Bucket=self.bucket, Key=self.object_key(key), Body=data, ContentType=content_type
        )

    def get(self, key: str) -> bytes:
        try:
            response = self._call("get_object", Bucket=self.bucket, Key=self.object_key(key))
            body = response["Body"]
            try:
                return body.read()
            finally:
                body.close()
        except BotoCoreError as exc:
            raise StorageUnavailable() from exc

    def delete(self, key: str) -> None:
        self._call("delete_object", Bucket=self.bucket, Key=self.object_key(key))

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", Bucket=self.bucket, Key=self.object_key(key))
        except StorageNotFound:
            return False
        return True

    def url(self, key: str, *, expires_in: int = 300) -> str | None:
        if not 0 < expires_in <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires_in must be between 1 and {MAX_PRESIGN_SECONDS} seconds")
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.object_key(key)},
            ExpiresIn=expires_in,
        )

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Run one S3 operation, mapping "no such key" to ``StorageNotFound`` and any other failure
        (network, credentials, missing bucket) to ``StorageUnavailable``."""
        try:
            return getattr(self.client, operation)(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
                raise StorageNotFound() from exc
            raise StorageUnavailable() from exc
        except BotoCoreError as exc:
            raise StorageUnavailable() from exc


_build_lock = threading.Lock()


def build_storage(config: Mapping[str, Any]) -> Storage:
    """The backend the settings describe (``STORAGE_BACKEND`` and its ``STORAGE_*``/``S3_*`` settings)."""
    backend = (config.get("STORAGE_BACKEND") or "local").strip().lower()
    if backend == "local":
        root = config.get("STORAGE_LOCAL_ROOT") or ""
        if not root:
            instance = config.get("INSTANCE_DIR") or ""
            if not instance:
                raise ConfigError("STORAGE_LOCAL_ROOT or INSTANCE_DIR must be set for local storage")
            root = Path(instance) / "uploads"
        return LocalStorage(Path(root))
    if backend == "s3":
        bucket = config.get("S3_BUCKET") or ""
        if not bucket:
            raise ConfigError("S3_BUCKET must be set when STORAGE_BACKEND is s3")
        return S3Storage(
            bucket,
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            region=config.get("S3_REGION") or None,
            access_key=config.get("S3_ACCESS_KEY") or None,
            secret_key=config.get("S3_SECRET_KEY") or None,
            prefix=config.get("S3_PREFIX") or "",
            addressing_style=config.get("S3_ADDRESSING_STYLE") or "auto",
        )
    raise ConfigError(f"STORAGE_BACKEND must be local or s3, not {backend!r}")


def get_storage() -> Storage:
    """The current app's storage, built on first use and kept in ``app.extensions["storage"]``."""
    storage = current_app.extensions.get("storage")
    if storage is None:
        with _build_lock:
            storage = current_app.extensions.get("storage")
            if storage is None:
                config = current_app.config
                instance_dir = config.get("INSTANCE_DIR") or current_app.instance_path
                storage = build_storage({**config, "INSTANCE_DIR": instance_dir})
                current_app.extensions["storage"] = storage
    return storage


# --- signed download links ----------------------------------------------------------------------------


class _ClockSigner(TimestampSigner):
    """Stamps tokens with ``app.core.clock.now()``, the application's one clock, not ``time.time()``."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(audience: str) -> URLSafeTimedSerializer:
    if not audience:
        raise ValueError("a download token needs an audience")
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"zhhq.download.{audience}", signer=_ClockSigner
    )


def sign_download(key: str, *, expires_in: int = 300, audience: str) -> str:
    """A URL-safe token that lets its bearer download ``key`` for ``expires_in`` seconds.

    ``audience`` names the purpose (``"repairs.photo"``); it salts the signature, so a token made for one
    purpose is worthless for another. The token is signed, not encrypted: the key inside is readable,
    which is fine because keys are random and reveal nothing about the file.
    """
    validate_key(key)
    if expires_in <= 0:
        raise ValueError("expires_in must be positive")
    return _serializer(audience).dumps({"k": key, "x": int(expires_in)})


def verify_download(token: str, *, audience: str) -> str:
    """The key a token grants. A forged, altered or other-audience token answers 404 (as if there were
    nothing to find); a genuine but expired one answers 403 ``uploads.link_expired`` so the client knows to
    fetch a fresh link."""
    try:
        payload, signed_at = _serializer(audience).loads(token, return_timestamp=True)
    except BadData as exc:
        raise NotFound() from exc
    if not isinstance(payload, dict):
        raise NotFound()
    key, lifetime = payload.get("k"), payload.get("x")
    if not isinstance(key, str) or not isinstance(lifetime, int) or lifetime <= 0:
        raise NotFound()
    if clock.now() > signed_at + timedelta(seconds=lifetime):
        raise LinkExpired()
    try:
        return validate_key(key)
    except InvalidKey as exc:
        raise NotFound() from exc


def signed_url(key: str, *, ttl: int, audience: str, route: str) -> str:
    """A URL that lets anyone holding it fetch ``key`` for ``ttl`` seconds: the storage's presigned URL (a
    bucket), else ``<route>/<token>`` of the API, whose view passes the token to ``verify_download``."""
    direct = get_storage().url(key, expires_in=ttl)
    if direct:
        return direct
    return f"{route.rstrip('/')}/{sign_download(key, expires_in=ttl, audience=audience)}"


def send_stored(key: str, *, url: str | None = None, max_age: int, mimetype: str = "image/jpeg") -> Response:
    """A view's answer for a stored file it checked access to: a redirect to ``url`` (a presigned URL),
    else the file streamed (conditional requests on local disk); cached privately for ``max_age`` s. A
    file that is gone answers 404. The repairs API, the console and the canteen's photos are served
through this."""
    if url:
        return redirect(url, 302)
    storage = get_storage()
    if isinstance(storage, LocalStorage):
        try:
            response = send_file(storage.path_for(key), mimetype=mimetype, conditional=True, max_age=max_age)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise StorageNotFound() from exc  # deleted since the link was made (a photo replaced)
    else:
        response = Response(storage.get(key), mimetype=mimetype)
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.max_age = max_age
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- files that follow a transaction ----------------------------------------------------------------------

_ON_ROLLBACK = "storage.delete_on_rollback"
_ON_COMMIT = "storage.delete_on_commit"


def put_in_transaction(key: str, data: bytes, content_type: str) -> None:
    """Store a file the current transaction is about to name in a row; a rollback deletes it again."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still deletes the file
    get_storage().put(key, data, content_type)
    session.info.setdefault(_ON_ROLLBACK, []).append(key)


def delete_after_commit(*keys: str | None) -> None:
    """Delete files the current transaction stops naming, once it commits (a rollback keeps them)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()
    session.info.setdefault(_ON_COMMIT, []).extend(k for k in keys if k)


def _delete_quietly(keys: list[str]) -> None:
    if not keys:
        return
    storage = get_storage()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # the object store is down: the row is right, a file is left to clean by hand
            log.exception("could not delete a stored file", extra={"key": key})


def _after_commit(session: Session) -> None:
    session.info.pop(_ON_ROLLBACK, None)
    _delete_quietly(session.info.pop(_ON_COMMIT, []))


def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.nested:
        return
    session.info.pop(_ON_COMMIT, None)
    _delete_quietly(session.info.pop(_ON_ROLLBACK, []))


def init_storage(app: Flask) -> None:
    """Register the transaction listeners (global to Session, once)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)
