"""WeChat Pay notifications (20% twice, 5% out of order) and refunds, money reconciled.

``run(ctx)`` creates the payments through the payable contract (``request_payment`` and ``checkout``:
prepaid at the simulator), has the simulated payers pay them with the notification held, and posts the
notifications to the app's ``POST /api/v1/payments/notify`` itself, signed afresh with the simulator's
platform key, as WeChat posts them: every one once, 20% a second time, 5% moved later in the stream (out
of order). Two phases, each with its own payments:

* **steady** (the RESULT line): the notifications arrive at ``RATE`` per second whatever the answers
  (open loop, as WeChat sends them: a payment's notification does not wait for another's answer); each
  latency counts from the moment the post was due, so a queue that builds up is measured, not hidden.
  ``RATE`` = 150/s is far beyond a school's busiest hour (3,000 students paying a term's fees within the
  same hour is < 1/s);
* **stress** (printed): ``ctx.users`` senders post back to back (closed loop) — the endpoint's
  capacity on this machine, and the latency when 50 posts are always waiting.

Two RQ workers apply. Then one payment in ten is partly refunded (submitted by the workers, ended at
the simulator, whose REFUND.SUCCESS notifications go to gunicorn). ``verify`` checks that money
reconciles: every payment final, one ledger row per payment and per refund, the ledger's sum = paid −
refunded.
"""

from __future__ import annotations

import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.core import clock
from app.core.db import db
from app.payments import service
from app.payments.models import LedgerEntry, Payment, PayNotification, Refund
from app.users.models import User
from app.wechat.paykeys import DEFAULT_MCHID
from app.wechat.simulator.pay import load_pay_credentials
from app.wechat.simulator.protocol import pay_signature_headers
from app.wechat.simulator_control import SimulatorControl

WORKERS = 2
FULL, SMOKE = 1000, 40  # payments per phase
RATE = 150.0  # steady phase: notification posts per second
PAYERS = 50
PREFIX = "bench-pay"
TIMEOUT = 180.0
FINAL = ("paid", "partially_refunded", "refunded")


def _count(ctx) -> int:
    return FULL if ctx.duration > 6 else SMOKE


def seed(ctx) -> None:
    db.session.execute(insert(User).values([{"openid": f"{PREFIX}-{i}"} for i in range(PAYERS)])
                       .on_conflict_do_nothing(index_elements=["openid"]))


def _payers() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.openid.like(f"{PREFIX}-%")).order_by(User.id)))


def _wait(condition, what: str) -> None:
    deadline = time.perf_counter() + TIMEOUT
    while time.perf_counter() < deadline:
        db.session.rollback()  # see the workers' commits
        if condition():
            return
        time.sleep(0.2)
    print(f"pay: gave up waiting for {what}", flush=True)


