"""WeChat Pay's notifications: what it posts to a merchant's ``notify_url`` when an order is paid or a
refund ends, and how it delivers them.

The body is WeChat's envelope (``id``, ``create_time``, ``resource_type``, ``event_type``, ``summary``)
around the resource (the transaction, or the refund) encrypted with AEAD_AES_256_GCM under the APIv3
key, ``associated_data`` ``transaction`` or ``refund``. Every delivery carries the same body, signed
afresh with the platform key. A delivery answered with anything but 2xx is retried, as WeChat does
(WeChat waits 15 s, 15 s, 30 s, 3 min… over 24 h; the simulator a few quick tries). Deliveries run on
background threads and stop when the simulator is reset.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from datetime import datetime
from typing import Any

import requests
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core import clock
from app.wechat.simulator.protocol import pay_signature_headers, wechat_time
from app.wechat.simulator.state import PayCredentials, PayNotification, SimulatorState

RETRY_DELAYS = (0.2, 0.5, 1.0)
"""Pauses before the retries of a delivery that was not answered with a 2xx."""
DELIVERY_TIMEOUT = 5.0
SUMMARIES = {
    "TRANSACTION.SUCCESS": "支付成功",
    "REFUND.SUCCESS": "退款成功",
    "REFUND.ABNORMAL": "退款异常",
    "REFUND.CLOSED": "退款关闭",
}


def encrypt_resource(apiv3_key: str, resource: dict[str, Any], original_type: str) -> dict[str, str]:
    """``resource`` as WeChat encrypts it: AES-256-GCM, a 12-character nonce, ``associated_data`` the type."""
    nonce = secrets.token_urlsafe(9)[:12]
    plain = json.dumps(resource, ensure_ascii=False).encode()
    cipher = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plain, original_type.encode())
    return {
        "original_type": original_type,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(cipher).decode(),
        "associated_data": original_type,
        "nonce": nonce,
    }


def build_notification(
    credentials: PayCredentials,
    event_type: str,
    resource: dict[str, Any],
    *,
    notify_url: str,
    out_trade_no: str,
    out_refund_no: str | None = None,
    undecryptable: bool = False,
    created: datetime,
) -> PayNotification:
    """A notification of ``event_type`` (its resource encrypted under a stranger's key when
    ``undecryptable``), not yet sent."""
    original_type = "refund" if event_type.startswith("REFUND.") else "transaction"
    key = secrets.token_urlsafe(24)[:32] if undecryptable else credentials.apiv3_key
    body = {
        "id": str(uuid.uuid4()),
        "create_time": wechat_time(created),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": SUMMARIES[event_type],
        "resource": encrypt_resource(key, resource, original_type),
    }
    return PayNotification(
        id=body["id"],
        event_type=event_type,
        out_trade_no=out_trade_no,
        out_refund_no=out_refund_no,
        notify_url=notify_url,
        body=json.dumps(body, ensure_ascii=False),
    )


def notification_json(note: PayNotification) -> dict[str, Any]:
    return {
        "id": note.id,
        "event_type": note.event_type,
        "out_trade_no": note.out_trade_no,
        "out_refund_no": note.out_refund_no,
        "notify_url": note.notify_url,
        "status": note.status,
        "deliveries": list(note.deliveries),
        "body": note.body,
    }


def _deliver_once(state: SimulatorState, note: PayNotification, generation: int, tampering: str | None) -> None:
    """One copy of ``note``: post it, retrying after non-2xx answers, recording every attempt."""
    credentials = state.credentials.pay
    assert credentials is not None
    body = note.body.encode()
    for pause in (0.0, *RETRY_DELAYS):
        time.sleep(pause)
        if state.pay_generation != generation:
            return
        headers = pay_signature_headers(credentials, body, tampering)
        attempt: dict[str, Any] = {"at": clock.now().isoformat(), "headers": headers}
        try:
            answer = requests.post(note.notify_url, data=body, timeout=DELIVERY_TIMEOUT,
                                   headers={**headers, "Content-Type": "application/json"})
            attempt["status_code"] = answer.status_code
        except requests.RequestException as exc:
            attempt["error"] = type(exc).__name__
        with state.lock:
            if state.pay_generation != generation:
                return
            note.deliveries.append(attempt)
            if 200 <= attempt.get("status_code", 0) < 300:
                note.status = "delivered"
                return
    with state.lock:
        if state.pay_generation == generation and note.status != "delivered":
            note.status = "failed"


def send(
    state: SimulatorState,
    note: PayNotification,
    *,
    copies: int = 1,
    concurrent: bool = False,
    delay_seconds: float = 0.0,
    tampering: str | None = None,
) -> None:
    """Deliver ``copies`` copies of ``note`` from background threads, ``delay_seconds`` from now: one
    after the other, or all at the same instant when ``concurrent``."""
    generation = state.pay_generation
    with state.lock:
        note.status = "pending" if note.status == "held" else note.status

    def run_sequentially() -> None:
        time.sleep(delay_seconds)
        for _ in range(copies):
            _deliver_once(state, note, generation, tampering)

    def run_together() -> None:
        time.sleep(delay_seconds)
        barrier = threading.Barrier(copies)

        def copy() -> None:
            barrier.wait()
            _deliver_once(state, note, generation, tampering)

        threads = [threading.Thread(target=copy, name="wechatpay-notify", daemon=True) for _ in range(copies)]
        for thread in threads:
            thread.start()

    target = run_together if concurrent and copies > 1 else run_sequentially
    threading.Thread(target=target, name="wechatpay-notify", daemon=True).start()
