"""A merchant's notification endpoint for tests: records what WeChat Pay posts, answers as told."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class NotifySink:
    """An HTTP server on a free port; every POST is recorded and answered with the next queued status
    (204 when none is queued)."""

    def __init__(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with sink._lock:
                    sink.received.append(Received(self.path, dict(self.headers.items()), body))
                    status = sink._statuses.popleft() if sink._statuses else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}/api/v1/payments/wechat/notify"
        self.received: list[Received] = []
        self._statuses: deque[int] = deque()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._server.serve_forever, name="notify-sink", daemon=True)

    def __enter__(self) -> NotifySink:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self._statuses.clear()

    def answer(self, *statuses: int) -> None:
        """Answer the next posts with these statuses, in order (then 204 again)."""
        with self._lock:
            self._statuses.extend(statuses)

    def wait(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The first ``count`` posts, once they have arrived; ``AssertionError`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received[:count])
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} notifications arrived, {count} expected")
