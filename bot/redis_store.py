"""The Redis connection for an app: one client per process, created lazily from REDIS_URL."""
from __future__ import annotations

from flask import Flask, current_app
from redis import Redis

EXTENSION = "szzs.redis"


def init_app(app: Flask, client: Redis | None = None) -> None:
    """Attach a Redis client (given, or built from REDIS_URL on first use)."""
    app.extensions[EXTENSION] = client


def get_redis(app: Flask | None = None) -> Redis:
    """Return the app's Redis client, connecting on first use."""
    app = app or current_app
    client = app.extensions.get(EXTENSION)
    if client is None:
        url = app.config.get("REDIS_URL")
        if not url:
            raise RuntimeError("REDIS_URL is not set and no Redis client was given")
        client = Redis.from_url(url, health_check_interval=30)
        app.extensions[EXTENSION] = client
    return client
