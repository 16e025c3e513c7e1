"""Serving a simulator app: a threaded werkzeug server whose access log hides query strings."""

from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _PathOnlyRequestHandler(WSGIRequestHandler):
    """Access-log lines without the query string: it carries app secrets and access tokens.
    HTTP/1.1 so that clients keep their connection open, as they do with WeChat's servers."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s %s" %s %s', self.command, path, self.request_version, code, size)


def make_simulator_server(app: Flask, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """A threaded werkzeug server (one process, many requests) whose access log hides query strings."""
    return make_server(host, port, app, threaded=True, request_handler=_PathOnlyRequestHandler)


class SimulatorServer:
    """Serves a simulator app from a background thread (tests, an embedded dev setup)."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = make_simulator_server(app, host, port)
        self.base_url = f"http://{host}:{self._server.server_port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="wechat-simulator", daemon=True)

    def start(self) -> SimulatorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
