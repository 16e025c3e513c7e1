"""WeChat Pay's daily trade bill (交易账单), type ALL, as the CSV WeChat's download serves.

The format (WeChat's 交易账单文件格式说明): a header line, one detail line per payment (by its success
time) and per refund (by the time WeChat accepted it) of the day in +08:00, then a summary header and
a summary line. Fields are separated by commas, every field of a detail or summary line starts with a
backtick (so that spreadsheets keep long numbers), amounts are in yuan with two decimals, lines end
in CRLF and the file starts with a UTF-8 byte-order mark, as downloads from WeChat do.

What the documentation leaves open, read here as: a refund line repeats its order's amounts in
应结订单金额 and 订单金额 (the summary's order totals count payment lines only), its 手续费 is the
returned fee, negative; the fee is 0.6 %, rounded half up to the fen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.wechat.simulator.protocol import CHINA
from app.wechat.simulator.state import BillPlant, PayOrder, PayRefund

HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)
SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
FEE_PER_MILLE = 6
BOM = "\ufeff"


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def fee(fen: int) -> int:
    """0.6 % of ``fen``, rounded half up."""
    return (abs(fen) * FEE_PER_MILLE + 500) // 1000 * (1 if fen >= 0 else -1)


@dataclass
class _Line:
    at: datetime
    kind: str  # "SUCCESS" or "REFUND"
    fields: dict[str, Any]


def _local(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _payment(at: datetime, amount: int, **fields: Any) -> _Line:
    """A payment line; ``fields``: appid, mchid, transaction_id, out_trade_no, openid, description, attach."""
    return _Line(at, "SUCCESS", {
        **fields, "time": _local(at), "settle": amount, "refund_id": "0", "out_refund_no": "0", "refund": 0,
        "refund_status": "", "refund_type": "", "fee": fee(amount), "total": amount, "apply_refund": 0,
    })


def _payment_line(order: PayOrder, amount: int) -> _Line:
    assert order.success_time is not None
    return _payment(order.success_time, amount, appid=order.appid, mchid=order.mchid,
                    transaction_id=order.transaction_id, out_trade_no=order.out_trade_no, openid=order.paid_openid,
                    description=order.description, attach=order.attach or "")


def _extra_line(day: date, extra: dict[str, Any], mchid: str, appid: str) -> _Line:
    """A payment WeChat has and we do not (planted): ``out_trade_no``, ``amount_fen``, optional others."""
    at = datetime.fromisoformat(extra.get("success_time") or f"{day.isoformat()}T12:00:00+08:00")
    return _payment(at, int(extra["amount_fen"]), appid=appid, mchid=mchid,
                    transaction_id=extra.get("transaction_id") or "4200009999" + day.strftime("%Y%m%d") + "0000000001",
                    out_trade_no=extra["out_trade_no"], openid=extra.get("openid") or "o-planted-payer",
                    description=extra.get("description") or "planted", attach="")


def _refund_line(refund: PayRefund, order: PayOrder) -> _Line:
    return _Line(refund.create_time, "REFUND", {
        "time": _local(refund.create_time), "appid": order.appid, "mchid": order.mchid,
        "transaction_id": refund.transaction_id, "out_trade_no": refund.out_trade_no, "openid": order.paid_openid,
        "settle": order.total, "refund_id": refund.refund_id, "out_refund_no": refund.out_refund_no,
        "refund": refund.refund, "refund_status": refund.status, "refund_type": "ORIGINAL",
        "description": order.description, "attach": order.attach or "", "fee": -fee(refund.refund),
        "total": order.total, "apply_refund": refund.refund,
    })


def _detail(line: _Line) -> str:
    f = line.fields
    values = [
        f["time"], f["appid"], f["mchid"], "0", "", f["transaction_id"], f["out_trade_no"], f["openid"], "JSAPI",
        line.kind, "OTHERS", "CNY", yuan(f["settle"]), "0.00", f["refund_id"], f["out_refund_no"], yuan(f["refund"]),
        "0.00", f["refund_type"], f["refund_status"], f["description"], f["attach"], yuan(f["fee"]),
        f"{FEE_PER_MILLE / 10:.2f}%", yuan(f["total"]), yuan(f["apply_refund"]), "",
    ]
    return ",".join("`" + str(v).replace(",", "，") for v in values)


def trade_bill(
    day: date,
    orders: Iterable[PayOrder],
    refunds: Iterable[PayRefund],
    plant: BillPlant | None,
    *,
    mchid: str,
    appid: str,
) -> str | None:
    """The day's ALL bill, or ``None`` when the day has no line (WeChat: NO_STATEMENT_EXIST)."""
    plant = plant or BillPlant()
    by_no = {order.out_trade_no: order for order in orders}
    lines = [
        _payment_line(order, plant.amounts.get(order.out_trade_no, order.total))
        for order in by_no.values()
        if order.success_time and order.success_time.astimezone(CHINA).date() == day
        and order.out_trade_no not in plant.omit
    ]
    lines += [_refund_line(r, by_no[r.out_trade_no]) for r in refunds if r.create_time.astimezone(CHINA).date() == day]
    lines += [_extra_line(day, extra, mchid, appid) for extra in plant.extra]
    if not lines:
        return None
    lines.sort(key=lambda line: line.at)
    paid = [line.fields for line in lines if line.kind == "SUCCESS"]
    refunded = [line.fields for line in lines if line.kind == "REFUND"]
    summary = [
        str(len(lines)),
        yuan(sum(f["settle"] for f in paid)),
        yuan(sum(f["refund"] for f in refunded)),
        "0.00",
        yuan(sum(line.fields["fee"] for line in lines)),
        yuan(sum(f["total"] for f in paid)),
        yuan(sum(f["apply_refund"] for f in refunded)),
    ]
    rows = [BOM + HEADER, *(_detail(line) for line in lines), SUMMARY_HEADER, ",".join("`" + v for v in summary)]
    return "\r\n".join(rows) + "\r\n"
