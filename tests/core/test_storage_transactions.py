"""Files that follow the database transaction (``put_in_transaction``, ``delete_after_commit``), on the
real PostgreSQL session: a rollback deletes what the transaction stored and keeps what it meant to delete;
a commit keeps what it stored and deletes what it stopped naming."""

from __future__ import annotations

from app.core.db import db
from app.core.storage import delete_after_commit, put_in_transaction


def test_a_rollback_deletes_the_new_file_and_keeps_the_old(storage):
    storage.put("old/a.jpg", b"old", "image/jpeg")
    put_in_transaction("new/b.jpg", b"new", "image/jpeg")
    delete_after_commit("old/a.jpg", None)
    assert storage.exists("new/b.jpg") and storage.exists("old/a.jpg")  # nothing decided yet
    db.session.rollback()
    assert not storage.exists("new/b.jpg") and storage.exists("old/a.jpg")
    db.session.commit()  # a later commit of the same session deletes nothing more
    assert storage.exists("old/a.jpg")


def test_a_commit_keeps_the_new_file_and_deletes_the_old(storage):
    storage.put("old/a.jpg", b"old", "image/jpeg")
    put_in_transaction("new/b.jpg", b"new", "image/jpeg")
    delete_after_commit("old/a.jpg")
    db.session.commit()
    assert storage.exists("new/b.jpg") and not storage.exists("old/a.jpg")
    db.session.rollback()  # a later rollback deletes nothing the commit kept
    assert storage.exists("new/b.jpg")


def test_a_savepoint_rolled_back_leaves_the_decision_to_the_transaction(storage):
    db.session.begin()
    with db.session.begin_nested() as savepoint:
        put_in_transaction("new/b.jpg", b"new", "image/jpeg")
        savepoint.rollback()
    assert storage.exists("new/b.jpg")
    db.session.rollback()
    assert not storage.exists("new/b.jpg")
