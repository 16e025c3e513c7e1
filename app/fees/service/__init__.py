"""Fees (缴费): keyword-only functions taking the actor; they flush, never commit. Callers write
``from app.fees import service``. The use-case modules, each importing only those below it:

* ``finance`` — fee items, issuing bills (roster or .xlsx, all-or-nothing), waive / adjust / refund a
  bill, finance's bill lists and the collection rate with its export.
* ``paying`` — the payer side: my bills, checkout of several bills as one payment (a fee order), the
  receipt, and how the payments signals end a fee order (``handlers`` calls these).
* ``access`` — who may see a bill (the student, their guardians, finance) and how bills are shown.
* ``lifecycle`` — the state machines of bills and orders, and their locks.
* ``notices`` — what the domain tells people (``fees.paid``, a subscribe-message template).
* ``errors`` — the domain's errors.
"""

from __future__ import annotations

from app.fees.service.errors import BillBusy, BillNotFound, ItemNotFound, NotPaid, NotPayable, StudentNotFound
from app.fees.service.finance import (
    IssueResult,
    adjust,
    admin_bills,
    collection,
    create_item,
    current_term,
    export_collection,
    get_item,
    issue,
    issue_sheet,
    list_items,
    parse_yuan,
    refund_bill,
    term_collection,
    waive,
)
from app.fees.service.paying import (
    bill,
    bill_refunded,
    checkout,
    my_bills,
    order_closed,
    order_paid,
    receipt_html,
)

__all__ = [
    "BillBusy",
    "BillNotFound",
    "IssueResult",
    "ItemNotFound",
    "NotPaid",
    "NotPayable",
    "StudentNotFound",
    "adjust",
    "admin_bills",
    "bill",
    "bill_refunded",
    "checkout",
    "collection",
    "create_item",
    "current_term",
    "export_collection",
    "get_item",
    "issue",
    "issue_sheet",
    "list_items",
    "my_bills",
    "order_closed",
    "order_paid",
    "parse_yuan",
    "receipt_html",
    "refund_bill",
    "term_collection",
    "waive",
]
