"""The one source of 'now' for product logic, so tests and the demo can move time."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from flask import Flask, current_app

EXTENSION = "szzs.clock"
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def init_app(app: Flask, clock: Clock | None = None) -> None:
    app.extensions[EXTENSION] = clock or system_clock


def now(app: Flask | None = None) -> datetime:
    """Aware 'now' in the unit's time zone (Asia/Shanghai by default)."""
    app = app or current_app
    zone = ZoneInfo(app.config["TIMEZONE"])
    return app.extensions[EXTENSION]().astimezone(zone)
