"""The allocation primitive: a counted stock never goes below zero under a real race, a retried take or a
second give-back changes nothing, and the unit form hands each taker a different free unit."""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, String, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core import allocation
from app.core.db import commit_scope, db
from tests.support import race


def _stock(total: int, subject_id: int = 1) -> int:
    with commit_scope():
        return allocation.create_stock(kind="test.thing", subject_id=subject_id, total=total).id


def _left(stock_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(allocation.Stock.remaining).where(allocation.Stock.id == stock_id))


def test_thirty_takers_of_the_last_ten_units_get_exactly_ten(app):
    stock_id = _stock(10)
    db.session.remove()

    def taker(i):
        def call():
            with commit_scope():
                return allocation.take(stock_id, 1, key=f"k{i}")
        return call

    results = race([taker(i) for i in range(30)], app=app)
    assert sum(r is not None for r in results) == 10
    assert _left(stock_id) == 0
    assert db.session.scalar(select(db.func.count()).select_from(allocation.Allocation)) == 10


def test_a_take_of_more_than_remains_takes_nothing(app):
    stock_id = _stock(3)
    with commit_scope():
        assert allocation.take(stock_id, 4, key="big") is None
    assert _left(stock_id) == 3


def test_a_retried_take_with_the_same_key_takes_once(app):
    stock_id = _stock(5)
    with commit_scope():
        first = allocation.take(stock_id, 2, key="order-1")
    with commit_scope():
        again = allocation.take(stock_id, 2, key="order-1")
    assert not first.repeated and again.repeated and again.allocation_id == first.allocation_id
    assert _left(stock_id) == 3


def test_a_retried_take_after_the_stock_ran_out_still_answers_its_take(app):
    stock_id = _stock(2)
    with commit_scope():
        first = allocation.take(stock_id, 2, key="last-two")
    with commit_scope():
        again = allocation.take(stock_id, 2, key="last-two")
        other = allocation.take(stock_id, 1, key="someone-else")
    assert again.repeated and again.allocation_id == first.allocation_id and again.quantity == 2
    assert other is None and _left(stock_id) == 0


def test_the_same_key_raced_takes_once(app):
    stock_id = _stock(5)
    db.session.remove()

    def call():
        with commit_scope():
            return allocation.take(stock_id, 2, key="tap")

    results = race([call] * 8, app=app)
    assert len({r.allocation_id for r in results}) == 1 and _left(stock_id) == 3


def test_giving_back_twice_gives_back_once(app):
    stock_id = _stock(5)
    with commit_scope():
        allocation.take(stock_id, 2, key="order-2")
    with commit_scope():
        assert allocation.give_back("order-2") == 2
    with commit_scope():
        assert allocation.give_back("order-2") == 0
        assert allocation.give_back("never-taken") == 0
    assert _left(stock_id) == 5


def test_racing_give_backs_give_back_once(app):
    stock_id = _stock(5)
    with commit_scope():
        allocation.take(stock_id, 3, key="order-3")
    db.session.remove()

    def call():
        with commit_scope():
            return allocation.give_back("order-3")

    assert sorted(race([call] * 6, app=app)) == [0, 0, 0, 0, 0, 3]
    assert _left(stock_id) == 5


def test_take_many_fails_whole_when_one_stock_is_short(app):
    a, b = _stock(5), _stock(1, subject_id=2)
    with pytest.raises(allocation.NotEnough) as short, commit_scope():
        allocation.take_many({a: (2, "x:a"), b: (2, "x:b")})
    assert short.value.stock_id == b and short.value.remaining == 1
    assert _left(a) == 5 and _left(b) == 1  # the rollback gave the first take back


def test_the_database_refuses_a_negative_stock(app):
    stock_id = _stock(1)
    with pytest.raises(IntegrityError), commit_scope():
        db.session.execute(text("UPDATE allocation_stocks SET remaining = -1 WHERE id = :id"), {"id": stock_id})


def test_a_total_below_what_is_taken_is_refused(app):
    stock_id = _stock(5)
    with commit_scope():
        allocation.take(stock_id, 4, key="t")
    with commit_scope():
        assert not allocation.set_total(stock_id, 3)
        assert allocation.set_total(stock_id, 8)
    assert _left(stock_id) == 4


class _TestBase(DeclarativeBase):
    """Its own metadata: the tiny table of units is not the application's (no migration, no truncate)."""


class _Unit(_TestBase):
    """A table of units as a domain has them (a locker's compartments): ``id``, a kind, ``holder_key``."""

    __tablename__ = "test_allocation_units"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    size: Mapped[str] = mapped_column(String(1))
    holder_key: Mapped[str | None] = mapped_column(String(120), unique=True)


_units = _Unit.__table__
_units_meta = _TestBase.metadata


@pytest.fixture
def units(app):
    with db.engine.begin() as conn:
        _units_meta.drop_all(conn)
        _units_meta.create_all(conn)
        conn.execute(_units.insert(), [{"id": i, "size": "S" if i <= 6 else "L"} for i in range(1, 9)])
    yield _Unit
    with db.engine.begin() as conn:
        _units_meta.drop_all(conn)


def _take_unit(key: str, size: str = "S"):
    with commit_scope():
        return allocation.take_unit(_Unit, _Unit.size == size, key=key)


def test_concurrent_takers_each_get_a_different_unit_of_the_kind(app, units):
    db.session.remove()
    got = race([lambda i=i: _take_unit(f"parcel-{i}") for i in range(10)], app=app)
    held = [g for g in got if g is not None]
    assert len(held) == 6 and len(set(held)) == 6 and set(held) == {1, 2, 3, 4, 5, 6}


def test_the_same_key_holds_one_unit_and_releases_it_once(app, units):
    first = _take_unit("p1")
    assert _take_unit("p1") == first
    with commit_scope():
        assert allocation.release_unit(_Unit, "p1") == first
    with commit_scope():
        assert allocation.release_unit(_Unit, "p1") is None
    assert _take_unit("p2") == first  # free again
