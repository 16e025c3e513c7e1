"""A link to PostgreSQL that a test can freeze: what a stuck server looks like from the application.

``FrozenLink(database_url)`` relays TCP connections on a local port to the server of
``database_url`` (TCP or Unix socket); ``url`` is the same database through the link. ``freeze()``
stops relaying without closing anything: connections stay open and nothing answers, as when the
server's processes are stopped or the network drops packets. ``thaw()`` relays again.

``answered_within(seconds, call, unstick=…)`` fails a test whose call waits for such a server.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import make_url


class FrozenLink:
    def __init__(self, database_url: str):
        url = make_url(database_url)
        host = url.query.get("host") or url.host or "127.0.0.1"
        if host.startswith("/"):
            self._target: tuple[int, object] = (socket.AF_UNIX, f"{host}/.s.PGSQL.{url.port or 5432}")
        else:
            self._target = (socket.AF_INET, (host, url.port or 5432))
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        query = {k: v for k, v in url.query.items() if k != "host"}
        self.url = url.set(host="127.0.0.1", port=port, query=query).render_as_string(hide_password=False)
        self._relaying = threading.Event()
        self._relaying.set()
        self._closed = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self._relaying.clear()

    def thaw(self) -> None:
        self._relaying.set()

    def close(self) -> None:
        self._closed = True
        self._relaying.set()
        for sock in [self._listener, *self._sockets]:
            try:
                sock.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.socket(self._target[0], socket.SOCK_STREAM)
            server.connect(self._target[1])
            self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._relay, args=(a, b), daemon=True).start()

    def _relay(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while not self._closed:
                self._relaying.wait()
                if not select.select([source], [], [], 0.05)[0]:
                    continue
                self._relaying.wait()  # frozen between the poll and the read: hold the bytes
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def answered_within(seconds: float, call: Callable[[], Any], *, unstick: Callable[[], None]) -> Any:
    """``call()`` in a thread; its result, or a failure if it has not returned within ``seconds`` (then
    ``unstick()`` lets it finish so that nothing outlives the test)."""
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.update(result=call()), daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        unstick()
        thread.join(60)
        pytest.fail(f"no answer within {seconds:.0f} s: the request waited for the database")
    return box["result"]
