"""The Redis connection of the process, shared by the cache, rate limits, locks and RQ."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis


def init_redis(app: Flask) -> None:
    url = app.config.get("REDIS_URL") or ""
    app.extensions["redis"] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5) if url else None


def get_redis() -> Redis:
    conn = current_app.extensions.get("redis")
    if conn is None:
        raise RuntimeError("REDIS_URL is not set")
    return conn
