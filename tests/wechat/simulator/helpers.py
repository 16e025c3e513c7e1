"""Plain HTTP and stock wechatpy against the simulator: what its protocol tests speak (WeChat Pay's
signed requests included, written here without the SDK)."""

from __future__ import annotations

import base64
import json
import secrets
import time

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from wechatpy.client import WeChatClient

from app.wechat.paykeys import APIV3_KEY, MERCHANT_KEY, PLATFORM_PUBLIC_KEY, PayKeys
from tests.wechat.constants import APP_ID, APP_SECRET, MCHID


def get(sim_url: str, path: str, **params: str) -> dict:
    return requests.get(sim_url + path, params=params, timeout=5).json()


def post(sim_url: str, path: str, token: str, body: dict) -> requests.Response:
    return requests.post(sim_url + path, params={"access_token": token}, json=body, timeout=5)


def mp_token(sim_url: str) -> str:
    return get(sim_url, "cgi-bin/token", grant_type="client_credential", appid=APP_ID, secret=APP_SECRET)[
        "access_token"
    ]


def stock_wechatpy(sim_url: str) -> WeChatClient:
    """Unmodified wechatpy (token handed in, bases set on the instance): proves wire compatibility."""
    client = WeChatClient(APP_ID, APP_SECRET, access_token=mp_token(sim_url), timeout=5)
    client.API_BASE_URL = sim_url + "cgi-bin/"
    client.wxa.API_BASE_URL = sim_url
    return client


class PayHttp:
    """Plain HTTP to the simulator's WeChat Pay, signed as a merchant signs (no SDK): proves the wire."""

    def __init__(self, sim_url: str, keys: PayKeys, mchid: str = MCHID) -> None:
        self.base = sim_url.rstrip("/")
        self.keys = keys
        self.mchid = mchid
        self._merchant_key = load_pem_private_key(keys.read(MERCHANT_KEY).encode(), password=None,
                                                  unsafe_skip_rsa_key_validation=True)  # our own fresh key
        self._platform_public = load_pem_public_key(keys.read(PLATFORM_PUBLIC_KEY).encode())

    def authorization(self, method: str, target: str, body: str, *, timestamp: int | None = None,
                      serial: str | None = None) -> str:
        stamp, nonce = str(timestamp or int(time.time())), secrets.token_hex(16)
        message = f"{method}\n{target}\n{stamp}\n{nonce}\n{body}\n".encode()
        signature = base64.b64encode(self._merchant_key.sign(message, padding.PKCS1v15(), SHA256())).decode()
        return (f'WECHATPAY2-SHA256-RSA2048 mchid="{self.mchid}",nonce_str="{nonce}",signature="{signature}",'
                f'timestamp="{stamp}",serial_no="{serial or self.keys.merchant_serial_no}"')

    def call(self, method: str, target: str, body: dict | None = None, *, authorization: str | None = None,
             sent_body: str | None = None) -> requests.Response:
        """``target`` is the path and query as signed; ``sent_body`` replaces the signed body on the wire."""
        text = json.dumps(body) if body is not None else ""
        headers = {"Authorization": authorization or self.authorization(method, target, text),
                   "Content-Type": "application/json", "Accept": "application/json"}
        data = (sent_body if sent_body is not None else text).encode()
        return requests.request(method, self.base + target, data=data, headers=headers, timeout=5)

    def verified(self, response: requests.Response) -> bool:
        """Whether the answer is signed by the platform key under its public key id."""
        h = response.headers
        if h.get("Wechatpay-Serial") != self.keys.public_key_id or \
                h.get("Wechatpay-Signature-Type") != "WECHATPAY2-SHA256-RSA2048":
            return False
        message = f"{h['Wechatpay-Timestamp']}\n{h['Wechatpay-Nonce']}\n".encode() + response.content + b"\n"
        try:
            self._platform_public.verify(base64.b64decode(h["Wechatpay-Signature"]), message, padding.PKCS1v15(),
                                         SHA256())
        except InvalidSignature:
            return False
        return True

    def prepay(self, out_trade_no: str, notify_url: str, total: int = 1000, **extra: object) -> requests.Response:
        body = {"appid": APP_ID, "mchid": self.mchid, "description": "食堂订餐", "out_trade_no": out_trade_no,
                "notify_url": notify_url, "amount": {"total": total, "currency": "CNY"},
                "payer": {"openid": "o-sim-payer"}, **extra}
        return self.call("POST", "/v3/pay/transactions/jsapi", body)

    def refund(self, out_trade_no: str, out_refund_no: str, refund: int, total: int = 1000) -> requests.Response:
        body = {"out_trade_no": out_trade_no, "out_refund_no": out_refund_no,
                "amount": {"refund": refund, "total": total, "currency": "CNY"}}
        return self.call("POST", "/v3/refund/domestic/refunds", body)

    def decrypt(self, notification: dict) -> dict:
        resource = notification["resource"]
        plain = AESGCM(self.keys.read(APIV3_KEY).encode()).decrypt(
            resource["nonce"].encode(), base64.b64decode(resource["ciphertext"]), resource["associated_data"].encode())
        return json.loads(plain)