def _percentiles(latencies: list[float]) -> dict[str, float]:
    q = statistics.quantiles(sorted(latencies), n=100, method="inclusive")
    return {"p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1)}


def _payments(count: int, first_biz_id: int) -> list[int]:
    payers = _payers()
    expires = clock.now() + timedelta(hours=2)
    ids = [service.request_payment(biz_type="bench", biz_id=first_biz_id + i, amount_fen=100 + i % 900,
                                   description="压测缴费", payer=payers[i % len(payers)], expires_at=expires)
           for i in range(count)]
    db.session.commit()
    for payment_id in ids:
        service.checkout(actor=None, payment_id=payment_id)
    db.session.commit()
    return ids


def _signed_stream(ctx, sim: SimulatorControl, ids: list[int], seed: int) -> list[tuple[bytes, dict[str, str]]]:
    """The payments paid at the simulator with their notifications held, in the order WeChat would post
    them: 20% twice, 5% late; signed before any clock starts (well within the ±5 min WeChat allows: RSA
    signing in the sender threads would otherwise be measured as the endpoint's latency)."""
    notes = [sim.pay_order(db.session.get(Payment, payment_id).out_trade_no, notify="hold")["notification_id"]
             for payment_id in ids]
    by_id = {n["id"]: n["body"] for n in sim.pay_notifications(event_type="TRANSACTION.SUCCESS")}
    stream = [by_id[i] for i in notes]
    rng = random.Random(seed)
    stream += rng.sample(stream, len(stream) // 5)  # 20% delivered twice
    rng.shuffle(stream)
    for _ in range(max(1, len(stream) // 20)):  # 5% moved to the end: out of order
        stream.append(stream.pop(rng.randrange(len(stream))))
    credentials = load_pay_credentials(ctx.pay_settings["WECHATPAY_MERCHANT_KEY_FILE"].rsplit("/", 1)[0],
                                       DEFAULT_MCHID)
    return [(body.encode(), {**pay_signature_headers(credentials, body.encode(), None),
                             "Content-Type": "application/json"}) for body in stream]


def _sender(ctx):
    url = f"{ctx.base_url}/api/v1/payments/notify"
    session = requests.Session()  # kept-alive connections, as WeChat's senders keep theirs
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=max(64, ctx.users)))

    def post(request: tuple[bytes, dict[str, str]], due: float | None = None) -> tuple[float, int]:
        data, headers = request
        started = time.perf_counter()
        if due is not None:  # open loop: wait for the post's moment, then count from it
            if due > started:
                time.sleep(due - started)
            started = due
        status = session.post(url, data=data, headers=headers, timeout=30).status_code
        return (time.perf_counter() - started) * 1000, status

    return post


def _steady(ctx, signed) -> tuple[list[tuple[float, int]], float]:
    post = _sender(ctx)
    start = time.perf_counter() + 0.5
    with ThreadPoolExecutor(64) as pool:
        results = list(pool.map(lambda item: post(item[1], start + item[0] / RATE), enumerate(signed)))
    return results, time.perf_counter() - start


def _stress(ctx, signed) -> tuple[list[tuple[float, int]], float]:
    post = _sender(ctx)
    started = time.perf_counter()
    with ThreadPoolExecutor(max(2, ctx.users)) as pool:
        results = list(pool.map(post, signed))
    return results, time.perf_counter() - started


def _all_applied() -> None:
    _wait(lambda: db.session.scalar(select(func.count()).select_from(Payment).where(Payment.status == "created")) == 0,
          "every payment applied")


def run(ctx) -> dict:
    count = _count(ctx)
    sim = SimulatorControl(ctx.simulator_url)
    steady_ids = _payments(count, 0)
    steady, elapsed = _steady(ctx, _signed_stream(ctx, sim, steady_ids, 12))
    _all_applied()
    stress_ids = _payments(count, count)
    stress, stress_elapsed = _stress(ctx, _signed_stream(ctx, sim, stress_ids, 13))
    _all_applied()
    figures = _percentiles([ms for ms, _ in stress])
    print(f"pay: stress, {max(2, ctx.users)} senders back to back: {len(stress)} posts, "
          f"{len(stress) / stress_elapsed:.1f} posts/s, p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
          f"p99 {figures['p99_ms']} ms", flush=True)

    ids = steady_ids + stress_ids
    refunded = ids[::10]
    for payment_id in refunded:
        payment = db.session.get(Payment, payment_id)
        service.refund(actor=None, payment_id=payment_id, amount_fen=payment.amount_fen // 2, reason="压测退款")
    db.session.commit()
    _wait(lambda: db.session.scalar(select(func.count()).select_from(Refund).where(Refund.status == "pending")) == 0,
          "every refund submitted")
    for out_refund_no in db.session.scalars(select(Refund.out_refund_no)):
        sim.end_refund(out_refund_no)
    _wait(lambda: db.session.scalar(select(func.count()).select_from(Refund).where(Refund.status != "succeeded")) == 0,
          "every refund ended")
    print(f"pay: steady at {RATE:g}/s: {len(steady)} notification posts ({count} payments); "
          f"{len(refunded)} refunds", flush=True)
    failures = sum(1 for _, status in steady + stress if status >= 300)
    return {"rps": len(steady) / elapsed, "requests": len(steady), "failures": failures,
            **_percentiles([ms for ms, _ in steady])}


def verify(ctx) -> list[str]:
    db.session.rollback()
    problems = []
    open_ = db.session.scalar(select(func.count()).select_from(Payment).where(Payment.status.not_in(FINAL)))
    if open_:
        problems.append(f"{open_} payments not final")
    unapplied = db.session.scalar(select(func.count()).select_from(PayNotification)
                                  .where(PayNotification.applied_at.is_(None)))
    if unapplied:
        problems.append(f"{unapplied} notifications never applied")
    paid = db.session.scalar(select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(Payment.status.in_(FINAL)))
    refunded = db.session.scalar(select(func.coalesce(func.sum(Payment.refunded_fen), 0)))
    ledger = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)))
    if ledger != paid - refunded:
        problems.append(f"ledger {ledger} fen != paid {paid} − refunded {refunded}")
    rows = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    expected = db.session.scalar(select(func.count()).select_from(Payment).where(Payment.status.in_(FINAL))) + \
        db.session.scalar(select(func.count()).select_from(Refund).where(Refund.status == "succeeded"))
    if rows != expected:
        problems.append(f"{rows} ledger rows, expected {expected}")
    return problems
