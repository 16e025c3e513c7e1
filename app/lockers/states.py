"""Compartments and parcels: statuses, actions, transition tables, labels and policy (pure data).

Roles relative to a parcel: ``recipient`` (and ``proxy``, someone the recipient shared it with),
``system`` (door events from the bank's controller), beside the global ``courier`` and ``admin``
(station staff)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from app.core.statemachine import Labels, t


class Size(StrEnum):
    S = "S"
    M = "M"
    L = "L"


class Compartment(StrEnum):
    FREE = "free"
    RESERVED = "reserved"  # held for a deposit whose door is open
    OCCUPIED = "occupied"  # a parcel inside
    OUT_OF_SERVICE = "out_of_service"  # its door failed: a repair report is open


class Parcel(StrEnum):
    DEPOSITING = "depositing"  # compartment held, door opened for the courier
    STORED = "stored"  # in a compartment, or on the counter's shelf: a pickup code is valid
    PICKED_UP = "picked_up"
    TO_RETURN = "to_return"  # uncollected after RETURN_AFTER: the code no longer works, the courier takes it back
    RETURNED = "returned"  # back with the courier


class Storage(StrEnum):
    LOCKER = "locker"
    COUNTER = "counter"  # 驿站: the bank was full


SYSTEM, RECIPIENT, PROXY = "system", "recipient", "proxy"
STAFF = ("admin",)
DEPOSITORS = ("courier", "admin")

C, P = Compartment, Parcel
COMPARTMENT_TRANSITIONS = {
    (C.FREE, "reserve"): t(C.RESERVED, SYSTEM),
    (C.RESERVED, "fill"): t(C.OCCUPIED, SYSTEM, repeatable=True),
    (C.RESERVED, "release"): t(C.FREE, SYSTEM),
    (C.RESERVED, "fail"): t(C.OUT_OF_SERVICE, SYSTEM, repeatable=True),
    (C.OCCUPIED, "fail"): t(C.OUT_OF_SERVICE, SYSTEM, repeatable=True),
    (C.OCCUPIED, "empty"): t(C.FREE, SYSTEM),
    (C.OUT_OF_SERVICE, "restore"): t(C.FREE, *STAFF),
    # mended with a parcel still inside (its door failed at pickup): back to holding it, the code works again
    (C.OUT_OF_SERVICE, "restore_held"): t(C.OCCUPIED, *STAFF),
}
COMPARTMENT_LABELS = Labels("格口", {C.FREE: "空闲", C.RESERVED: "已预留", C.OCCUPIED: "有件",
                                   C.OUT_OF_SERVICE: "停用"},
                            {"reserve": "预留", "fill": "存入", "fail": "停用", "empty": "清空", "restore": "恢复",
                             "restore_held": "恢复（包裹仍在柜内）", "release": "释放"})

PARCEL_TRANSITIONS = {
    (P.DEPOSITING, "store"): t(P.STORED, SYSTEM, repeatable=True),
    (P.STORED, "pick_up"): t(P.PICKED_UP, SYSTEM, *STAFF, repeatable=True),
    (P.STORED, "expire"): t(P.TO_RETURN, SYSTEM, repeatable=True),
    (P.TO_RETURN, "return"): t(P.RETURNED, SYSTEM, *DEPOSITORS, repeatable=True),
}
PARCEL_LABELS = Labels("包裹", {P.DEPOSITING: "投递中", P.STORED: "待取件", P.PICKED_UP: "已取件",
                                P.TO_RETURN: "待退回", P.RETURNED: "已退回"},
                       {"store": "入柜", "pick_up": "取件", "expire": "转为退回", "return": "退回"})

OPEN_PARCELS = (P.DEPOSITING, P.STORED, P.TO_RETURN)
"""A tracking number is unique among these (not yet collected)."""

DOOR_EVENTS = ("opened", "closed", "failed")
DOOR_FAULTS = ("door_jammed", "timeout", "offline")
REPAIR_CATEGORY = "lockers"
"""The repairs catalogue's 快递柜 category: door faults are reported under it."""

REMINDER_TIMER = "lockers.reminder"
RETURN_TIMER = "lockers.return"
REMIND_AFTER = timedelta(hours=24)
"""A parcel still waiting this long after it was stored: the recipient is reminded, once."""
RETURN_AFTER = timedelta(days=3)
"""A parcel still waiting this long goes back to the sender: its code stops working, the courier is told."""

FEE_BIZ_TYPE = "lockers.fee"
"""The payable contract's ``biz_type`` of an overdue fee (``biz_id``: the parcel)."""
FEE_FREE = timedelta(hours=18)
FEE_STEP = timedelta(hours=12)
FEE_STEP_FEN = 50
FEE_CAP_FEN = 300


def overdue_fee(stored_at: datetime, now: datetime) -> int:
    """The overdue fee in fen: free for ``FEE_FREE`` after the parcel was stored, then ``FEE_STEP_FEN`` for
    each ``FEE_STEP`` begun, at most ``FEE_CAP_FEN`` (18 h: ¥0; 18 h + 1 s: ¥0.5; 30 h + 1 s: ¥1 …; ¥3)."""
    overdue = now - stored_at - FEE_FREE
    if overdue <= timedelta(0):
        return 0
    steps = -(-overdue // FEE_STEP)  # ceil
    return min(FEE_CAP_FEN, steps * FEE_STEP_FEN)


PARCELS_PAGE = "packageLockers/pages/parcels/parcels"
"""The mini-program's 我的快递, where the messages about a parcel lead."""

RECIPIENT_MATCHES = 10
"""A courier's recipient search shows at most this many people (never the roster)."""
PICKUP_CODE_LINK = "parcel-pickup?code={code}"
"""The link (under ``WECHAT_QR_LINK_BASE``) a parcel's pickup QR carries; the station scans it."""

PICKUP_CODE_DIGITS = 6
CODE_ATTEMPTS = 10
CODE_ATTEMPT_WINDOW_SECONDS = 600
"""Wrong codes typed at one bank within the window before its keypad is refused (429) for a while."""

# --- peak days (the capacity view, ``service.peak``) ----------------------------------------------------------

TYPICAL_PICKUP_AFTER = timedelta(hours=4)
"""A parcel whose message suggested no slot is expected to be collected this long after it was stored."""
RELEASE_HORIZON_HOURS = 12
"""The capacity view expects releases for the current hour and the next ones, this many in all."""
