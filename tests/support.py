"""Helpers the test modules share: races between threads, waiting for something another process does,
xlsx files to upload, and the files a local storage holds."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask
from openpyxl import Workbook

from app.core.db import db
from app.core.storage import LocalStorage


def race(calls: Sequence[Callable[..., Any]], *, app: Flask | None = None, before: Callable[[], Any] | None = None,
         timeout: float = 10) -> list:
    """Runs each of ``calls`` in a thread of its own, all let go at the same moment (a barrier), and
    returns what they returned, in the order of ``calls``.

    With ``app`` each thread works in an app context of its own (its own session and connection),
    removed at the end; the test removes its own session first (``db.session.remove()``) so that it
    holds no connection while they race. ``before``, run in each thread before the barrier, prepares
    what the call races with (a row read by both first): the call then gets what it returned. A
    thread's exception is raised here, once every thread has finished or ``timeout`` seconds passed."""
    barrier = threading.Barrier(len(calls), timeout=timeout)
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[..., Any]) -> None:
        args = (before(),) if before is not None else ()
        barrier.wait()
        results[index] = call(*args)

    def thread(index: int, call: Callable[..., Any]) -> None:
        try:
            if app is None:
                run(index, call)
                return
            with app.app_context():
                try:
                    run(index, call)
                finally:
                    db.session.remove()
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()  # the others stop waiting for this one

    threads = [threading.Thread(target=thread, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if errors:
        raise errors[0]
    assert not any(t.is_alive() for t in threads), f"a racing thread still runs after {timeout}s"
    return results


SENDERS = 12
"""Threads of a ``race_many``: what the connection pool serves at once (``DB_POOL_SIZE`` 5 + 10 overflow),
less a few for the test itself."""


def race_many(calls: Sequence[Callable[[], Any]], *, app: Flask | None = None, senders: int = SENDERS,
              timeout: float = 300) -> list:
    """Hundreds of ``calls`` at once: ``senders`` threads let go at the same moment (``race``), each making
    every ``senders``-th call in turn, so the pool's connections are all busy until the last call. A
    thread per call would mostly wait for a connection, and hundreds of threads starve the GIL enough
    for a new connection to miss its connect timeout. Returns what the calls returned, in their order."""
    results: list = [None] * len(calls)

    def sender(k: int) -> None:
        for i in range(k, len(calls), senders):
            results[i] = calls[i]()

    race([lambda k=k: sender(k) for k in range(senders)], app=app, timeout=timeout)
    return results


def wait_for(condition: Callable[[], Any], *, seconds: float = 10, every: float = 0.05) -> bool:
    """True as soon as ``condition()`` is true (an exception counts as not yet), False after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return True
        except Exception:  # "not there yet", for a poll
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)


def xlsx(rows: list[list]) -> io.BytesIO:
    """An .xlsx file of ``rows`` (the first one is the header), ready to upload."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def stored_files(storage: LocalStorage) -> list[str]:
    """Every file ``storage`` holds, as keys, sorted (a write in progress is a dot file: counted too)."""
    if not storage.root.exists():
        return []
    return sorted(str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if p.is_file())
