"""WeChat Pay v3 key material for development and tests: one directory, fresh keys.

A merchant has, from WeChat Pay's merchant platform: its API private key (``apiclient_key.pem``) and
the serial number of its API certificate, an APIv3 key (32 characters) and WeChat Pay's platform
public key (``pub_key.pem``) with its id (``PUB_KEY_ID_…``). The simulator plays WeChat Pay, so it
needs the other halves: the merchant's public key (to verify requests) and the platform's private key
(to sign answers and notifications). ``generate_pay_keys`` makes all of them into a directory:

=======================  ============================================================  ==========
``apiclient_key.pem``    merchant API private key (``WECHATPAY_MERCHANT_KEY_FILE``)      backend
``apiclient_pub.pem``    merchant public key                                             simulator
``pub_key.pem``          platform public key (``WECHATPAY_PUBLIC_KEY_FILE``)             backend
``platform_key.pem``     platform private key                                            simulator
``apiv3_key.txt``        APIv3 key (``WECHATPAY_APIV3_KEY_FILE``)                        both
``ids.json``             merchant certificate serial number and platform public key id   both
=======================  ============================================================  ==========

Secrets are written owner-only (0600) and never printed. Production keys come from WeChat Pay, not
from here.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

MERCHANT_KEY = "apiclient_key.pem"
MERCHANT_PUBLIC_KEY = "apiclient_pub.pem"
PLATFORM_PUBLIC_KEY = "pub_key.pem"
PLATFORM_KEY = "platform_key.pem"
APIV3_KEY = "apiv3_key.txt"
IDS = "ids.json"
ALL_FILES = (MERCHANT_KEY, MERCHANT_PUBLIC_KEY, PLATFORM_PUBLIC_KEY, PLATFORM_KEY, APIV3_KEY, IDS)
DEFAULT_MCHID = "1900000109"
"""The merchant id of development and tests (WeChat's documentation example); the simulator's default."""


@dataclass(frozen=True)
class PayKeys:
    """A directory of key material made by ``generate_pay_keys``; the ids are not secrets."""

    directory: Path
    merchant_serial_no: str
    public_key_id: str

    def path(self, name: str) -> Path:
        return self.directory / name

    def read(self, name: str) -> str:
        return self.path(name).read_text(encoding="utf-8").strip()

    def settings(self, *, mchid: str = DEFAULT_MCHID) -> dict[str, str]:
        """The backend's ``WECHATPAY_*`` settings for these keys (file names, never their contents)."""
        return {
            "WECHATPAY_MCHID": mchid,
            "WECHATPAY_MERCHANT_SERIAL_NO": self.merchant_serial_no,
            "WECHATPAY_MERCHANT_KEY_FILE": str(self.path(MERCHANT_KEY)),
            "WECHATPAY_APIV3_KEY_FILE": str(self.path(APIV3_KEY)),
            "WECHATPAY_PUBLIC_KEY_FILE": str(self.path(PLATFORM_PUBLIC_KEY)),
            "WECHATPAY_PUBLIC_KEY_ID": self.public_key_id,
        }


def _key_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def _write(path: Path, data: bytes, *, secret: bool) -> None:
    path.touch(mode=0o600 if secret else 0o644, exist_ok=True)
    path.chmod(0o600 if secret else 0o644)
    path.write_bytes(data)


def generate_pay_keys(directory: str | Path) -> PayKeys:
    """Fresh merchant and platform key pairs, APIv3 key and ids in ``directory`` (replacing any)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    merchant_private, merchant_public = _key_pair()
    platform_private, platform_public = _key_pair()
    apiv3_key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    keys = PayKeys(
        directory=folder,
        merchant_serial_no=secrets.token_hex(20).upper(),
        public_key_id="PUB_KEY_ID_01" + "".join(secrets.choice(string.digits) for _ in range(26)),
    )
    _write(folder / MERCHANT_KEY, merchant_private, secret=True)
    _write(folder / MERCHANT_PUBLIC_KEY, merchant_public, secret=False)
    _write(folder / PLATFORM_KEY, platform_private, secret=True)
    _write(folder / PLATFORM_PUBLIC_KEY, platform_public, secret=False)
    _write(folder / APIV3_KEY, apiv3_key.encode(), secret=True)
    ids = {"merchant_serial_no": keys.merchant_serial_no, "public_key_id": keys.public_key_id}
    _write(folder / IDS, json.dumps(ids, indent=2).encode(), secret=False)
    return keys


def load_pay_keys(directory: str | Path) -> PayKeys:
    """The keys ``generate_pay_keys`` wrote; ``FileNotFoundError`` when the directory is incomplete."""
    folder = Path(directory)
    missing = [name for name in ALL_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"WeChat Pay key directory {folder} lacks {', '.join(missing)}")
    ids = json.loads((folder / IDS).read_text(encoding="utf-8"))
    return PayKeys(folder, ids["merchant_serial_no"], ids["public_key_id"])


def ensure_pay_keys(directory: str | Path) -> PayKeys:
    """The keys in ``directory``, generated the first time (``make run`` keeps them across restarts)."""
    try:
        return load_pay_keys(directory)
    except FileNotFoundError:
        return generate_pay_keys(directory)
