"""A small client for the simulator's ``/__sim__/`` control API.

Tests (ours and the domains') and the dev seed use it to set the stage (register codes, grant
subscribe quota, inject faults, make a user pay) and to read what the backend sent, over HTTP, so they
work the same whether the simulator runs in a thread of the test process or as its own process.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal

import requests


class SimulatorControl:
    """Drives one simulator; ``base_url`` is the same URL the wechatpy clients are given."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/") + "/__sim__/"
        self.timeout = timeout
        self._http = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        res = self._http.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        res.raise_for_status()
        return res.json()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "health")

    def reset(self) -> None:
        """Forget codes, tokens, quota, messages, faults, call counts, WeChat Pay orders, refunds and
        notifications (deliveries under way stop); modes back to their defaults."""
        self._call("POST", "reset")

    def configure(self, *, lenient_quota: bool | None = None, strict_templates: bool | None = None) -> dict[str, bool]:
        flags = {"lenient_quota": lenient_quota, "strict_templates": strict_templates}
        return self._call("POST", "config", json={k: v for k, v in flags.items() if v is not None})

    def register_login_code(self, code: str | None = None, **identity: Any) -> dict[str, Any]:
        """A single-use ``wx.login`` code; ``identity`` may set openid, unionid (None: none), session_key, phone."""
        return self._call("POST", "login-codes", json={"code": code, **identity} if code else identity)

    def register_phone_code(self, phone: str, code: str | None = None, country_code: str = "86") -> str:
        """A single-use ``getPhoneNumber`` code answering ``phone``; returns the code."""
        body = {"phone": phone, "country_code": country_code, **({"code": code} if code else {})}
        return self._call("POST", "phone-codes", json=body)["code"]

    def register_template(self, template_id: str, keys: list[str] | tuple[str, ...] = ()) -> None:
        """A known template; ``keys`` become required data keys (needed in ``strict_templates`` mode)."""
        self._call("POST", "templates", json={"template_id": template_id, "keys": list(keys)})

    def grant_subscription(self, openid: str, template_id: str, count: int = 1) -> int:
        """What the user's ``wx.requestSubscribeMessage`` "accept" does; returns the remaining quota."""
        body = {"openid": openid, "template_id": template_id, "count": count}
        return self._call("POST", "subscriptions", json=body)["remaining"]

    def subscriptions(self, openid: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "subscriptions", params={"openid": openid} if openid else None)["subscriptions"]

    def subscribe_messages(self, openid: str | None = None, template_id: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in {"openid": openid, "template_id": template_id}.items() if v}
        return self._call("GET", "subscribe-messages", params=params)["messages"]

    def wecom_messages(self, touser: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "wecom-messages", params={"touser": touser} if touser else None)["messages"]

    def register_wecom_users(self, *userids: str) -> None:
        """Once any is registered, messages to other UserIDs come back in ``invaliduser`` (or 81013)."""
        self._call("POST", "wecom-users", json={"userids": list(userids)})

    def register_pages(self, *pages: str) -> None:
        """The published pages; once any is registered, codes for other pages answer 41030 (check_path)."""
        self._call("POST", "pages", json={"pages": list(pages)})

    def inject_fault(
        self,
        path: str,
        *,
        count: int = 1,
        errcode: int | None = None,
        errmsg: str | None = None,
        http_status: int | None = None,
        delay_seconds: float = 0.0,
    ) -> None:
        """Make the next ``count`` calls to ``path`` (e.g. ``/cgi-bin/token``) fail or come late."""
        body = {
            "path": path,
            "count": count,
            "errcode": errcode,
            "errmsg": errmsg,
            "http_status": http_status,
            "delay_seconds": delay_seconds,
        }
        self._call("POST", "faults", json=body)

    def inject_pay_error(
        self, path: str, code: str, *, http_status: int = 400, message: str | None = None, count: int = 1
    ) -> None:
        """Make the next ``count`` calls to a WeChat Pay path answer ``{"code", "message"}`` with
        ``http_status`` (e.g. ``/v3/refund/domestic/refunds``, ``NOT_ENOUGH``, 403)."""
        body = {"path": path, "count": count, "code": code, "message": message, "http_status": http_status}
        self._call("POST", "faults", json=body)

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def invalidate_tokens(self, mode: Literal["invalid", "expired"] = "invalid") -> int:
        """Every token issued so far answers 40001 ("invalid") or 42001 ("expired") from now on."""
        return self._call("POST", "tokens/invalidate", json={"mode": mode})["invalidated"]

    def calls(self) -> dict[str, int]:
        """How many protocol calls each path received (control calls are not counted)."""
        return self._call("GET", "calls")["calls"]

    def peak_in_flight(self) -> int:
        """The most protocol calls that were in progress at the same time since the last reset."""
        return self._call("GET", "calls")["peak_in_flight"]

    # --- WeChat Pay -------------------------------------------------------------------------------

    @staticmethod
    def _delivery(notify: str, copies: int, concurrent: bool, delay_seconds: float,
                  tampering: str | None) -> dict[str, Any]:
        return {"notify": notify, "copies": copies, "concurrent": concurrent, "delay_seconds": delay_seconds,
                "tampering": tampering}

    def pay_order(
        self,
        out_trade_no: str,
        *,
        notify: Literal["send", "hold", "never"] = "send",
        copies: int = 1,
        concurrent: bool = False,
        delay_seconds: float = 0.0,
        tampering: str | None = None,
        amount_fen: int | None = None,
        appid: str | None = None,
        mchid: str | None = None,
        success_time: datetime | None = None,
    ) -> dict[str, Any]:
        """The payer pays the order in ``wx.requestPayment``. The TRANSACTION.SUCCESS notification is
        sent (``copies`` times, one after another or ``concurrent``ly, ``delay_seconds`` late), held
        (``send_pay_notification`` sends it) or never sent; ``tampering`` spoils it (missing_signature,
        forged_signature, stale_timestamp, unknown_serial, wrong_signature_type, undecryptable);
        ``amount_fen`` makes it state another amount, ``appid`` / ``mchid`` another account. Answers
        ``{"order", "notification_id"}``."""
        body = self._delivery(notify, copies, concurrent, delay_seconds, tampering)
        body.update(amount_fen=amount_fen, appid=appid, mchid=mchid,
                    success_time=success_time.isoformat() if success_time else None)
        return self._call("POST", f"pay/orders/{out_trade_no}/pay", json=body)

    def pay_prepay(self, prepay_id: str, *, notify: Literal["send", "hold", "never"] = "send") -> dict[str, Any]:
        """What ``wx.requestPayment`` does with ``package=prepay_id=…``: the payer pays the order of that
        prepay id (the mini-program's end-to-end tests go through it). Answers as ``pay_order``."""
        body = self._delivery(notify, 1, False, 0.0, None)
        return self._call("POST", f"pay/prepays/{prepay_id}/pay", json=body)

    def pay_order_state(self, out_trade_no: str) -> dict[str, Any]:
        """The order as the simulator holds it (WeChat's query fields and what prepay asked)."""
        return self._call("GET", f"pay/orders/{out_trade_no}")

    def end_refund(
        self,
        out_refund_no: str,
        status: Literal["SUCCESS", "ABNORMAL", "CLOSED"] = "SUCCESS",
        *,
        notify: Literal["send", "hold", "never"] = "send",
        copies: int = 1,
        concurrent: bool = False,
        delay_seconds: float = 0.0,
        tampering: str | None = None,
    ) -> dict[str, Any]:
        """A PROCESSING refund ends; REFUND.<status> is delivered as ``pay_order`` delivers.
        Answers ``{"refund", "notification_id"}``."""
        body = {"status": status, **self._delivery(notify, copies, concurrent, delay_seconds, tampering)}
        return self._call("POST", f"pay/refunds/{out_refund_no}/end", json=body)

    def pay_notifications(self, **filters: str) -> list[dict[str, Any]]:
        """Notifications made so far (``id``, ``event_type``, ``status``, ``deliveries``, ``body``…),
        filtered by out_trade_no, out_refund_no, event_type or status."""
        return self._call("GET", "pay/notifications", params=filters)["notifications"]

    def send_pay_notification(self, notification_id: str, *, copies: int = 1, concurrent: bool = False,
                              delay_seconds: float = 0.0, tampering: str | None = None) -> None:
        """Send a held notification, or a sent one again (same id and body, signed afresh)."""
        body = {"copies": copies, "concurrent": concurrent, "delay_seconds": delay_seconds, "tampering": tampering}
        self._call("POST", f"pay/notifications/{notification_id}/send", json=body)

    def wait_pay_deliveries(self, notification_id: str, attempts: int = 1, timeout: float = 5.0) -> dict[str, Any]:
        """The notification once it has been posted ``attempts`` times (answered or not); ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [n for n in self.pay_notifications() if n["id"] == notification_id]
            if found and len(found[0]["deliveries"]) >= attempts:
                return found[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"notification {notification_id} not posted {attempts} times in {timeout} s")
            time.sleep(0.05)

    def plant_bill_mismatch(
        self,
        bill_date: date,
        *,
        omit: Iterable[str] = (),
        extra: Iterable[Mapping[str, Any]] = (),
        amounts: Mapping[str, int] | None = None,
        corrupt_hash: bool = False,
    ) -> dict[str, Any]:
        """Make the day's trade bill disagree with the orders: leave orders out, add payments only WeChat
        has (``{"out_trade_no", "amount_fen"}``), state other amounts, or announce a wrong SHA1."""
        body = {"omit": list(omit), "extra": [dict(e) for e in extra], "amounts": dict(amounts or {}),
                "corrupt_hash": corrupt_hash}
        return self._call("POST", f"pay/bills/{bill_date.isoformat()}/plant", json=body)

    def tamper_pay_answers(self, tampering: str, count: int = 1) -> None:
        """Spoil the signature of the next ``count`` WeChat Pay answers (missing_signature, forged_signature,
        stale_timestamp, unknown_serial, wrong_signature_type)."""
        self._call("POST", "pay/tamper-answers", json={"tampering": tampering, "count": count})
