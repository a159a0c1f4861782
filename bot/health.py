"""Liveness and readiness: /healthz answers when the process is up, /readyz when Redis and SQL answer."""
from flask import Blueprint, jsonify
from sqlalchemy import text

from bot import db, redis_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(ok=True)


@bp.get("/readyz")
def readyz():
    checks = {}
    try:
        checks["redis"] = bool(redis_store.get_redis().ping())
    except Exception:  # noqa: BLE001 - readiness reports, it never raises
        checks["redis"] = False
    try:
        db.get_session().execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # noqa: BLE001
        checks["database"] = False
    return jsonify(ok=all(checks.values()), **checks), (200 if all(checks.values()) else 503)
