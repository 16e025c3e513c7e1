"""Lockers: banks and their compartments, the capacity view, a courier's deposit, the controller's door
events, pickup by code at the locker or from the mini-program, sharing a parcel with a proxy. Keyword-only
functions taking the actor; they flush, never commit (the entry point owns the transaction).

**Compartments are units** of ``app.core.allocation``: ``take_unit`` (``SELECT … FOR UPDATE SKIP
LOCKED``) holds one free compartment of the size for the parcel (``holder_key = parcel:<id>``), so two
couriers never get the same one; ``release_unit`` frees it when the door closes after the pickup.

**Doors**: opening is asked of the bank's controller (``app.devices``) inside the transaction; its door
events arrive later, signed, naming the transaction (``Parcel.door_txn``). An event for a transaction
not committed yet answers 409 and the controller sends it again. ``failed`` takes the compartment out
of service, opens a repair report (repairs' 快递柜 category, at the bank's place, on behalf of the person
at the door) and, for a deposit, holds another compartment and opens it — or, none left, puts the parcel
on the counter (驿站). Every door event is audited on the compartment.

The use-case modules, each importing only those below it (import-linter checks it):

* ``banks``, ``doors``, ``pickup``, ``returns`` — banks, the capacity view, a bank's compartments and staff
  restoring one; what controllers tell us (heartbeats, door events); collecting (keypad code, mini-program,
  the pickup QR, proxy, the counter's waiting parcels and hand-over); reminders, return to sender, a
  courier's parcels to take back and taking one back.
* ``install`` — a new bank with its compartments by size and its controller's secret (shown once).
* ``staff``, ``peak`` — what station staff watch (compartments live, parcels waiting and overdue, door
  faults, fees collected); compartments expected to become free per coming hour (peak days).
* ``deposit``, ``fees`` — a courier's recipient search and deposit; a payment of the overdue fee.
* ``views`` — a parcel as its recipient sees it (the fee due now), who may see one.
* ``lifecycle`` — the state machines and the moves everyone shares (hold and open, store, counter, a failed door).
* ``slots`` — the pickup slot a stored parcel's message suggests (the least-loaded half hour).
* ``errors``.
"""

from __future__ import annotations

from app.lockers.service.banks import capacity, compartments, create_bank, restore
from app.lockers.service.deposit import deposit, find_recipient, search_recipients
from app.lockers.service.doors import authenticate, door_event, heartbeat
from app.lockers.service.errors import (
    AtCounter,
    BankExists,
    BankNotFound,
    BankOffline,
    CodeNotFound,
    CompartmentNotFound,
    DuplicateTrackingNo,
    FeeDue,
    NoCode,
    ParcelNotFound,
    RecipientAmbiguous,
    RecipientNotFound,
    TooManyAttempts,
    UnknownTxn,
)
from app.lockers.service.fees import fee_paid
from app.lockers.service.install import Installed, add_bank
from app.lockers.service.lifecycle import DEVICE_KIND, compartment_machine, parcel_machine
from app.lockers.service.peak import expected_releases
from app.lockers.service.pickup import counter_parcels, hand_over, open_for_me, parcel_qr, pickup_by_code, share
from app.lockers.service.returns import collect_return, expire, remind, to_return
from app.lockers.service.staff import (
    PARCEL_FILTERS,
    bank_grid,
    door_faults,
    fees_collected,
    list_parcels,
    require_staff,
)
from app.lockers.service.views import ParcelView, fee_due, my_parcels, view

__all__ = [
    "DEVICE_KIND",
    "PARCEL_FILTERS",
    "AtCounter",
    "BankExists",
    "BankNotFound",
    "BankOffline",
    "CodeNotFound",
    "CompartmentNotFound",
    "DuplicateTrackingNo",
    "FeeDue",
    "Installed",
    "NoCode",
    "ParcelNotFound",
    "ParcelView",
    "RecipientAmbiguous",
    "RecipientNotFound",
    "TooManyAttempts",
    "UnknownTxn",
    "add_bank",
    "authenticate",
    "bank_grid",
    "capacity",
    "collect_return",
    "compartment_machine",
    "compartments",
    "counter_parcels",
    "create_bank",
    "deposit",
    "door_event",
    "door_faults",
    "expected_releases",
    "expire",
    "fee_due",
    "fee_paid",
    "fees_collected",
    "find_recipient",
    "hand_over",
    "heartbeat",
    "list_parcels",
    "my_parcels",
    "open_for_me",
    "parcel_qr",
    "parcel_machine",
    "pickup_by_code",
    "remind",
    "require_staff",
    "restore",
    "search_recipients",
    "share",
    "to_return",
    "view",
]
