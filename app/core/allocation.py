"""Allocation: taking from something finite without ever handing out more than there is.

Two shapes of the same problem (issue 13), one module for every domain:

* **A counted stock** (a dish's portions of one meal; seats of a session): ``Stock`` holds ``total`` and
  ``remaining`` (a CHECK keeps ``0 <= remaining``). ``take(stock_id, n, key=…)`` subtracts with one
  conditional update — ``UPDATE … SET remaining = remaining - :n WHERE id = :id AND remaining >= :n`` —
  so two takes of the last portion at once cannot both succeed, and writes an ``Allocation`` row keyed
  by the caller's idempotency key (unique): a retried take with the same key answers the first one and
  takes nothing more. ``give_back(key)`` marks that row released and adds its quantity back, once: a
  second give-back (a retried timer, a cancel racing the expiry) does nothing.
* **One unit of a kind** (a locker compartment of a size; a numbered seat): the domain's own table of
  units with a ``holder_key`` column (NULL = free). ``take_unit(model, *where, key=…)`` locks one free
  unit with ``SELECT … FOR UPDATE SKIP LOCKED LIMIT 1`` (concurrent takers each get a different unit,
  none waits) and sets its ``holder_key``; the same key again answers the unit it holds.
  ``release_unit(model, key)`` frees it, once.

Both flush and never commit: a take belongs to the caller's transaction, so a use case that takes
three dishes and finds the third sold out raises, and the request's rollback gives the first two back.
Take several stocks in id order (``take_many``) so that two multi-line orders never deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, select, text, update
from sqlalchemy.orm import Mapped, mapped_column

from app.core import clock
from app.core.db import Base, IdMixin, db, fetch, prebuilt


class Stock(IdMixin, Base):
    """A finite stock of one thing, owned by a domain's object (``kind``, ``subject_id``)."""

    __tablename__ = "allocation_stocks"
    __table_args__ = (
        UniqueConstraint("kind", "subject_id"),
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )

    kind: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Allocation(IdMixin, Base):
    """One take from a stock, keyed by the taker's idempotency key; ``released_at`` once given back."""

    __tablename__ = "allocations"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    stock_id: Mapped[int] = mapped_column(ForeignKey("allocation_stocks.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    released_at: Mapped[datetime | None]


class NotEnough(Exception):
    """What ``take_many`` raises when a stock has fewer than asked (``stock_id``, ``remaining``)."""

    def __init__(self, stock_id: int, remaining: int):
        self.stock_id, self.remaining = stock_id, remaining
        super().__init__(f"stock {stock_id}: only {remaining} left")


@dataclass(frozen=True)
class Taken:
    allocation_id: int
    stock_id: int
    quantity: int
    repeated: bool  # the key had taken already: nothing more was taken now


# --- counted stock ----------------------------------------------------------------------------------------


def create_stock(*, kind: str, subject_id: int, total: int) -> Stock:
    """The stock of ``(kind, subject_id)`` with ``total`` units, all remaining."""
    if type(total) is not int or total < 0:
        raise ValueError("total must be a non-negative integer")
    stock = Stock(kind=kind, subject_id=subject_id, total=total, remaining=total)
    db.session.add(stock)
    db.session.flush()
    return stock


def set_total(stock_id: int, total: int) -> bool:
    """Change a stock's total; what is taken stays taken (``remaining`` moves by the difference). False,
    changing nothing, when fewer than what is taken (the CHECK would refuse it)."""
    result = db.session.execute(
        update(Stock).where(Stock.id == stock_id, Stock.total - Stock.remaining <= total)
        .values(remaining=Stock.remaining + (total - Stock.total), total=total)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def remaining(stock_ids: Iterable[int]) -> dict[int, int]:
    ids = list(stock_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Stock.id, Stock.remaining).where(Stock.id.in_(ids))).all())


def _existing(key: str) -> Taken | None:
    row = db.session.execute(select(Allocation.id, Allocation.stock_id, Allocation.quantity)
                             .where(Allocation.key == key)).first()
    return Taken(row.id, row.stock_id, row.quantity, repeated=True) if row is not None else None


_TAKE = prebuilt(text("""
WITH taken AS (
    UPDATE allocation_stocks SET remaining = remaining - :n
    WHERE id = :stock_id AND remaining >= :n
    RETURNING id),
written AS (
    INSERT INTO allocations (stock_id, key, quantity, created_at)
    SELECT id, :key, :n, :now FROM taken
    ON CONFLICT (key) DO NOTHING
    RETURNING id)
SELECT (SELECT count(*) FROM taken) AS decremented, (SELECT id FROM written) AS allocation_id
"""))
"""A take in one statement: the conditional update and the allocation row it writes. ``decremented`` 1
with no ``allocation_id``: the key had taken already (its units are given back by the caller)."""


def _increment(stock_id: int, n: int) -> None:
    db.session.execute(update(Stock).where(Stock.id == stock_id).values(remaining=Stock.remaining + n)
                       .execution_options(synchronize_session=False))


def take(stock_id: int, n: int, *, key: str) -> Taken | None:
    """Take ``n`` from the stock for ``key``; None (nothing written) when fewer than ``n`` remain.
    The same key again answers the first take (``repeated``) without taking more — also when two
    requests with one key race: the second waits on the key's unique index, then gives its units back.
    A first take is one statement (the conditional update and the insert, ``_TAKE``); the key is looked
    up only when it takes nothing, since a retry is the rare case."""
    if type(n) is not int or n <= 0:
        raise ValueError("n must be a positive integer")
    row = fetch(_TAKE, {"stock_id": stock_id, "n": n, "key": key, "now": clock.now()})[0]  # flushes first
    if row.allocation_id is not None:
        return Taken(row.allocation_id, stock_id, n, repeated=False)
    if row.decremented:  # the same key took before (a retry) or at this very moment: ours goes back
        _increment(stock_id, n)
    return _existing(key)  # None: too few left (a retry after the stock ran out still answers its take)


def take_many(wanted: dict[int, tuple[int, str]]) -> list[Taken]:
    """Take from several stocks (``{stock_id: (n, key)}``), in stock id order so that concurrent
    callers never deadlock; the first that has too few raises ``NotEnough`` — the caller's rollback
    gives back what was taken before it."""
    taken = []
    for stock_id in sorted(wanted):
        n, key = wanted[stock_id]
        got = take(stock_id, n, key=key)
        if got is None:
            raise NotEnough(stock_id, remaining([stock_id]).get(stock_id, 0))
        taken.append(got)
    return taken


def give_back(key: str) -> int:
    """Give back what ``key`` took, once: the quantity given back now (0: never taken, or given back
    already)."""
    row = db.session.execute(
        update(Allocation).where(Allocation.key == key, Allocation.released_at.is_(None))
        .values(released_at=clock.now()).returning(Allocation.stock_id, Allocation.quantity)
        .execution_options(synchronize_session=False)).first()
    if row is None:
        return 0
    _increment(row.stock_id, row.quantity)
    return row.quantity


# --- one unit of a kind -----------------------------------------------------------------------------------


def take_unit(model: Any, *where: Any, key: str) -> int | None:
    """One free unit of ``model`` (a table with ``id`` and a *unique* ``holder_key``; ``where`` narrows
    it to a kind: a locker's compartments of one size) held for ``key``: its id, or None when none is
    free. Concurrent takers skip each other's locked rows, so each gets a different unit; the same key
    again answers the unit it already holds (the same key raced: the unique ``holder_key`` refuses the
    second, a 409 at commit)."""
    held = db.session.scalar(select(model.id).where(model.holder_key == key))
    if held is not None:
        return held
    unit_id = db.session.scalar(select(model.id).where(model.holder_key.is_(None), *where)
                                .order_by(model.id).limit(1).with_for_update(skip_locked=True))
    if unit_id is None:
        return None
    db.session.execute(update(model).where(model.id == unit_id, model.holder_key.is_(None))
                       .values(holder_key=key).execution_options(synchronize_session=False))
    return unit_id


def release_unit(model: Any, key: str) -> int | None:
    """Free the unit ``key`` holds, once: its id, or None when it holds none (any more)."""
    return db.session.scalar(update(model).where(model.holder_key == key).values(holder_key=None)
                             .returning(model.id).execution_options(synchronize_session=False))
