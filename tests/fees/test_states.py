"""Every bill status × what finance and the payer may do through the endpoints: only an unpaid bill is
waived, adjusted or checked out; anything else is a 409 that changes nothing. The demo data: 陈同学's
bills, and seeding again changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from app.core.db import db
from app.fees.models import FeeBill, FeeItem
from app.fees.states import BILL_TRANSITIONS, BillStatus
from app.seed import seed_demo
from tests.fees.conftest import bills, count

ACTIONS = {
    "waive": ("finance", lambda bid: (f"/api/v1/fees/bills/{bid}/waive", {"reason": "减免"})),
    "adjust": ("finance", lambda bid: (f"/api/v1/fees/bills/{bid}/adjust", {"amount_fen": 100, "reason": "调整"})),
    "checkout": ("parent", lambda bid: ("/api/v1/fees/checkouts", {"bill_ids": [bid]})),
}


@pytest.mark.parametrize("status", [s.value for s in BillStatus])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_only_an_unpaid_bill_is_waived_adjusted_or_checked_out(app, login, chen_bills, status, action):
    bid = chen_bills[0]
    db.session.execute(update(FeeBill).where(FeeBill.id == bid).values(status=status))
    db.session.commit()
    role, make = ACTIONS[action]
    url, body = make(bid)
    resp = login(role).post(url, json=body)
    allowed = (status, action) in BILL_TRANSITIONS
    assert allowed == (status == "unpaid")
    if allowed:
        assert resp.status_code == 200, resp.get_json()
    else:
        assert resp.status_code == 409, resp.get_json()
        after = bills([bid])[0]
        assert (after.status, after.amount_fen, after.order_id) == (status, 480000, None)


def test_the_demo_bills_are_seeded_once(app, demo):
    before = count(FeeBill), count(FeeItem)
    seed_demo()
    db.session.commit()
    assert (count(FeeBill), count(FeeItem)) == before == (9, 3)
    names = set(db.session.scalars(select(FeeItem.name).where(FeeItem.term == "2026秋")))
    assert names == {"学费", "住宿费", "教材费"}
    assert db.session.scalar(select(func.sum(FeeItem.amount_fen))) == 635650
